//! The analysis: turns a still and/or a video into the contract's verdict, with evidence.
//!
//! Every entry point (HTTP server, CLI `check`, batch runner, evaluation harness) calls
//! [`Analyzer::analyse`], so they cannot drift apart.

pub mod options;
pub mod report;
pub mod request;

pub use options::{AnalysisOptions, OptionError};
pub use report::LivenessReport;
pub use request::{AnalysisRequest, MediaField};
