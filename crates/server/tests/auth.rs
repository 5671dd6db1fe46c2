//! Every way a token is refused gets 401 with `WWW-Authenticate: Bearer` and an empty `detail`;
//! good tokens of each supported kind get past auth (to the 400 of an empty form).

mod common;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use server::{Auth, AuthError, MintOptions, SigningKey, Verifier};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

struct Keys {
    rsa_private: String,
    rsa_public: String,
    rsa_n: String,
    rsa_e: String,
    ec_private: String,
    /// The same EC key in OpenSSL's own layout (`openssl ecparam -genkey` writes this).
    ec_sec1: String,
    ec_public: String,
    ec_x: String,
    ec_y: String,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
        use rsa::traits::PublicKeyParts;
        let mut rng = rand::thread_rng();
        let rsa = rsa::RsaPrivateKey::new(&mut rng, 2048).unwrap();
        let rsa_pub = rsa::RsaPublicKey::from(&rsa);
        let ec = p256::SecretKey::random(&mut rng);
        let point = ec.public_key().to_encoded_point(false);
        Keys {
            rsa_private: rsa.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
            rsa_public: rsa_pub.to_public_key_pem(LineEnding::LF).unwrap(),
            rsa_n: B64.encode(rsa_pub.n().to_bytes_be()),
            rsa_e: B64.encode(rsa_pub.e().to_bytes_be()),
            ec_private: ec.to_pkcs8_pem(LineEnding::LF).unwrap().to_string(),
            ec_sec1: ec.to_sec1_pem(LineEnding::LF).unwrap().to_string(),
            ec_public: ec.public_key().to_public_key_pem(LineEnding::LF).unwrap(),
            ec_x: B64.encode(point.x().unwrap()),
            ec_y: B64.encode(point.y().unwrap()),
        }
    })
}

fn app(v: Verifier) -> axum::Router {
    server::router(
        &config_with(Auth::Jwt(Arc::new(v))),
        Arc::new(Refuse {
            pause: Duration::ZERO,
        }),
        server::Extensions::default(),
    )
}

async fn call(app: &axum::Router, auth_header: Option<&str>) -> Answer {
    let mut req = Form::new().request("/liveness", None);
    if let Some(h) = auth_header {
        req.headers_mut()
            .insert("authorization", h.parse().unwrap());
    }
    send(app, req).await
}

async fn with_token(app: &axum::Router, token: &str) -> Answer {
    call(app, Some(&format!("Bearer {token}"))).await
}

fn assert_refused(a: &Answer, why: &str) {
    assert_eq!(a.status, 401, "{why}: {}", a.text);
    assert_eq!(
        a.headers
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap()),
        Some("Bearer"),
        "{why}"
    );
    assert_eq!(a.json["detail"], json!({}), "{why}");
    assert!(
        a.json["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{why}"
    );
}

/// Past auth, an empty form is a 400 naming the media fields.
fn assert_admitted(a: &Answer, why: &str) {
    assert_eq!(a.status, 400, "{why}: {}", a.text);
    assert!(body_field(&a.json, "image").is_some(), "{why}");
}

fn hand_made(header: Value, claims: Value, sig: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string()),
        B64.encode(sig)
    )
}

#[tokio::test]
async fn missing_and_malformed_headers() {
    let app = app(hs_verifier());
    assert_refused(&call(&app, None).await, "no header");
    assert_refused(&call(&app, Some("Bearer")).await, "empty bearer");
    assert_refused(&call(&app, Some("Bearer ")).await, "blank bearer");
    assert_refused(
        &call(&app, Some("Basic dXNlcjpwYXNz")).await,
        "basic scheme",
    );
    assert_refused(&with_token(&app, "not-a-jwt").await, "garbage");
    assert_refused(&with_token(&app, "a.b.c").await, "bad base64 parts");
    let t = good_token("c1");
    let truncated = &t[..t.rfind('.').unwrap()];
    assert_refused(&with_token(&app, truncated).await, "two segments");
    assert_admitted(&with_token(&app, &t).await, "good HS256");
    // The scheme is case-insensitive.
    assert_admitted(
        &call(&app, Some(&format!("bearer {t}"))).await,
        "lowercase scheme",
    );
}

