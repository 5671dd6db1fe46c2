//! The extractor that admits a caller: a valid bearer token, then the caller's rate limit.
//! Both run on headers alone, before a byte of the (possibly large) body is read.
//!
//! Failed authentications are rate-limited per peer address: past the budget the answer is a
//! cheap 429 without a log line, so a token-guessing loop can neither flood the log nor keep a
//! core busy verifying signatures.

use crate::app::AppState;
use crate::config::Auth;
use crate::error::ApiError;
use crate::jwt::{AdminReach, AuthError};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jobs::{Access, Owner};
use std::net::SocketAddr;

/// An admitted caller: who it is (the owner of what it stores: issuer, tenant, `sub`) and how
/// far its admin scope reaches, if it holds it. Its `sub` is recorded on the request span.
#[derive(Debug, Clone)]
pub struct Caller {
    pub owner: Owner,
    pub admin: Option<AdminReach>,
}

impl Caller {
    /// What this caller reaches among stored jobs.
    pub fn access(&self) -> Access {
        match self.admin {
            None => Access::Owner(self.owner.clone()),
            Some(AdminReach::OwnTenant) => Access::Tenant {
                issuer: self.owner.issuer.clone(),
                tenant: self.owner.tenant.clone(),
            },
            Some(AdminReach::AllTenants) => Access::Admin,
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let caller = match &state.auth {
            Auth::Disabled => Caller {
                owner: Owner::new("", ""),
                admin: None,
            },
            Auth::Jwt(verifier) => match bearer(parts).and_then(|token| verifier.verify(token)) {
                Ok(p) => Caller {
                    owner: Owner::new(p.tenant, p.sub).issued_by(p.issuer.unwrap_or_default()),
                    admin: p.admin.then(|| verifier.admin_reach()),
                },
                Err(e) => return Err(refused(parts, state, &e)),
            },
        };
        let sub = caller.owner.sub.as_str();
        if let Some(limiter) = &state.limiter
            && let Err(wait) = limiter.check(&caller.owner)
        {
            tracing::info!(sub = %sub, "rate limited");
            return Err(ApiError::rate_limited(wait));
        }
        tracing::Span::current().record("sub", sub);
        Ok(caller)
    }
}

/// 401, or 429 once the peer is past its budget of failed authentications.
fn refused(parts: &Parts, state: &AppState, err: &AuthError) -> ApiError {
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let (Some(ip), Some(limiter)) = (peer, &state.auth_failures)
        && let Err(wait) = limiter.check(&ip)
    {
        return ApiError::auth_rate_limited(wait);
    }
    tracing::info!(reason = %err, "token refused");
    ApiError::unauthorized(err)
}

fn bearer(parts: &Parts) -> Result<&str, AuthError> {
    let mut values = parts.headers.get_all(AUTHORIZATION).iter();
    let value = values.next().ok_or(AuthError::Missing)?;
    // Two credentials in one request: which one a proxy on the way read is anyone's guess.
    if values.next().is_some() {
        return Err(AuthError::Repeated);
    }
    let value = value.to_str().map_err(|_| AuthError::Malformed)?;
    let value = value.trim();
    let (scheme, token) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Scheme);
    }
    if token.trim().is_empty() {
        return Err(AuthError::Missing);
    }
    Ok(token.trim())
}
