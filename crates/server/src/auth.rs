//! The extractor that admits a caller: a valid bearer token, then the caller's rate limit.
//! Both run on headers alone, before a byte of the (possibly large) body is read.

use crate::app::AppState;
use crate::config::Auth;
use crate::error::ApiError;
use crate::jwt::AuthError;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

/// Proof that the caller was admitted; its `sub` is recorded on the request span.
#[derive(Debug, Clone)]
pub struct Caller;

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let sub = match &state.auth {
            Auth::Disabled => String::new(),
            Auth::Jwt(verifier) => {
                let token = bearer(parts).map_err(|e| ApiError::unauthorized(&e))?;
                match verifier.verify(token) {
                    Ok(p) => p.sub,
                    Err(e) => {
                        tracing::info!(reason = %e, "token refused");
                        return Err(ApiError::unauthorized(&e));
                    }
                }
            }
        };
        if let Some(limiter) = &state.limiter
            && let Err(wait) = limiter.check(&sub)
        {
            tracing::info!(sub = %sub, "rate limited");
            return Err(ApiError::rate_limited(wait));
        }
        tracing::Span::current().record("sub", sub.as_str());
        Ok(Caller)
    }
}

fn bearer(parts: &Parts) -> Result<&str, AuthError> {
    let value = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or(AuthError::Missing)?
        .to_str()
        .map_err(|_| AuthError::Malformed)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(AuthError::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthError::Malformed);
    }
    Ok(token.trim())
}
