//! JSON values whose floats read as the API writes them.
//!
//! `serde_json::to_value` widens an `f32` to `f64`, so a threshold of 0.6 is stored and shown as
//! 0.6000000238418579. Going through text keeps serde's shortest `f32` form, the one
//! `POST /liveness` answers with; the archive, the progress body and `summary.json` must read
//! like the API.

use serde::Serialize;
use serde_json::Value;

pub fn exact_json<T: Serialize>(v: &T) -> Result<Value, serde_json::Error> {
    serde_json::to_string(v).and_then(|s| serde_json::from_str(&s))
}