/// A refused token's message says what to fix, not only that it failed.
#[tokio::test]
async fn refusals_say_what_is_wrong() {
    let app = app(hs_verifier());
    let n = now();
    let t = good_token("c1");
    let cases = [
        (call(&app, None).await, "missing bearer token"),
        (
            call(&app, Some(&format!("Basic {t}"))).await,
            "must read `Bearer <token>`",
        ),
        (call(&app, Some(&t)).await, "must read `Bearer <token>`"),
        (call(&app, Some("Bearer   ")).await, "missing bearer token"),
        (with_token(&app, "not-a-jwt").await, "malformed token"),
        (
            with_token(&app, &hs_token(json!({"sub": "c", "iat": n}))).await,
            "lacks required claim exp",
        ),
        (
            with_token(&app, &hs_token(json!({"exp": n + 600}))).await,
            "lacks required claim sub",
        ),
        (
            with_token(
                &app,
                &hs_token(json!({"sub": "c", "iat": "today", "exp": n + 600})),
            )
            .await,
            "must be numbers",
        ),
    ];
    for (a, says) in cases {
        assert_refused(&a, says);
        let message = a.json["message"].as_str().unwrap();
        assert!(message.contains(says), "{says}: {message}");
    }
}

#[tokio::test]
async fn alg_none_is_refused() {
    let app = app(hs_verifier());
    let claims = json!({"sub": "c1", "exp": now() + 600});
    for alg in ["none", "None", "NONE"] {
        let t = hand_made(json!({"alg": alg, "typ": "JWT"}), claims.clone(), b"");
        assert_refused(&with_token(&app, &t).await, alg);
        let t = format!("{}.", &t[..t.len()]);
        assert_refused(&with_token(&app, &t).await, alg);
    }
}

#[tokio::test]
async fn expired_not_yet_valid_and_leeway() {
    let app = app(hs_verifier());
    let n = now();
    assert_refused(
        &with_token(&app, &hs_token(json!({"sub": "c", "exp": n - 3600}))).await,
        "expired",
    );
    assert_refused(
        &with_token(
            &app,
            &hs_token(json!({"sub": "c", "exp": n + 7200, "nbf": n + 3600})),
        )
        .await,
        "not yet valid",
    );
    assert_refused(
        &with_token(&app, &hs_token(json!({"sub": "c"}))).await,
        "no exp",
    );
    // Within the 30 s leeway both ways.
    assert_admitted(
        &with_token(&app, &hs_token(json!({"sub": "c", "exp": n - 10}))).await,
        "just expired",
    );
    assert_admitted(
        &with_token(
            &app,
            &hs_token(json!({"sub": "c", "exp": n + 600, "nbf": n + 10})),
        )
        .await,
        "nearly valid",
    );
}

#[tokio::test]
async fn wrong_signature_is_refused() {
    let app = app(hs_verifier());
    let other = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": "c", "exp": now() + 600}),
        &EncodingKey::from_secret(b"some-other-secret-of-32-bytes-or-more"),
    )
    .unwrap();
    assert_refused(&with_token(&app, &other).await, "other secret");
    // A valid token with its payload swapped keeps a signature that no longer matches.
    let good = good_token("alice");
    let parts: Vec<&str> = good.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(json!({"sub": "admin", "exp": now() + 600}).to_string()),
        parts[2]
    );
    assert_refused(&with_token(&app, &forged).await, "tampered payload");
}

