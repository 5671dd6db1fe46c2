//! Challenge ids: the steps, owner and expiry of an issued challenge, signed, so that any
//! replica sharing the store's key can check one without a lookup; only "already answered"
//! needs the store (single use).
//!
//! Format: `base64url(json payload) "." base64url(HMAC-SHA256(key, first part))`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use jobs::Owner;
use liveness::challenge::{ChallengeInput, Failure, StepWindow};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Payload {
    /// Random: the single-use key.
    n: String,
    /// Owner, `tenant`, `sub` and issuer (absent in ids signed before issuers were kept: those
    /// were one server's tokens' owners, and expire within minutes).
    t: String,
    o: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    i: String,
    /// Expiry, Unix ms.
    e: u64,
    s: Vec<StepWindow>,
}

/// A challenge id as the client sent it, parsed but not yet trusted.
#[derive(Debug, Clone)]
pub struct ChallengeId {
    signed_part: String,
    signature: Vec<u8>,
    payload: Payload,
}

fn mac(key: &[u8], text: &str) -> HmacSha256 {
    // HMAC takes a key of any length.
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC accepts any key length");
    m.update(text.as_bytes());
    m
}

/// A new challenge id for `owner`.
pub fn issue(key: &[u8], owner: &Owner, steps: Vec<StepWindow>, expires_ms: u64) -> String {
    let payload = Payload {
        n: uuid::Uuid::new_v4().simple().to_string(),
        t: owner.tenant.clone(),
        o: owner.sub.clone(),
        i: owner.issuer.clone(),
        e: expires_ms,
        s: steps,
    };
    // Serialising a struct of strings and numbers cannot fail.
    let json = serde_json::to_vec(&payload).unwrap_or_default();
    let signed_part = B64.encode(json);
    let signature = B64.encode(mac(key, &signed_part).finalize().into_bytes());
    format!("{signed_part}.{signature}")
}

impl ChallengeId {
    /// Structure only (the route answers 422 for text that is no challenge id at all).
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let (signed_part, signature) = text
            .trim()
            .split_once('.')
            .ok_or("not a challenge id (no signature)")?;
        let json = B64
            .decode(signed_part)
            .map_err(|_| "not a challenge id (bad encoding)")?;
        let payload: Payload =
            serde_json::from_slice(&json).map_err(|_| "not a challenge id (bad contents)")?;
        let signature = B64
            .decode(signature)
            .map_err(|_| "not a challenge id (bad signature encoding)")?;
        Ok(ChallengeId {
            signed_part: signed_part.to_owned(),
            signature,
            payload,
        })
    }

    /// The single-use record's key, to give the id back when its answer was never analysed.
    pub fn nonce(&self) -> &str {
        &self.payload.n
    }

    /// What the analysis is to check: the steps, or why the challenge cannot be answered. A
    /// signature this store's key did not make is `Invalid` (a forgery or an edited id, told
    /// apart from a mix-up between clients); another client's genuine id is `Foreign`; a used
    /// one `Reused` (`consume` marks it used and says whether it was new).
    pub fn resolve(
        &self,
        key: &[u8],
        owner: &Owner,
        now_ms: u64,
        consume: impl FnOnce(&str, u64) -> bool,
    ) -> ChallengeInput {
        let p = &self.payload;
        let genuine = mac(key, &self.signed_part)
            .verify_slice(&self.signature)
            .is_ok();
        if !genuine {
            ChallengeInput::Refused(Failure::Invalid)
        } else if p.t != owner.tenant || p.o != owner.sub || p.i != owner.issuer {
            ChallengeInput::Refused(Failure::Foreign)
        } else if now_ms > p.e {
            ChallengeInput::Refused(Failure::Expired)
        } else if !consume(&p.n, p.e) {
            ChallengeInput::Refused(Failure::Reused)
        } else {
            ChallengeInput::Steps(p.s.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use liveness::challenge::Step;

    fn steps() -> Vec<StepWindow> {
        vec![StepWindow {
            step: Step::Blink,
            start_s: 1.0,
            end_s: 4.0,
        }]
    }

    #[test]
    fn an_issued_id_resolves_once_for_its_owner_until_it_expires() {
        let alice = Owner::new("", "alice");
        let id = issue(b"key", &alice, steps(), 1_000);
        let parsed = ChallengeId::parse(&id).unwrap();
        let fresh = |_: &str, _: u64| true;
        assert_eq!(
            parsed.resolve(b"key", &alice, 999, fresh),
            ChallengeInput::Steps(steps())
        );
        assert_eq!(
            parsed.resolve(b"key", &alice, 999, |_, _| false),
            ChallengeInput::Refused(Failure::Reused)
        );
        assert_eq!(
            parsed.resolve(b"key", &alice, 1_001, fresh),
            ChallengeInput::Refused(Failure::Expired)
        );
        // Another client: another sub, or the same sub of another identity provider.
        for stranger in [
            Owner::new("", "bob"),
            Owner::new("", "alice").issued_by("https://other.example"),
        ] {
            assert_eq!(
                parsed.resolve(b"key", &stranger, 999, fresh),
                ChallengeInput::Refused(Failure::Foreign),
                "{stranger:?}"
            );
        }
        assert_eq!(
            parsed.resolve(b"other key", &alice, 999, fresh),
            ChallengeInput::Refused(Failure::Invalid)
        );
    }

    #[test]
    fn a_tampered_id_is_invalid_and_garbage_is_not_an_id() {
        let alice = Owner::new("", "alice");
        let id = issue(b"key", &alice, steps(), 1_000);
        // Rewrite the payload (a longer expiry), keep the signature.
        let (_, sig) = id.split_once('.').unwrap();
        let mut p: Payload =
            serde_json::from_slice(&B64.decode(id.split_once('.').unwrap().0).unwrap()).unwrap();
        p.e = u64::MAX;
        let forged = format!("{}.{sig}", B64.encode(serde_json::to_vec(&p).unwrap()));
        let parsed = ChallengeId::parse(&forged).unwrap();
        assert_eq!(
            parsed.resolve(b"key", &alice, 2_000, |_, _| true),
            ChallengeInput::Refused(Failure::Invalid)
        );
        for junk in ["", "abc", "abc.def", "!!.??"] {
            assert!(ChallengeId::parse(junk).is_err(), "{junk}");
        }
    }
}
