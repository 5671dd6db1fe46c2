//! The analysis: turns a still and/or a video into the contract's verdict, with evidence.
//!
//! Every entry point (HTTP server, CLI `check`, batch runner, evaluation harness) calls
//! [`Analyse::analyse`], so they cannot drift apart.

pub mod analyse;
pub mod options;
pub mod report;
pub mod request;

pub use analyse::{Analyse, AnalysisError, FacematchReport};
pub use options::{AnalysisOptions, ImageType, OptionError};
pub use report::LivenessReport;
pub use request::{AnalysisRequest, MediaField};
