//! The analysis: turns a still and/or a video into the contract's verdict, with evidence.
//!
//! Every entry point (HTTP server, CLI `check`, batch runner, evaluation harness) calls
//! [`Analyse::analyse`], so they cannot drift apart. Data flows one way:
//! bytes → media → faces → signals ([`pad`], [`blink`], [`planarity`], [`facematch`]) →
//! [`fusion`] → [`decide::decide`] → [`Analysis`]; the contract's bodies ([`LivenessReport`],
//! `/v2`'s blocks) are views of the [`Analysis`] built at the edge.

pub mod analyse;
pub mod analysis;
pub mod analyzer;
pub mod blink;
pub mod challenge;
pub mod comparison;
pub mod decide;
pub mod eye_track;
pub mod face_pick;
pub mod facematch;
pub mod findings;
pub mod fusion;
pub mod models;
pub mod one_thread;
pub mod operating_point;
pub mod options;
pub mod pad;
pub mod planarity;
pub mod policy;
pub mod report;
pub mod request;
pub mod still;
mod thinned;
pub mod video;

pub use analyse::{Analyse, AnalysisError, Judging};
pub use analysis::{Analysis, Mode, Reason};
pub use analyzer::Analyzer;
pub use comparison::Comparison;
pub use decide::{Decision, Signals, Verdict, decide};
pub use models::Models;
pub use operating_point::{OperatingPoint, OperatingPointError};
pub use options::{AnalysisOptions, ImageType, OptionError};
pub use report::{FacematchReport, LivenessReport};
pub use request::{AnalysisRequest, MediaField};
