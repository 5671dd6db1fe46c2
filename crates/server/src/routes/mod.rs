//! Thin handlers: extract, validate, run on the worker pool, map.

pub mod batches;
pub mod challenges;
pub mod facematch;
mod flow;
pub mod health;
pub mod liveness;
pub mod v2;
