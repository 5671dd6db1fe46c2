//! The HTTP shell around the analysis.
//!
//! Handlers only extract, validate, hand the work to the bounded worker pool and map the
//! outcome; every error becomes the contract's envelope in [`error`], and nothing here knows how
//! a verdict is reached (that is the `liveness` crate behind [`liveness::Analyse`]).

mod app;
mod audit;
mod auth;
pub mod challenge_token;
pub mod config;
pub mod error;
pub mod jwt;
mod key_pem;
mod listener;
mod metrics;
mod multipart;
pub mod openapi;
mod rate_limit;
mod request_id;
mod routes;
mod turns;
mod upload_pace;
mod workers;

pub use app::{AppState, Extensions, mounted_routes, router, serve, shutdown_signal};
pub use config::{Auth, Config, MinRate, RateLimit};
pub use jwt::{AuthError, MintOptions, SigningKey, Verifier, mint};
pub use routes::v2::LivenessV2;
