//! Bearer tokens: verification for the server and minting for `livegate token`.
//!
//! The key is chosen by the token's `alg` *family* from keys configured for that family only, so
//! an RSA public key can never be used as an HMAC secret (algorithm confusion), and `alg: none`
//! does not parse at all.

use crate::key_pem::{self, PrivateKey, PublicKind};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// HMAC secrets shorter than this are guessable offline from any token.
pub const MIN_HS256_SECRET_LEN: usize = 32;

/// Why a token was refused. Every variant is a 401; the text tells the client which.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing bearer token")]
    Missing,
    #[error("malformed token")]
    Malformed,
    #[error("the Authorization header must read `Bearer <token>`")]
    Scheme,
    #[error(
        "token claims unreadable: exp, nbf and iat must be numbers (seconds since the epoch), sub a string"
    )]
    Claims,
    #[error("token algorithm not accepted")]
    Algorithm,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("invalid token signature")]
    Signature,
    #[error("token issuer not accepted")]
    Issuer,
    #[error("token issuer is not the one its signing key belongs to")]
    KeyIssuer,
    #[error("token audience not accepted")]
    Audience,
    #[error("token lacks required claim {0}")]
    MissingClaim(String),
    #[error("token issued in the future")]
    IssuedInFuture,
    #[error("token lifetime exceeds the accepted maximum")]
    LifetimeTooLong,
    #[error("token names a critical header extension this server does not understand")]
    UnknownCritical,
    #[error("token claim {0} must be a non-empty string or an integer (the tenant)")]
    Tenant(String),
    #[error("send one Authorization header, not several")]
    Repeated,
    #[error(
        "token claim {0} must be at most 256 characters without control or invisible characters (it names the owner in stored data and logs)"
    )]
    Unprintable(String),
}

/// Longest `sub` or tenant accepted: both are written into every audit line and stored row.
const MAX_IDENTITY_CHARS: usize = 256;

/// Refuses an identity a log line or a stored row could not carry faithfully: a newline in
/// `sub` would forge lines in text logs, and 100,000 characters would be copied into each one.
fn printable_identity(claim: &str, value: String) -> Result<String, AuthError> {
    // Besides control characters: line and paragraph separators, and the invisible and
    // direction-changing marks (U+200B–U+200F, U+202A–U+202E, U+2066–U+2069, U+FEFF) that make
    // a log line read differently from what it holds.
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
    };
    if value.chars().count() > MAX_IDENTITY_CHARS || value.chars().any(hidden) {
        return Err(AuthError::Unprintable(claim.to_owned()));
    }
    Ok(value)
}

/// The tenant a token names in `claim`. Required once a tenant claim is configured, and taken
/// only as a string or an integer: reading anything else as "no tenant" would put every such
/// token — tenant `1001` and tenant `2002` alike — in one shared namespace.
fn tenant_of(claim: &str, value: Option<&serde_json::Value>) -> Result<String, AuthError> {
    use serde_json::Value;
    let tenant = match value {
        None | Some(Value::Null) => return Err(AuthError::MissingClaim(claim.to_owned())),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) if n.is_i64() || n.is_u64() => n.to_string(),
        Some(_) => return Err(AuthError::Tenant(claim.to_owned())),
    };
    if tenant.trim().is_empty() {
        return Err(AuthError::MissingClaim(claim.to_owned()));
    }
    Ok(tenant)
}

/// Whose stored jobs a token with the admin scope reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminReach {
    /// Every client of the administrator's own tenant and issuer (the default: on a server of
    /// several tenants, one tenant's administrator is not another's).
    OwnTenant,
    /// Every client's (`--admin-across-tenants`): the operator of the whole server.
    AllTenants,
}

/// The verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's `sub`; never empty.
    pub sub: String,
    /// The configured tenant claim's value, "" when none is configured or the token has none.
    pub tenant: String,
    /// The token carries the configured admin scope.
    pub admin: bool,
    /// The token's `iss` when the server names the issuers it accepts (then it is one of them):
    /// a `sub` is unique only within its issuer, so the issuer is part of who owns what.
    pub issuer: Option<String>,
}

#[derive(Deserialize)]
struct VerifiedClaims {
    #[serde(default)]
    sub: Option<String>,
    #[serde(default)]
    iat: Option<u64>,
    /// Required (`validation`); optional here so that a token without it is answered
    /// "lacks required claim exp" by the check rather than "malformed" by the parse.
    #[serde(default)]
    exp: Option<u64>,
    /// Everything else, for the configurable tenant claim and scopes.
    #[serde(flatten)]
    other: serde_json::Map<String, serde_json::Value>,
}

