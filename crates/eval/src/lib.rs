//! `livegate eval`: ISO/IEC 30107-3 metrics of the API's own analysis on labelled data.

pub mod calibrate;
pub mod interval;
pub mod loso;
pub mod manifest;
pub mod metrics;
pub mod plots;
pub mod report;
pub mod review;
pub mod runner;
pub mod species;

pub use manifest::{Class, Item, Kind};
pub use report::Report;
