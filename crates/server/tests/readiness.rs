//! `/readyz` tells a load balancer whether this replica can serve: 200 with its load while the
//! job store answers, 503 once its PostgreSQL database is gone (a replica without its database
//! must leave the rotation), while `/healthz` (the process is alive) stays 200.

mod common;

use axum::body::Body;
use axum::http::Request;
use common::*;
use jobs::{Database, JobService, JobsConfig};
use std::sync::Arc;

fn get(path: &str) -> Request<Body> {
    Request::builder().uri(path).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn readiness_follows_the_database() {
    let Some(server) = testkit::postgres::required_server_url() else {
        return;
    };
    let url = testkit::postgres::fresh_database(&server);
    let dir = tempfile::tempdir().unwrap();
    let mut jobs_cfg = JobsConfig::new(dir.path());
    jobs_cfg.database = Database::Postgres { url: url.clone() };
    let analyzer: Arc<dyn liveness::Analyse> = Arc::new(Refuse {
        pause: std::time::Duration::ZERO,
    });
    let svc = JobService::open(jobs_cfg, Arc::clone(&analyzer)).unwrap();
    let app = server::router(
        &hs_config(),
        analyzer,
        server::Extensions {
            public: axum::Router::new(),
            jobs: Some(svc),
        },
    );
    let ready = send(&app, get("/readyz")).await;
    assert_eq!(ready.status, 200, "{}", ready.text);
    assert_eq!(ready.json["status"], "ready");

    testkit::postgres::drop_database(&server, &url);
    let gone = send(&app, get("/readyz")).await;
    assert_eq!(gone.status, 503, "{}", gone.text);
    assert_eq!(gone.json["status"], "not_ready");
    assert!(!gone.text.contains(&url), "the database URL leaked");
    assert_eq!(send(&app, get("/healthz")).await.status, 200);
}
