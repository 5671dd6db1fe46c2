//! `/v1/batches` through the server's own router: 202 + progress + archive on real files, the
//! error envelope for bad archives and fields, and the attack list of the trust review —
//! another client's batch is a 404 for every verb, an erase leaves nothing on disk, each access
//! leaves an audit line, one client's quota does not touch another's.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use jobs::{JobService, JobsConfig};
use liveness::Analyse;
use serde_json::Value;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use testkit::{unzip, zip_of};

struct Setup {
    app: axum::Router,
    svc: Arc<JobService>,
    dir: tempfile::TempDir,
}

fn setup_with(analyser: Arc<dyn Analyse>, tune: impl FnOnce(&mut JobsConfig)) -> Setup {
    let mut v = hs_verifier();
    v.admin_scope("livegate:admin").unwrap();
    setup_verified(analyser, tune, v)
}

fn setup_verified(
    analyser: Arc<dyn Analyse>,
    tune: impl FnOnce(&mut JobsConfig),
    verifier: server::Verifier,
) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let mut jobs_cfg = JobsConfig::new(dir.path().join("data"));
    tune(&mut jobs_cfg);
    let svc = JobService::open(jobs_cfg, Arc::clone(&analyser)).unwrap();
    let mut cfg = hs_config();
    cfg.body_limit = 32 * 1024 * 1024;
    cfg.workers = 2;
    cfg.queue_depth = 4;
    cfg.deadline = Duration::from_secs(120);
    cfg.auth = server::Auth::Jwt(Arc::new(verifier));
    let app = server::router(
        &cfg,
        analyser,
        server::Extensions {
            public: axum::Router::new(),
            jobs: Some(Arc::clone(&svc)),
        },
    );
    Setup { app, svc, dir }
}

fn refusing() -> Arc<dyn Analyse> {
    Arc::new(Refuse {
        pause: Duration::from_millis(5),
    })
}

