//! Every access to stored batch data leaves one structured `audit` line — who, which job, what,
//! how it ended — and no line carries a token or the uploaded bytes. Alone in its test binary
//! because it installs the process's log subscriber.

mod common;

use common::*;
use jobs::{JobService, JobsConfig};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_access_to_stored_data_is_audited_without_secrets() {
    let buf = LogBuffer::default();
    let writer = buf.clone();
    tracing_subscriber::fmt()
        .json()
        .with_writer(move || writer.clone())
        .init();

    let dir = tempfile::tempdir().unwrap();
    let analyser: Arc<dyn liveness::Analyse> = Arc::new(Refuse {
        pause: Duration::ZERO,
    });
    let svc = JobService::open(JobsConfig::new(dir.path()), Arc::clone(&analyser)).unwrap();
    let mut verifier = hs_verifier();
    verifier.admin_scope("livegate:admin").unwrap();
    let app = server::router(
        &config_with(server::config::Auth::Jwt(Arc::new(verifier))),
        analyser,
        server::Extensions {
            public: axum::Router::new(),
            jobs: Some(svc),
        },
    );
    let (owner, other) = (good_token("auditee"), good_token("snoop"));
    let secret_bytes = b"SECRET-PIXELS-7f3a";
    let zip = testkit::zip_of(&[("p_image.jpg", secret_bytes)]);
    let a = send(
        &app,
        Form::new()
            .file("file", "in.zip", &zip)
            .request("/v1/batches", Some(&owner)),
    )
    .await;
    assert_eq!(a.status, 202, "{}", a.text);
    let id = a.json["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/batches/{id}");
    assert_eq!(send(&app, bodiless("GET", &path, &owner)).await.status, 200);
    assert_eq!(send(&app, bodiless("GET", &path, &other)).await.status, 404);
    let archive = format!("{path}/archive");
    assert_eq!(
        send(&app, bodiless("HEAD", &archive, &other)).await.status,
        404
    );
    // A batch id that exists for nobody.
    let missing = "/v1/batches/0123456789abcdef0123456789abcdef";
    assert_eq!(
        send(&app, bodiless("GET", missing, &other)).await.status,
        404
    );
    // A path id that could forge a line of a text log is not written as sent.
    let forged = "/v1/batches/x%0a2026-01-01T00:00:00Z%20INFO%20audit:%20forged";
    assert_eq!(
        send(&app, bodiless("GET", forged, &other)).await.status,
        404
    );
    assert_eq!(
        send(&app, bodiless("GET", "/v1/batches", &owner))
            .await
            .status,
        200
    );
    // The operator erases it, and the trail says whose it was.
    let admin =
        hs_token(serde_json::json!({"sub": "ops", "exp": now() + 600, "scope": "livegate:admin"}));
    assert_eq!(
        send(&app, bodiless("DELETE", &path, &admin)).await.status,
        204
    );

    let text = buf.text();
    let audit: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["target"] == "audit")
        .collect();
    // Every line names the issuer; these tokens come from a server that names none.
    assert!(audit.iter().all(|l| l["fields"]["iss"] == ""), "{audit:?}");
    let seen: Vec<[String; 5]> = audit
        .iter()
        .map(|l| {
            let f = &l["fields"];
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            [
                s("sub"),
                s("job"),
                s("action"),
                s("outcome"),
                s("owner_sub"),
            ]
        })
        .collect();
    let want = |sub: &str, job: &str, action: &str, outcome: &str, owner: &str| {
        [sub, job, action, outcome, owner].map(str::to_owned)
    };
    let nobodys = "0123456789abcdef0123456789abcdef";
    assert_eq!(
        seen,
        [
            want("auditee", &id, "submit", "ok", ""),
            want("auditee", &id, "read", "ok", ""),
            // Answered 404 like a missing batch, recorded as a reach for the auditee's.
            want("snoop", &id, "read", "foreign", "auditee"),
            want("snoop", &id, "inspect", "foreign", "auditee"),
            want("snoop", nobodys, "read", "not_found", ""),
            want("snoop", "(malformed id)", "read", "not_found", ""),
            want("auditee", "*", "list", "ok", ""),
            want("ops", &id, "erase", "ok", "auditee"),
        ],
        "{text}"
    );
    assert!(
        !text.contains(&owner) && !text.contains(&other),
        "a token was logged"
    );
    assert!(!text.contains("forged"), "a path id was logged as sent");
    assert!(
        !text.contains("SECRET-PIXELS"),
        "uploaded bytes were logged"
    );
}
