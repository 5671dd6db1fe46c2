//! Thin handlers: extract, validate, run on the worker pool, map.

pub mod batches;
pub mod facematch;
pub mod health;
pub mod liveness;
pub mod v2;