#[tokio::test]
async fn hs_rs_confusion_is_refused() {
    let k = keys();
    // A server that knows only the RSA public key.
    let mut v = Verifier::default();
    v.add_public_key_pem(k.rsa_public.as_bytes()).unwrap();
    let rsa_only = app(v);
    // And one that also has an HMAC secret.
    let mut v = hs_verifier();
    v.add_public_key_pem(k.rsa_public.as_bytes()).unwrap();
    let both = app(v);
    // The classic attack: HS256 signed with the public key's PEM text as the secret.
    let forged = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"sub": "c", "exp": now() + 600}),
        &EncodingKey::from_secret(k.rsa_public.as_bytes()),
    )
    .unwrap();
    assert_refused(&with_token(&rsa_only, &forged).await, "HS256 vs RSA-only");
    assert_refused(&with_token(&both, &forged).await, "HS256 vs RSA+HS");
    // An RS256 token whose header is rewritten to HS256 keeps an RSA signature.
    let rs = server::mint(
        &SigningKey::Rs256Pem(k.rsa_private.as_bytes().to_vec()),
        &MintOptions {
            sub: "c".into(),
            ttl: Duration::from_secs(600),
            issuer: None,
            audience: None,
            kid: None,
        },
    )
    .unwrap();
    assert_admitted(&with_token(&rsa_only, &rs).await, "genuine RS256");
    let rest = &rs[rs.find('.').unwrap()..];
    let relabelled = format!("{}{rest}", B64.encode(r#"{"alg":"HS256","typ":"JWT"}"#));
    assert_refused(
        &with_token(&both, &relabelled).await,
        "RS256 relabelled HS256",
    );
    // HS256 tokens are refused outright when no secret is configured.
    assert_refused(
        &with_token(&rsa_only, &good_token("c")).await,
        "HS256 without secret",
    );
}

fn mint(key: SigningKey, kid: Option<&str>, iss: Option<&str>, aud: Option<&str>) -> String {
    server::mint(
        &key,
        &MintOptions {
            sub: "client-7".into(),
            ttl: Duration::from_secs(600),
            issuer: iss.map(Into::into),
            audience: aud.map(Into::into),
            kid: kid.map(Into::into),
        },
    )
    .unwrap()
}

#[tokio::test]
async fn rs256_and_es256_from_pem() {
    let k = keys();
    let mut v = Verifier::default();
    v.add_public_key_pem(k.rsa_public.as_bytes()).unwrap();
    v.add_public_key_pem(k.ec_public.as_bytes()).unwrap();
    let app = app(v);
    let rs = mint(
        SigningKey::from_private_pem(k.rsa_private.clone().into_bytes()).unwrap(),
        None,
        None,
        None,
    );
    let es = mint(
        SigningKey::from_private_pem(k.ec_private.clone().into_bytes()).unwrap(),
        None,
        None,
        None,
    );
    assert!(rs.starts_with(&B64.encode(r#"{"typ":"JWT","alg":"RS256"}"#)[..10]));
    assert_admitted(&with_token(&app, &rs).await, "RS256");
    assert_admitted(&with_token(&app, &es).await, "ES256");
    // A key the server does not know.
    let stranger = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    let pem = stranger.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let t = mint(SigningKey::Rs256Pem(pem.into_bytes()), None, None, None);
    assert_refused(&with_token(&app, &t).await, "unknown RSA key");
}

#[tokio::test]
async fn openssl_ec_keys_sign_and_wrong_or_weak_keys_say_what_is_wrong() {
    let k = keys();
    let mut v = Verifier::default();
    v.add_public_key_pem(k.ec_public.as_bytes()).unwrap();
    let app = app(v);
    let es = mint(
        SigningKey::from_private_pem(k.ec_sec1.clone().into_bytes()).unwrap(),
        None,
        None,
        None,
    );
    assert_admitted(&with_token(&app, &es).await, "ES256 from a SEC1 key");

    let refusal = |pem: &str| match SigningKey::from_private_pem(pem.as_bytes().to_vec()) {
        Ok(_) => panic!("signing key accepted: {pem}"),
        Err(e) => e.to_string(),
    };
    assert!(refusal(&k.rsa_public).contains("this is a public key"));
    assert!(refusal("hello").contains("not a PEM file"));
    // Throw-away keys made for this test with openssl: P-384 (SEC1) and Ed25519 (PKCS#8).
    let p384 = "-----BEGIN EC PRIVATE KEY-----
MIGkAgEBBDDxUJ8hop8ogOK7HnRenoiMlXpmpE8P3ZnrjXrcIRKMlZna7hixwTsm
Qgdqe6MI9IygBwYFK4EEACKhZANiAASnvFK5K43snN/WtlWs67Fsy/yY8w8E4klf
2D+wrV9fqf47E6D2zoemLZa0GysCEmiZc9mA2GhmoAPJ76az578NjQBAvKQDK65Q
EyAs1jqE3ovETOO0SuFStpyh9KoEPws=
-----END EC PRIVATE KEY-----
";
    assert!(refusal(p384).contains("curve other than P-256"));
    let ed25519 = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIHYun6MA7lVMYnhE5OdhYO9r+k2OHZYUJX9MxwAkKw3S
-----END PRIVATE KEY-----
";
    assert!(refusal(ed25519).contains("Ed25519"));
    use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
    let short = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap();
    let short_pem = short.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    assert!(refusal(&short_pem).contains("1024 bits"));

    let mut v = Verifier::default();
    let public = |v: &mut Verifier, pem: &str| {
        v.add_public_key_pem(pem.as_bytes())
            .unwrap_err()
            .to_string()
    };
    assert!(public(&mut v, &k.rsa_private).contains("this is a private key"));
    assert!(public(&mut v, &k.ec_sec1).contains("this is a private key"));
    let short_public = rsa::RsaPublicKey::from(&short)
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    assert!(public(&mut v, &short_public).contains("1024 bits"));
    // The same rule for a JWKS's RSA keys.
    use rsa::traits::PublicKeyParts;
    let short_jwks = json!({"keys": [{"kty": "RSA", "kid": "weak", "alg": "RS256",
        "n": B64.encode(short.n().to_bytes_be()), "e": B64.encode(short.e().to_bytes_be())}]});
    let e = v.add_jwks(&short_jwks.to_string()).unwrap_err().to_string();
    assert!(e.contains("1024 bits") && e.contains("weak"), "{e}");
    assert!(!v.has_keys());
}

#[tokio::test]
async fn jwks_keys_are_matched_by_kid() {
    let k = keys();
    let jwks = json!({"keys": [
        {"kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256", "n": k.rsa_n, "e": k.rsa_e},
        {"kty": "EC", "kid": "ec-1", "use": "sig", "alg": "ES256", "crv": "P-256", "x": k.ec_x, "y": k.ec_y},
    ]});
    let mut v = Verifier::default();
    assert_eq!(v.add_jwks(&jwks.to_string()).unwrap(), 2);
    let app = app(v);
    let rsa_key = || SigningKey::Rs256Pem(k.rsa_private.clone().into_bytes());
    let ec_key = || SigningKey::Es256Pem(k.ec_private.clone().into_bytes());
    assert_admitted(
        &with_token(&app, &mint(rsa_key(), Some("rsa-1"), None, None)).await,
        "RS256 kid",
    );
    assert_admitted(
        &with_token(&app, &mint(ec_key(), Some("ec-1"), None, None)).await,
        "ES256 kid",
    );
    assert_admitted(
        &with_token(&app, &mint(ec_key(), None, None, None)).await,
        "ES256 no kid",
    );
    assert_refused(
        &with_token(&app, &mint(rsa_key(), Some("rsa-9"), None, None)).await,
        "unknown kid",
    );
}

/// Two identity providers, each key bound to its own issuer: a provider's key cannot sign a
/// token naming the other provider (whose `user-1` is another client).
#[tokio::test]
async fn a_key_given_with_its_issuer_signs_for_that_issuer_only() {
    let k = keys();
    let (ours, partner) = ("https://idp.example", "https://partner.example");
    let rsa = json!({"keys": [{"kty": "RSA", "kid": "rsa-1", "n": k.rsa_n, "e": k.rsa_e}]});
    let ec = json!({"keys": [
        {"kty": "EC", "kid": "ec-1", "crv": "P-256", "x": k.ec_x, "y": k.ec_y},
    ]});
    let mut v = Verifier::default();
    assert_eq!(v.add_issuer_jwks(ours, &rsa.to_string()).unwrap(), 1);
    assert_eq!(v.add_issuer_jwks(partner, &ec.to_string()).unwrap(), 1);
    assert_eq!(v.unbound_keys(), 0);
    let rsa_key = || SigningKey::Rs256Pem(k.rsa_private.clone().into_bytes());
    let ec_key = || SigningKey::Es256Pem(k.ec_private.clone().into_bytes());
    let mine = v.verify(&mint(rsa_key(), Some("rsa-1"), Some(ours), None));
    assert_eq!(mine.unwrap().issuer.as_deref(), Some(ours));
    let theirs = v.verify(&mint(ec_key(), Some("ec-1"), Some(partner), None));
    assert_eq!(theirs.unwrap().issuer.as_deref(), Some(partner));
    // The partner's key naming our issuer, ours naming theirs, or no issuer at all.
    for (key, iss) in [(ec_key(), Some(ours)), (rsa_key(), Some(partner))] {
        assert_eq!(
            v.verify(&mint(key, None, iss, None)),
            Err(AuthError::KeyIssuer),
            "{iss:?}"
        );
    }
    assert!(v.verify(&mint(rsa_key(), None, None, None)).is_err());
    // An unknown issuer is still refused as one.
    assert_eq!(
        v.verify(&mint(rsa_key(), None, Some("https://else.example"), None)),
        Err(AuthError::Issuer)
    );
    assert!(v.add_issuer_jwks(" ", &rsa.to_string()).is_err());
}

#[tokio::test]
async fn issuer_and_audience_when_configured() {
    let mut v = hs_verifier();
    v.require_issuer("https://issuer.example");
    v.require_audience("livegate");
    let app = app(v);
    let key = || SigningKey::Hs256(SECRET.to_vec());
    let ok = mint(
        key(),
        None,
        Some("https://issuer.example"),
        Some("livegate"),
    );
    assert_admitted(&with_token(&app, &ok).await, "iss+aud");
    let t = mint(key(), None, Some("https://evil.example"), Some("livegate"));
    assert_refused(&with_token(&app, &t).await, "wrong iss");
    let t = mint(key(), None, Some("https://issuer.example"), Some("other"));
    assert_refused(&with_token(&app, &t).await, "wrong aud");
    let t = mint(key(), None, None, Some("livegate"));
    assert_refused(&with_token(&app, &t).await, "missing iss");
    let t = mint(key(), None, Some("https://issuer.example"), None);
    assert_refused(&with_token(&app, &t).await, "missing aud");
    // The issuer travels with the caller (to the audit lines): a `sub` is unique only within
    // its issuer.
    let mut v = hs_verifier();
    v.require_issuer("https://issuer.example");
    v.require_issuer("https://partner.example");
    v.require_audience("livegate");
    let p = v.verify(&ok).unwrap();
    assert_eq!(p.issuer.as_deref(), Some("https://issuer.example"));
    assert_eq!(
        hs_verifier().verify(&ok).unwrap().issuer,
        None,
        "no issuers configured"
    );
}

#[test]
fn short_secrets_and_non_keys_are_refused_at_configuration() {
    let mut v = Verifier::default();
    assert!(v.add_hs256_secret(b"short").is_err());
    assert!(v.add_public_key_pem(b"-----BEGIN NOTHING-----").is_err());
    assert!(v.add_jwks(r#"{"keys": []}"#).is_err());
    assert!(!v.has_keys());
    // An unset variable in an env file must not turn the admin role on for empty scopes.
    for blank in ["", "  ", "livegate: admin"] {
        assert!(v.admin_scope(blank).is_err(), "{blank:?} accepted");
    }
    assert!(v.admin_scope("livegate:admin").is_ok());
}

#[tokio::test]
async fn auth_disabled_admits_everyone() {
    let app = server::router(
        &config_with(Auth::Disabled),
        Arc::new(Refuse {
            pause: Duration::ZERO,
        }),
        server::Extensions::default(),
    );
    assert_admitted(&call(&app, None).await, "no auth");
}

#[tokio::test]
async fn token_profile_sub_iat_crit_and_lifetime() {
    let app = app(hs_verifier());
    let n = now();
    let refused = [
        (json!({"exp": n + 600}), "no sub"),
        (json!({"sub": "", "exp": n + 600}), "empty sub"),
        (
            json!({"sub": "c", "iat": n + 3600, "exp": n + 7200}),
            "iat in the future",
        ),
        (
            json!({"sub": "c", "iat": n, "exp": n + 100 * 365 * 86_400}),
            "valid for 100 years",
        ),
        (
            json!({"sub": "c", "exp": n + 2 * 86_400}),
            "no iat, two days left",
        ),
    ];
    for (claims, why) in refused {
        assert_refused(&with_token(&app, &hs_token(claims)).await, why);
    }
    let admitted = [
        (
            json!({"sub": "c", "iat": n + 10, "exp": n + 600}),
            "iat within the leeway",
        ),
        (
            json!({"sub": "c", "iat": n, "exp": n + 86_400}),
            "exactly the maximum",
        ),
    ];
    for (claims, why) in admitted {
        assert_admitted(&with_token(&app, &hs_token(claims)).await, why);
    }
    // RFC 7515 `crit`: an extension this server does not implement must be refused.
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.crit = Some(vec!["urn:example:unknown".into()]);
    let t = jsonwebtoken::encode(
        &header,
        &json!({"sub": "c", "iat": n, "exp": n + 600}),
        &jsonwebtoken::EncodingKey::from_secret(SECRET),
    )
    .unwrap();
    assert_refused(&with_token(&app, &t).await, "unknown crit");
}

#[tokio::test]
async fn a_longer_maximum_lifetime_is_configurable() {
    let mut v = hs_verifier();
    v.max_lifetime(Duration::from_secs(7 * 86_400));
    let app = app(v);
    let n = now();
    let t = hs_token(json!({"sub": "c", "iat": n, "exp": n + 3 * 86_400}));
    assert_admitted(
        &with_token(&app, &t).await,
        "three days under a seven-day maximum",
    );
}

#[tokio::test]
async fn failed_authentications_are_rate_limited_per_peer() {
    let mut cfg = hs_config();
    cfg.auth_failures = Some(server::RateLimit {
        per_minute: 3,
        burst: 3,
    });
    let app = server::router(
        &cfg,
        Arc::new(Refuse {
            pause: Duration::ZERO,
        }),
        server::Extensions::default(),
    );
    let from = |peer: [u8; 4], token: &str| {
        let mut req = Form::new().request("/liveness", Some(token));
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                peer, 40_000,
            ))));
        req
    };
    let attacker = [10, 0, 0, 7];
    for i in 0..3 {
        assert_refused(
            &send(&app, from(attacker, "guess")).await,
            &format!("guess {i}"),
        );
    }
    let limited = send(&app, from(attacker, "guess")).await;
    assert_eq!(limited.status, 429, "{}", limited.text);
    assert!(limited.headers.contains_key("retry-after"));
    assert!(limited.json["message"].is_string());
    // Another address has its own budget, and a valid token still gets through.
    assert_refused(
        &send(&app, from([10, 0, 0, 8], "guess")).await,
        "other peer",
    );
    assert_admitted(
        &send(&app, from(attacker, &good_token("c"))).await,
        "valid token from a throttled peer",
    );
}

#[tokio::test]
async fn identities_a_log_line_cannot_carry_and_repeated_credentials_are_refused() {
    let app = app(hs_verifier());
    let token = |sub: &str| hs_token(json!({"sub": sub, "exp": now() + 600}));
    for sub in [
        "ops\ninfo audit: forged line",
        &"x".repeat(257),
        "tab\there",
        "line\u{2028}separator",
        "evil\u{202E}txt.exe",
    ] {
        let a = with_token(&app, &token(sub)).await;
        assert_refused(&a, "unprintable sub");
        assert!(
            a.json["message"].as_str().unwrap().contains("sub"),
            "{}",
            a.text
        );
    }
    assert_admitted(
        &with_token(&app, &token(&"x".repeat(256))).await,
        "256 chars",
    );
    let mut req = Form::new().request("/liveness", None);
    for sub in ["alice", "bob"] {
        req.headers_mut().append(
            "authorization",
            format!("Bearer {}", token(sub)).parse().unwrap(),
        );
    }
    let a = send(&app, req).await;
    assert_refused(&a, "two Authorization headers");
    assert!(
        a.json["message"]
            .as_str()
            .unwrap()
            .contains("one Authorization")
    );
}