struct Key {
    kid: Option<String>,
    key: DecodingKey,
    /// The one issuer this key may sign for (`--jwt-issuer-jwks`); `None`: any accepted one.
    issuer: Option<String>,
}

/// The keys and claim rules the server accepts.
pub struct Verifier {
    hs256: Vec<Key>,
    rs256: Vec<Key>,
    es256: Vec<Key>,
    issuers: Vec<String>,
    audiences: Vec<String>,
    leeway: u64,
    max_lifetime: u64,
    tenant_claim: Option<String>,
    admin_scope: Option<String>,
    admin_reach: AdminReach,
}

/// A token valid longer than this is a credential nobody can revoke in practice.
pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

impl Default for Verifier {
    fn default() -> Self {
        Self::new(Duration::from_secs(30))
    }
}

impl Verifier {
    /// `leeway` is the clock skew tolerated on `exp` and `nbf`.
    pub fn new(leeway: Duration) -> Self {
        Self {
            hs256: Vec::new(),
            rs256: Vec::new(),
            es256: Vec::new(),
            issuers: Vec::new(),
            audiences: Vec::new(),
            leeway: leeway.as_secs(),
            max_lifetime: DEFAULT_MAX_LIFETIME.as_secs(),
            tenant_claim: None,
            admin_scope: None,
            admin_reach: AdminReach::OwnTenant,
        }
    }

    /// Refuse tokens whose `exp` lies more than this after their `iat` (or after now, for a
    /// token without `iat`).
    pub fn max_lifetime(&mut self, max: Duration) {
        self.max_lifetime = max.as_secs();
    }

    /// Read the owner's tenant from this claim (a string); stored jobs are then separated by
    /// tenant as well as by `sub`.
    pub fn tenant_claim(&mut self, claim: impl Into<String>) {
        self.tenant_claim = Some(claim.into());
    }

    /// Tokens whose `scope` or `scp` (a space-separated string or an array) holds this value may list and
    /// erase every client's stored jobs. Off unless configured. A blank scope is refused: an
    /// unset variable in an env file would otherwise make every token with an empty `scp`
    /// entry an administrator.
    pub fn admin_scope(&mut self, scope: impl Into<String>) -> anyhow::Result<()> {
        let scope = scope.into();
        anyhow::ensure!(
            !scope.trim().is_empty() && !scope.contains(char::is_whitespace),
            "the admin scope must be one non-empty word without spaces (got {scope:?})"
        );
        self.admin_scope = Some(scope);
        Ok(())
    }

    /// Lets the admin scope reach every tenant's and every issuer's jobs; without it an
    /// administrator reaches those of their own tenant and issuer only.
    pub fn admin_across_tenants(&mut self) {
        self.admin_reach = AdminReach::AllTenants;
    }

    pub fn admin_reach(&self) -> AdminReach {
        self.admin_reach
    }

    pub fn add_hs256_secret(&mut self, secret: &[u8]) -> anyhow::Result<()> {
        anyhow::ensure!(
            secret.len() >= MIN_HS256_SECRET_LEN,
            "HS256 secret must be at least {MIN_HS256_SECRET_LEN} bytes"
        );
        self.hs256.push(Key {
            kid: None,
            key: DecodingKey::from_secret(secret),
            issuer: None,
        });
        Ok(())
    }

    /// An RSA (RS256, at least 2048 bits) or EC P-256 (ES256) public key in PEM; the kind is
    /// read from the key.
    pub fn add_public_key_pem(&mut self, pem: &[u8]) -> anyhow::Result<()> {
        match key_pem::public_key(pem)? {
            PublicKind::Rsa => self.rs256.push(Key {
                kid: None,
                key: DecodingKey::from_rsa_pem(pem)?,
                issuer: None,
            }),
            PublicKind::EcP256 => self.es256.push(Key {
                kid: None,
                key: DecodingKey::from_ec_pem(pem)?,
                issuer: None,
            }),
        }
        Ok(())
    }

    /// Every RS256/ES256 key of a JWKS document; returns how many were taken. Keys are matched
    /// by `kid` when the token names one.
    pub fn add_jwks(&mut self, json: &str) -> anyhow::Result<usize> {
        self.add_jwks_of(json, None)
    }