fn get(path: &str, token: &str) -> Request<Body> {
    Request::get(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap()
}

fn upload(zip: &[u8], fields: &[(&str, &str)], token: &str) -> Request<Body> {
    let mut form = Form::new();
    for (k, v) in fields {
        form = form.text(k, v);
    }
    form.file("file", "in.zip", zip)
        .request("/v1/batches", Some(token))
}

async fn wait_done(app: &axum::Router, id: &str, token: &str) -> Value {
    let t0 = std::time::Instant::now();
    loop {
        let a = send(app, get(&format!("/v1/batches/{id}"), token)).await;
        assert_eq!(a.status, 200, "{}", a.text);
        if a.json["status"] == "done" {
            return a.json;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "batch never finished"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every byte under `dir`, recursively: what an attacker with the disk would read.
fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(all_bytes(&p));
        } else {
            out.extend(std::fs::read(&p).unwrap_or_default());
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_files_run_and_the_archive_has_every_stem() {
    let Some(td) = testdata() else { return };
    let Some(analyser) = real_analyzer() else {
        return;
    };
    let s = setup_with(analyser, |_| {});
    s.svc.spawn_runners();
    let live = std::fs::read(td.join("faces/fr_biden.jpg")).unwrap();
    let screen = std::fs::read(td.join("spoof/sfas_image_F2.jpg")).unwrap();
    let zip = zip_of(&[
        ("biden_image.jpg", &live),
        ("screen_image.jpg", &screen),
        ("notes.txt", b"not media"),
    ]);
    let token = good_token("alice");
    let a = send(
        &s.app,
        upload(&zip, &[("max_frames_to_analyze", "5")], &token),
    )
    .await;
    assert_eq!(a.status, 202, "{}", a.text);
    let id = a.json["id"].as_str().unwrap().to_owned();
    assert_eq!(a.headers["location"], format!("/v1/batches/{id}"));
    assert_eq!(a.json["total"], 2);
    assert_eq!(a.json["skipped"][0]["name"], "notes.txt");
    // Floats read as the API writes them, not widened to f64 noise.
    assert!(a.text.contains("\"facematch_threshold\":0.6"), "{}", a.text);
    assert!(!a.text.contains("0.6000000"), "{}", a.text);
    let done = wait_done(&s.app, &id, &token).await;
    let by_stem = |stem: &str| {
        done["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["stem"] == stem)
            .unwrap()
            .clone()
    };
    // The same verdicts the single-request API gives for these files (README quick start).
    assert_eq!(by_stem("biden")["response"]["result"], "real", "{done}");
    assert_eq!(by_stem("screen")["response"]["result"], "fake", "{done}");
    assert_eq!(by_stem("biden")["response"]["max_frames_analyzed"], 5);
    // The progress names the weights that judged the batch: the shipped ones, for both verdicts.
    let shipped: serde_json::Map<String, Value> = vision::pad::LivegatePad::weights_sha256()
        .iter()
        .map(|(file, sha256)| (file.to_string(), Value::from(sha256.as_str())))
        .collect();
    assert_eq!(
        done["pad_weights"],
        serde_json::json!([{"weights": shipped, "image_real_threshold": 0.43, "verdicts": 2}]),
        "{done}"
    );
    let zip_path = s.dir.path().join("data/batches").join(format!("{id}.zip"));
    assert!(!zip_path.exists(), "the upload outlived its finished batch");

    let resp = tower::ServiceExt::oneshot(
        s.app.clone(),
        get(&format!("/v1/batches/{id}/archive"), &token),
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/zip");
    let raw = http_body_util::BodyExt::collect(resp.into_body())
        .await
        .unwrap()
        .to_bytes();
    let files = unzip(&raw);
    assert_eq!(
        files.keys().map(String::as_str).collect::<Vec<_>>(),
        [
            "json/biden.json",
            "json/screen.json",
            "results.csv",
            "summary.json"
        ]
    );
    assert!(files["results.csv"].contains(",skipped,notes.txt,"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_clients_batch_is_404_for_every_bodiless() {
    let s = setup_with(refusing(), |_| {});
    let (alice, bob) = (good_token("alice"), good_token("bob"));
    let zip = zip_of(&[("a_image.jpg", b"x"), ("b_image.jpg", b"y")]);
    let a = send(&s.app, upload(&zip, &[], &alice)).await;
    assert_eq!(a.status, 202, "{}", a.text);
    let id = a.json["id"].as_str().unwrap().to_owned();

    let nobody = "0123456789abcdef0123456789abcdef";
    for (method, path) in [
        ("GET", format!("/v1/batches/{id}")),
        ("GET", format!("/v1/batches/{id}/archive")),
        ("POST", format!("/v1/batches/{id}/cancel")),
        ("DELETE", format!("/v1/batches/{id}")),
    ] {
        let theirs = send(&s.app, bodiless(method, &path, &bob)).await;
        assert_eq!(theirs.status, 404, "{method} {path}: {}", theirs.text);
        // Exactly the answer for an id that exists for nobody: no existence oracle.
        let missing = send(&s.app, bodiless(method, &path.replace(&id, nobody), &bob)).await;
        assert_eq!(missing.status, 404);
        assert_eq!(
            theirs.json["detail"], missing.json["detail"],
            "{method} {path}"
        );
        assert_eq!(
            theirs.json["message"]
                .as_str()
                .unwrap()
                .replace(&id, nobody),
            missing.json["message"].as_str().unwrap(),
        );
    }
    // Bob's listing is empty; Alice's batch is untouched by all of it.
    let list = send(&s.app, get("/v1/batches", &bob)).await;
    assert_eq!(list.status, 200);
    assert_eq!(list.json["batches"], serde_json::json!([]));
    let mine = send(&s.app, get(&format!("/v1/batches/{id}"), &alice)).await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.json["status"], "queued");
    // The same sub in another tenant is someone else once a tenant claim is configured; here
    // the admin scope reaches every client's batches.
    let admin = hs_token(
        serde_json::json!({"sub": "ops", "exp": now() + 600, "scope": "read livegate:admin"}),
    );
    let seen = send(&s.app, get(&format!("/v1/batches/{id}"), &admin)).await;
    assert_eq!(seen.status, 200);
    let all = send(&s.app, get("/v1/batches", &admin)).await;
    assert_eq!(all.json["batches"].as_array().unwrap().len(), 1);
    // Scopes as identity providers write them: `scp` as an array or a space-separated string
    // (Azure AD), `scope` as either; a near miss is no admin.
    for (claim, value, admitted) in [
        ("scp", serde_json::json!(["livegate:admin"]), true),
        ("scp", serde_json::json!("openid livegate:admin"), true),
        ("scope", serde_json::json!(["livegate:admin"]), true),
        ("scp", serde_json::json!("livegate:admin-x"), false),
        ("scope", serde_json::json!("livegate"), false),
    ] {
        let mut claims = serde_json::json!({"sub": "ops", "exp": now() + 600});
        claims[claim] = value.clone();
        let seen = send(&s.app, get(&format!("/v1/batches/{id}"), &hs_token(claims))).await;
        assert_eq!(
            seen.status == 200,
            admitted,
            "{claim}: {value}: {}",
            seen.status
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_sub_of_two_identity_providers_is_two_clients() {
    let (ours, partner) = ("https://idp.example", "https://partner.example");
    let mut v = hs_verifier();
    v.require_issuer(ours);
    v.require_issuer(partner);
    let s = setup_verified(refusing(), |_| {}, v);
    let token =
        |iss: &str| hs_token(serde_json::json!({"sub": "user-1", "iss": iss, "exp": now() + 600}));
    let zip = zip_of(&[("a_image.jpg", b"x")]);
    let a = send(&s.app, upload(&zip, &[], &token(ours))).await;
    assert_eq!(a.status, 202, "{}", a.text);
    let id = a.json["id"].as_str().unwrap().to_owned();
    // Owners were once (tenant, sub): the partner's user-1 read, cancelled and erased ours.
    let theirs = token(partner);
    for (method, path) in [
        ("GET", format!("/v1/batches/{id}")),
        ("GET", format!("/v1/batches/{id}/archive")),
        ("POST", format!("/v1/batches/{id}/cancel")),
        ("DELETE", format!("/v1/batches/{id}")),
    ] {
        let seen = send(&s.app, bodiless(method, &path, &theirs)).await;
        assert_eq!(seen.status, 404, "{method} {path}: {}", seen.text);
    }
    let list = send(&s.app, get("/v1/batches", &theirs)).await;
    assert_eq!(list.json["batches"], serde_json::json!([]), "{}", list.text);
    let own = send(&s.app, get(&format!("/v1/batches/{id}"), &token(ours))).await;
    assert_eq!(own.status, 200, "{}", own.text);
}

/// One tenant's administrator is not another's: the admin scope reaches the batches of its
/// own tenant and issuer, and every tenant's only with `--admin-across-tenants`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_reaches_their_own_tenant_unless_told_otherwise() {
    for across in [false, true] {
        let mut v = hs_verifier();
        v.tenant_claim("tid");
        v.admin_scope("livegate:admin").unwrap();
        if across {
            v.admin_across_tenants();
        }
        let s = setup_verified(refusing(), |_| {}, v);
        let token = |sub: &str, tid: &str, scope: &str| {
            hs_token(serde_json::json!({
                "sub": sub, "tid": tid, "scope": scope, "exp": now() + 600,
            }))
        };
        let zip = zip_of(&[("a_image.jpg", b"x")]);
        let mut ids = Vec::new();
        for tid in ["acme", "globex"] {
            let a = send(&s.app, upload(&zip, &[], &token("user-1", tid, ""))).await;
            assert_eq!(a.status, 202, "{}", a.text);
            ids.push(a.json["id"].as_str().unwrap().to_owned());
        }
        let acme_admin = token("ops", "acme", "livegate:admin");
        let listed = send(&s.app, get("/v1/batches", &acme_admin)).await;
        let n = listed.json["batches"].as_array().unwrap().len();
        assert_eq!(n, if across { 2 } else { 1 }, "{}", listed.text);
        let theirs = send(&s.app, get(&format!("/v1/batches/{}", ids[1]), &acme_admin)).await;
        assert_eq!(
            theirs.status,
            if across { 200 } else { 404 },
            "{}",
            theirs.text
        );
        let ours = send(&s.app, get(&format!("/v1/batches/{}", ids[0]), &acme_admin)).await;
        assert_eq!(ours.status, 200, "another client of the admin's own tenant");
        let erase = send(
            &s.app,
            bodiless("DELETE", &format!("/v1/batches/{}", ids[1]), &acme_admin),
        )
        .await;
        assert_eq!(
            erase.status,
            if across { 204 } else { 404 },
            "{}",
            erase.text
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_are_apart_whatever_type_their_ids_have() {
    let mut v = hs_verifier();
    v.tenant_claim("tid");
    let s = setup_verified(refusing(), |_| {}, v);
    let token = |tid: serde_json::Value| {
        hs_token(serde_json::json!({"sub": "user-42", "exp": now() + 600, "tid": tid}))
    };
    let zip = zip_of(&[("a_image.jpg", b"x")]);
    let a = send(&s.app, upload(&zip, &[], &token(1001.into()))).await;
    assert_eq!(a.status, 202, "{}", a.text);
    let id = a.json["id"].as_str().unwrap().to_owned();
    // Numeric tenant ids once read as "no tenant", and every such tenant shared one namespace.
    let other = token(2002.into());
    let seen = send(&s.app, get(&format!("/v1/batches/{id}"), &other)).await;
    assert_eq!(seen.status, 404, "{}", seen.text);
    let list = send(&s.app, get("/v1/batches", &other)).await;
    assert_eq!(list.json["batches"], serde_json::json!([]), "{}", list.text);
    let own = send(
        &s.app,
        get(&format!("/v1/batches/{id}"), &token("1001".into())),
    )
    .await;
    assert_eq!(own.status, 200, "the same tenant written as a string");
    // A token without a readable tenant is refused, not filed under an empty one.
    let no_tid = hs_token(serde_json::json!({"sub": "user-42", "exp": now() + 600}));
    for bad in [
        no_tid,
        token("".into()),
        token(serde_json::Value::Null),
        token(serde_json::json!(["t1"])),
        token(serde_json::json!(1.5)),
    ] {
        let a = send(&s.app, get("/v1/batches", &bad)).await;
        assert_eq!(a.status, 401, "{}", a.text);
        assert!(
            a.json["message"].as_str().unwrap().contains("tid"),
            "{}",
            a.text
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_erases_every_trace_from_disk() {
    let s = setup_with(refusing(), |_| {});
    s.svc.spawn_runners();
    let token = good_token("carol");
    let stem = "erasemarker81x";
    let payload = match testdata() {
        Some(td) => std::fs::read(td.join("faces/fr_obama.jpg")).unwrap(),
        None => b"pixels".to_vec(),
    };
    let zip = zip_of(&[(&format!("{stem}_image.jpg"), &payload)]);
    let a = send(&s.app, upload(&zip, &[], &token)).await;
    assert_eq!(a.status, 202, "{}", a.text);
    let id = a.json["id"].as_str().unwrap().to_owned();
    wait_done(&s.app, &id, &token).await;
    let data = s.dir.path().join("data");
    assert!(
        contains(&all_bytes(&data), stem),
        "results are stored until erased"
    );

    let gone = send(
        &s.app,
        bodiless("DELETE", &format!("/v1/batches/{id}"), &token),
    )
    .await;
    assert_eq!(gone.status, 204, "{}", gone.text);
    for path in [
        format!("/v1/batches/{id}"),
        format!("/v1/batches/{id}/archive"),
    ] {
        assert_eq!(send(&s.app, get(&path, &token)).await.status, 404, "{path}");
    }
    let disk = all_bytes(&data);
    assert!(!contains(&disk, stem), "the stem is still readable on disk");
    assert!(
        !contains(&disk, &id),
        "the job id is still readable on disk"
    );
    let stored: Vec<_> = std::fs::read_dir(data.join("batches"))
        .unwrap()
        .flatten()
        .collect();
    assert!(stored.is_empty(), "{stored:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retention_sweep_erases_finished_batches_on_its_own() {
    let s = setup_with(refusing(), |c| {
        c.retention = Duration::from_millis(400);
        c.sweep_every = Duration::from_millis(100);
    });
    s.svc.spawn_runners();
    s.svc.spawn_sweeper();
    let token = good_token("henry");
    let a = send(
        &s.app,
        upload(&zip_of(&[("r_image.jpg", b"x")]), &[], &token),
    )
    .await;
    assert_eq!(a.status, 202, "{}", a.text);
    let id = a.json["id"].as_str().unwrap().to_owned();
    wait_done(&s.app, &id, &token).await;
    let t0 = std::time::Instant::now();
    loop {
        let a = send(&s.app, get(&format!("/v1/batches/{id}"), &token)).await;
        if a.status == 404 {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(10),
            "not swept: {}",
            a.text
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!contains(&all_bytes(&s.dir.path().join("data")), &id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_zero_retention_only_the_owners_whole_download_erases() {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let s = setup_with(refusing(), |c| c.retention = Duration::ZERO);
    s.svc.spawn_runners();
    let token = good_token("iris");
    // Enough items that the archive spans several frames of the response body.
    let names: Vec<String> = (0..300).map(|i| format!("p{i:03}_image.jpg")).collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let a = send(&s.app, upload(&zip_of(&files), &[], &token)).await;
    assert_eq!(a.status, 202, "{}", a.text);
    let id = a.json["id"].as_str().unwrap().to_owned();
    wait_done(&s.app, &id, &token).await;
    let path = format!("/v1/batches/{id}/archive");
    let still_there = || async {
        send(&s.app, get(&format!("/v1/batches/{id}"), &token))
            .await
            .status
            == 200
    };

    let head = send(&s.app, bodiless("HEAD", &path, &token)).await;
    assert_eq!(head.status, 200);
    let admin =
        hs_token(serde_json::json!({"sub": "ops", "exp": now() + 600, "scope": "livegate:admin"}));
    let seen = s
        .app
        .clone()
        .oneshot(get(&path, &admin))
        .await
        .unwrap()
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes();
    assert!(seen.len() > 32 * 1024, "{} bytes", seen.len());
    // The owner's client stops reading after the first frame.
    let resp = s.app.clone().oneshot(get(&path, &token)).await.unwrap();
    let mut body = resp.into_body();
    assert!(body.frame().await.unwrap().unwrap().is_data());
    drop(body);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        still_there().await,
        "erased by a HEAD, an admin or half a download"
    );

    let whole = send(&s.app, get(&path, &token)).await;
    assert_eq!(whole.status, 200);
    let t0 = std::time::Instant::now();
    while still_there().await {
        assert!(t0.elapsed() < Duration::from_secs(10), "never erased");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_pages_through_the_callers_batches() {
    let s = setup_with(refusing(), |c| c.quota.active_jobs = 10);
    let token = good_token("dave");
    let mut ids = Vec::new();
    for i in 0..3 {
        let name = format!("s{i}_image.jpg");
        let a = send(&s.app, upload(&zip_of(&[(&name, b"x")]), &[], &token)).await;
        assert_eq!(a.status, 202);
        ids.push(a.json["id"].as_str().unwrap().to_owned());
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    let first = send(&s.app, get("/v1/batches?limit=2", &token)).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let page: Vec<&str> = first.json["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap())
        .collect();
    assert_eq!(page, [ids[2].as_str(), ids[1].as_str()]);
    let cursor = first.json["next_cursor"].as_str().unwrap();
    let rest = send(
        &s.app,
        get(&format!("/v1/batches?limit=2&cursor={cursor}"), &token),
    )
    .await;
    assert_eq!(rest.json["batches"][0]["id"], ids[0].as_str());
    assert!(rest.json["next_cursor"].is_null());
    for bad in [
        "/v1/batches?limit=0",
        "/v1/batches?limit=x",
        "/v1/batches?cursor=zz",
    ] {
        let a = send(&s.app, get(bad, &token)).await;
        assert_eq!(a.status, 400, "{bad}");
        assert!(a.json["detail"]["query"].is_object(), "{bad}: {}", a.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quotas_are_per_client_and_answer_429_with_retry_after() {
    let s = setup_with(refusing(), |c| c.quota.active_jobs = 2);
    let (erin, frank) = (good_token("erin"), good_token("frank"));
    let zip = zip_of(&[("q_image.jpg", b"x")]);
    for _ in 0..2 {
        assert_eq!(send(&s.app, upload(&zip, &[], &erin)).await.status, 202);
    }
    let over = send(&s.app, upload(&zip, &[], &erin)).await;
    assert_eq!(over.status, 429, "{}", over.text);
    assert!(over.headers.contains_key("retry-after"));
    assert!(
        over.json["detail"]["server"]["quota"][0].is_string(),
        "{}",
        over.text
    );
    assert_eq!(send(&s.app, upload(&zip, &[], &frank)).await.status, 202);
}

#[tokio::test]
async fn bad_uploads_get_the_envelope_and_leave_nothing_behind() {
    let s = setup_with(refusing(), |_| {});
    let token = good_token("gina");
    let a = send(
        &s.app,
        Form::new()
            .text("details", "True")
            .request("/v1/batches", Some(&token)),
    )
    .await;
    assert_eq!(a.status, 400);
    assert!(body_field(&a.json, "file").is_some(), "{}", a.text);

    let a = send(&s.app, upload(b"not a zip", &[], &token)).await;
    assert_eq!(a.status, 400);
    assert!(
        body_field(&a.json, "file").unwrap()[0]
            .as_str()
            .unwrap()
            .contains("ZIP")
    );

    let zip = zip_of(&[("a_image.jpg", b"x")]);
    let a = send(
        &s.app,
        upload(
            &zip,
            &[("facematch_threshold", "2"), ("frame_sampling_rate", "x")],
            &token,
        ),
    )
    .await;
    assert_eq!(a.status, 422);
    assert!(
        body_field(&a.json, "facematch_threshold").is_some(),
        "{}",
        a.text
    );
    assert!(
        body_field(&a.json, "frame_sampling_rate").is_some(),
        "{}",
        a.text
    );

    let a = send(&s.app, upload(&zip, &[], "not-a-token")).await;
    assert_eq!(a.status, 401);

    // The archive under another part name is named as such, not read as a long text field.
    for part in ["archive", "zip"] {
        let a = send(
            &s.app,
            Form::new()
                .file(part, "in.zip", &zip)
                .request("/v1/batches", Some(&token)),
        )
        .await;
        assert_eq!(a.status, 400, "{}", a.text);
        let why = body_field(&a.json, "file").unwrap()[0].as_str().unwrap();
        assert!(why.contains("\"file\"") && why.contains(part), "{why}");
    }

    // A declared length past the limit is refused before the body is read.
    let mut req = upload(&zip, &[], &token);
    req.headers_mut()
        .insert("content-length", "3000000000".parse().unwrap());
    let a = send(&s.app, req).await;
    assert_eq!(a.status, 413, "{}", a.text);
    assert!(body_field(&a.json, "file").is_some(), "{}", a.text);

    // A raw ZIP body is not multipart: the envelope says how to send it.
    let a = send(
        &s.app,
        Request::post("/v1/batches")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/zip")
            .body(Body::from(zip.clone()))
            .unwrap(),
    )
    .await;
    assert_eq!(a.status, 400, "{}", a.text);
    let why = body_field(&a.json, "form").unwrap()[0].as_str().unwrap();
    assert!(why.contains("multipart/form-data"), "{why}");

    // A misspelt setting is named, on a refusal as on an acceptance.
    let a = send(
        &s.app,
        upload(
            &zip,
            &[("enhanced_detetion", "False"), ("facematch_threshold", "2")],
            &token,
        ),
    )
    .await;
    assert_eq!(a.status, 422, "{}", a.text);
    assert_eq!(a.headers["x-livegate-ignored-fields"], "enhanced_detetion");

    let data = s.dir.path().join("data");
    let left = std::fs::read_dir(data.join("uploads")).unwrap().count()
        + std::fs::read_dir(data.join("batches")).unwrap().count();
    assert_eq!(left, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_shows_the_item_in_progress_as_running_and_it_keeps_its_result() {
    let slow: Arc<dyn Analyse> = Arc::new(Refuse {
        pause: Duration::from_millis(1500),
    });
    let s = setup_with(slow, |c| c.workers = 1);
    s.svc.spawn_runners();
    let token = good_token("jack");
    let zip = zip_of(&[("a_image.jpg", b"x"), ("b_image.jpg", b"y")]);
    let a = send(&s.app, upload(&zip, &[], &token)).await;
    let id = a.json["id"].as_str().unwrap().to_owned();
    let status = |v: &Value, i: usize| v["items"][i]["status"].as_str().unwrap().to_owned();
    let t0 = std::time::Instant::now();
    loop {
        let a = send(&s.app, get(&format!("/v1/batches/{id}"), &token)).await;
        if status(&a.json, 0) == "running" {
            assert_eq!(status(&a.json, 1), "pending", "{}", a.text);
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "{}", a.text);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let cancelled = send(
        &s.app,
        bodiless("POST", &format!("/v1/batches/{id}/cancel"), &token),
    )
    .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(status(&cancelled.json, 0), "running", "{}", cancelled.text);
    assert_eq!(status(&cancelled.json, 1), "not_run", "{}", cancelled.text);
    // Its archive waits for the item in progress.
    let archive = format!("/v1/batches/{id}/archive");
    let early = send(&s.app, get(&archive, &token)).await;
    assert_eq!(early.status, 409, "{}", early.text);
    assert!(
        early
            .text
            .contains("1 item(s) in progress are still finishing"),
        "{}",
        early.text
    );
    // The item in progress finishes and keeps its result; the other never runs.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let after = send(&s.app, get(&format!("/v1/batches/{id}"), &token)).await;
    assert_eq!(status(&after.json, 0), "error", "{}", after.text);
    assert_eq!(status(&after.json, 1), "not_run", "{}", after.text);
    assert_eq!(send(&s.app, get(&archive, &token)).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_paths_and_queries_get_the_envelope() {
    let s = setup_with(refusing(), |_| {});
    let token = good_token("ivan");
    for (path, location) in [
        ("/v1/batches/%ff%fe", "path"),
        ("/v1/batches/%ff%fe/archive", "path"),
        ("/v1/batches?limit=5&limit=6", "query"),
    ] {
        let a = send(&s.app, get(path, &token)).await;
        assert_eq!(a.status, 400, "{path}: {}", a.text);
        assert_eq!(a.headers["content-type"], "application/json", "{path}");
        assert!(
            a.json["detail"][location]["request"][0].is_string() && a.json["message"].is_string(),
            "{path}: {}",
            a.text
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_batch_names_the_fields_it_ignored() {
    let s = setup_with(refusing(), |_| {});
    let token = good_token("hugo");
    let zip = zip_of(&[("a_image.jpg", b"x")]);
    let a = send(
        &s.app,
        upload(
            &zip,
            &[("enhanced_detetion", "False"), ("details", "True")],
            &token,
        ),
    )
    .await;
    assert_eq!(a.status, 202, "{}", a.text);
    assert_eq!(a.headers["x-livegate-ignored-fields"], "enhanced_detetion");
    let a = send(
        &s.app,
        upload(&zip, &[("enhanced_detection", "False")], &token),
    )
    .await;
    assert_eq!(a.status, 202, "{}", a.text);
    assert!(a.headers.get("x-livegate-ignored-fields").is_none());
    // A batch's entries are files whatever `image_type` says: named as ignored, not echoed as
    // a setting it did not apply.
    let a = send(&s.app, upload(&zip, &[("image_type", "base64")], &token)).await;
    assert_eq!(a.status, 202, "{}", a.text);
    assert_eq!(a.headers["x-livegate-ignored-fields"], "image_type");
    assert_eq!(a.json["settings"]["image_type"], "file", "{}", a.text);
}

/// An archive over a count or size limit is a 413 (send less); an unsafe one a 400.
#[tokio::test]
async fn archives_over_a_limit_are_413_and_unsafe_ones_400() {
    let s = setup_with(refusing(), |c| c.limits.max_entries = 2);
    let token = good_token("ivy");
    let many = zip_of(&[
        ("a_image.jpg", b"x"),
        ("b_image.jpg", b"y"),
        ("c_image.jpg", b"z"),
    ]);
    let a = send(&s.app, upload(&many, &[], &token)).await;
    assert_eq!(a.status, 413, "{}", a.text);
    let why = body_field(&a.json, "file").unwrap()[0].as_str().unwrap();
    assert!(why.contains("at most 2"), "{why}");
    let unsafe_name = zip_of(&[("../a_image.jpg", b"x")]);
    let a = send(&s.app, upload(&unsafe_name, &[], &token)).await;
    assert_eq!(a.status, 400, "{}", a.text);
}

#[test]
fn every_batch_route_is_in_the_openapi_document() {
    let doc = server::openapi::document();
    for (path, method) in [
        ("/v1/batches", "post"),
        ("/v1/batches", "get"),
        ("/v1/batches/{id}", "get"),
        ("/v1/batches/{id}", "delete"),
        ("/v1/batches/{id}/cancel", "post"),
        ("/v1/batches/{id}/archive", "get"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
}