    /// The keys of one identity provider's JWKS, which sign for `issuer` only (it is accepted
    /// as by [`Self::require_issuer`]). Owners are (issuer, tenant, sub): a key that could name
    /// any accepted issuer would let one provider speak for another's clients.
    pub fn add_issuer_jwks(&mut self, issuer: &str, json: &str) -> anyhow::Result<usize> {
        anyhow::ensure!(!issuer.trim().is_empty(), "the issuer must not be blank");
        let taken = self.add_jwks_of(json, Some(issuer))?;
        if !self.issuers.iter().any(|i| i == issuer) {
            self.require_issuer(issuer);
        }
        Ok(taken)
    }

    /// Keys that may sign for any accepted issuer (not bound to one).
    pub fn unbound_keys(&self) -> usize {
        [&self.hs256, &self.rs256, &self.es256]
            .iter()
            .flat_map(|keys| keys.iter())
            .filter(|k| k.issuer.is_none())
            .count()
    }

    fn add_jwks_of(&mut self, json: &str, issuer: Option<&str>) -> anyhow::Result<usize> {
        let set: JwkSet = serde_json::from_str(json)?;
        let mut taken = 0;
        for jwk in &set.keys {
            let kid = jwk.common.key_id.clone();
            if let jsonwebtoken::jwk::AlgorithmParameters::RSA(rsa) = &jwk.algorithm {
                key_pem::rsa_modulus_long_enough(&rsa.n)
                    .map_err(|e| anyhow::anyhow!("key {:?}: {e}", kid.as_deref().unwrap_or("")))?;
            }
            let key = Key {
                kid,
                key: DecodingKey::from_jwk(jwk)?,
                issuer: issuer.map(str::to_owned),
            };
            match key.key.family() {
                jsonwebtoken::AlgorithmFamily::Rsa => self.rs256.push(key),
                jsonwebtoken::AlgorithmFamily::Ec => self.es256.push(key),
                _ => continue,
            }
            taken += 1;
        }
        anyhow::ensure!(taken > 0, "the JWKS holds no RSA or EC key");
        Ok(taken)
    }

    /// Require `iss` to be one of these (and present) once any is given.
    pub fn require_issuer(&mut self, iss: impl Into<String>) {
        self.issuers.push(iss.into());
    }

    /// Require `aud` to contain one of these (and be present) once any is given.
    pub fn require_audience(&mut self, aud: impl Into<String>) {
        self.audiences.push(aud.into());
    }

    pub fn has_keys(&self) -> bool {
        !(self.hs256.is_empty() && self.rs256.is_empty() && self.es256.is_empty())
    }

    pub fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthError::Malformed)?;
        // RFC 7515 §4.1.11: a recipient must reject a token whose `crit` names an extension it
        // does not implement, and this server implements none.
        if header.crit.is_some() {
            return Err(AuthError::UnknownCritical);
        }
        let keys = match header.alg {
            Algorithm::HS256 => &self.hs256,
            Algorithm::RS256 => &self.rs256,
            Algorithm::ES256 => &self.es256,
            _ => return Err(AuthError::Algorithm),
        };
        if keys.is_empty() {
            return Err(AuthError::Algorithm);
        }
        let validation = self.validation(header.alg);
        let named = header.kid.as_deref();
        let mut last = AuthError::Signature;
        for k in keys {
            if let (Some(want), Some(have)) = (named, k.kid.as_deref())
                && want != have
            {
                continue;
            }
            match jsonwebtoken::decode::<VerifiedClaims>(token, &k.key, &validation) {
                Ok(data) => {
                    let iss = data.claims.other.get("iss").and_then(|v| v.as_str());
                    if k.issuer.as_deref().is_some_and(|bound| iss != Some(bound)) {
                        return Err(AuthError::KeyIssuer);
                    }
                    return self.principal(data.claims);
                }
                Err(e) => {
                    last = map_error(e.kind());
                    // Only a signature mismatch means "try the next key"; anything else was
                    // decided after the signature verified.
                    if last != AuthError::Signature {
                        return Err(last);
                    }
                }
            }
        }
        Err(last)
    }

    /// The profile checks that follow a valid signature.
    fn principal(&self, claims: VerifiedClaims) -> Result<Principal, AuthError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let sub = claims
            .sub
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| AuthError::MissingClaim("sub".into()))?;
        let sub = printable_identity("sub", sub)?;
        if claims
            .iat
            .is_some_and(|iat| iat > now.saturating_add(self.leeway))
        {
            return Err(AuthError::IssuedInFuture);
        }
        let exp = claims
            .exp
            .ok_or_else(|| AuthError::MissingClaim("exp".into()))?;
        let start = claims.iat.unwrap_or(now).min(now);
        if exp.saturating_sub(start) > self.max_lifetime.saturating_add(self.leeway) {
            return Err(AuthError::LifetimeTooLong);
        }
        let tenant = match &self.tenant_claim {
            None => String::new(),
            Some(claim) => printable_identity(claim, tenant_of(claim, claims.other.get(claim))?)?,
        };
        // Identity providers write scopes either way: RFC 8693 a space-separated `scope`
        // string, others an `scp` array, Azure AD an `scp` string; each claim is read in both.
        let holds = |claim: &str, want: &str| match claims.other.get(claim) {
            Some(serde_json::Value::String(s)) => s.split_whitespace().any(|x| x == want),
            Some(serde_json::Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(want)),
            _ => false,
        };
        let admin = self
            .admin_scope
            .as_ref()
            .is_some_and(|want| holds("scope", want) || holds("scp", want));
        let issuer = claims
            .other
            .get("iss")
            .and_then(|v| v.as_str())
            .filter(|iss| self.issuers.iter().any(|known| known == iss))
            .map(str::to_owned);
        Ok(Principal {
            sub,
            tenant,
            admin,
            issuer,
        })
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        v.leeway = self.leeway;
        v.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        if self.issuers.is_empty() {
            v.iss = None;
        } else {
            v.set_issuer(&self.issuers);
            required.push("iss");
        }
        if self.audiences.is_empty() {
            // Without a configured audience any `aud` is acceptable: the operator did not ask.
            v.validate_aud = false;
        } else {
            v.set_audience(&self.audiences);
            required.push("aud");
        }
        v.set_required_spec_claims(&required);
        v
    }
}

fn map_error(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidSignature => AuthError::Signature,
        ErrorKind::InvalidIssuer => AuthError::Issuer,
        ErrorKind::InvalidAudience => AuthError::Audience,
        ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => AuthError::Algorithm,
        ErrorKind::MissingRequiredClaim(c) => AuthError::MissingClaim(c.clone()),
        ErrorKind::Json(_) => AuthError::Claims,
        _ => AuthError::Malformed,
    }
}

/// The private half used by `livegate token`.
pub enum SigningKey {
    Hs256(Vec<u8>),
    /// PKCS#1 or PKCS#8 RSA private key, PEM.
    Rs256Pem(Vec<u8>),
    /// PKCS#8 EC P-256 private key, PEM.
    Es256Pem(Vec<u8>),
}

impl SigningKey {
    /// An RSA (at least 2048 bits) or EC P-256 private key in PEM (PKCS#1, PKCS#8 or
    /// OpenSSL's SEC1 "EC PRIVATE KEY"); the algorithm follows from the key.
    pub fn from_private_pem(pem: Vec<u8>) -> anyhow::Result<Self> {
        Ok(match key_pem::private_key(&pem)? {
            PrivateKey::Rsa(pem) => Self::Rs256Pem(pem),
            PrivateKey::EcP256(pem) => Self::Es256Pem(pem),
        })
    }
}

#[derive(Debug, Clone)]
pub struct MintOptions {
    pub sub: String,
    pub ttl: Duration,
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub kid: Option<String>,
}

#[derive(Serialize)]
struct MintedClaims<'a> {
    sub: &'a str,
    iat: u64,
    nbf: u64,
    exp: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
}

/// A token for `opts.sub`, valid from now for `opts.ttl`.
pub fn mint(key: &SigningKey, opts: &MintOptions) -> anyhow::Result<String> {
    anyhow::ensure!(!opts.sub.trim().is_empty(), "a token needs a non-empty sub");
    // The verifier's own rule: a token it would refuse is not minted.
    printable_identity("sub", opts.sub.clone())?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let (alg, enc) = match key {
        SigningKey::Hs256(secret) => {
            anyhow::ensure!(
                secret.len() >= MIN_HS256_SECRET_LEN,
                "HS256 secret must be at least {MIN_HS256_SECRET_LEN} bytes"
            );
            (Algorithm::HS256, EncodingKey::from_secret(secret))
        }
        SigningKey::Rs256Pem(pem) => (Algorithm::RS256, EncodingKey::from_rsa_pem(pem)?),
        SigningKey::Es256Pem(pem) => (Algorithm::ES256, EncodingKey::from_ec_pem(pem)?),
    };
    let mut header = Header::new(alg);
    header.kid = opts.kid.clone();
    let claims = MintedClaims {
        sub: &opts.sub,
        iat: now,
        nbf: now,
        exp: now.saturating_add(opts.ttl.as_secs()),
        iss: opts.issuer.as_deref(),
        aud: opts.audience.as_deref(),
    };
    Ok(jsonwebtoken::encode(&header, &claims, &enc)?)
}
