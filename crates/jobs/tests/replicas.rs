//! Several processes on one PostgreSQL database: they share a batch, a dead one's item goes to
//! another when its lease runs out, a draining one hands its items back at once, results stay
//! exactly once, and a database left by an older release is upgraded in place. (Separate
//! processes killed with SIGKILL are in the CLI's `replicas` test.)

mod common;

use common::{ByteAnalyser, unzip, zip_of};
use jobs::postgres::PostgresStore;
use jobs::{Access, Database, Download, JobService, JobStatus, JobsConfig, Owner};
use liveness::AnalysisOptions;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A fresh database and two replicas' configurations on it (each its own data directory).
fn two_replicas(lease: Duration) -> Option<(tempfile::TempDir, JobsConfig, JobsConfig)> {
    let server = testkit::postgres::required_server_url()?;
    let url = testkit::postgres::fresh_database(&server);
    let dir = tempfile::tempdir().unwrap();
    let config = |name: &str| {
        let mut c = JobsConfig::new(dir.path().join(name));
        c.database = Database::Postgres { url: url.clone() };
        c.lease = lease;
        c
    };
    let (a, b) = (config("a"), config("b"));
    Some((dir, a, b))
}

fn submit(svc: &JobService, n: usize) -> String {
    let names: Vec<String> = (0..n).map(|i| format!("p{i:03}_image.jpg")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"REAL"[..])).collect();
    let (path, mut file) = svc.new_upload().unwrap();
    std::io::Write::write_all(&mut file, &zip_of(&entries)).unwrap();
    svc.submit(&Owner::local(), &path, "in.zip", AnalysisOptions::default())
        .unwrap()
        .id
}

#[test]
fn two_replicas_share_one_batch_and_every_item_runs_once() {
    let Some((_dir, a, b)) = two_replicas(Duration::from_secs(30)) else {
        return;
    };
    // Two processes judging alike (the same PAD weights and threshold); replicas that do not
    // judge alike do not share a batch (`batch_runs.rs`).
    let an_a = Arc::new(ByteAnalyser::new(Duration::from_millis(20)));
    let an_b = Arc::new(ByteAnalyser::new(Duration::from_millis(20)));
    let svc_a = JobService::open(a, an_a.clone()).unwrap();
    let svc_b = JobService::open(b, an_b.clone()).unwrap();
    // Submitted to one replica, run by both.
    let id = submit(&svc_a, 60);
    std::thread::scope(|s| {
        for svc in [&svc_a, &svc_b, &svc_a, &svc_b] {
            s.spawn(move || while svc.run_one().unwrap() {});
        }
    });
    let job = svc_b.job(&id, &Access::Admin).unwrap().unwrap();
    assert_eq!((job.status, job.done, job.ok), (JobStatus::Done, 60, 60));
    assert_eq!(an_a.calls() + an_b.calls(), 60, "an item ran twice");
    let mut by_worker: BTreeMap<String, usize> = BTreeMap::new();
    for item in svc_a.items(&id, &Access::Admin).unwrap() {
        let outcome = item.outcome.unwrap();
        let worker = outcome.worker.unwrap();
        assert_eq!(outcome.pad_weights, an_a.weights, "{}", item.stem);
        *by_worker.entry(worker).or_default() += 1;
    }
    assert_eq!(
        by_worker.len(),
        2,
        "one replica did all the work: {by_worker:?}"
    );
    assert!(by_worker.contains_key(svc_a.worker()) && by_worker.contains_key(svc_b.worker()));
    // Challenge ids: one signing key for every replica, and an id answered at one replica is
    // refused at the other.
    assert_eq!(
        svc_a.challenge_key().unwrap(),
        svc_b.challenge_key().unwrap()
    );
    let expires = jobs::now_ms() + 60_000;
    assert!(svc_a.consume_challenge("nonce-1", expires).unwrap());
    assert!(!svc_b.consume_challenge("nonce-1", expires).unwrap());
    // Given back (its answer was never analysed) at one replica, usable once more at the other.
    svc_a.release_challenge("nonce-1").unwrap();
    assert!(svc_b.consume_challenge("nonce-1", expires).unwrap());
    assert!(!svc_a.consume_challenge("nonce-1", expires).unwrap());
    // Either replica assembles the same complete archive from the rows.
    let files = unzip(
        &svc_b
            .archive(&id, &Access::Admin)
            .unwrap()
            .and_then(Download::ready)
            .unwrap(),
    );
    assert_eq!(files.keys().filter(|k| k.starts_with("json/")).count(), 60);
    assert_eq!(files["results.csv"].lines().count(), 61);
    // One judging for the whole batch, whichever replica ran each item.
    let summary: serde_json::Value = serde_json::from_str(&files["summary.json"]).unwrap();
    assert_eq!(
        summary["pad_weights"].as_array().unwrap().len(),
        1,
        "{}",
        summary["pad_weights"]
    );
    assert_eq!(summary["pad_weights"][0]["verdicts"], 60);
}

#[test]
fn a_dead_replicas_item_goes_to_another_when_its_lease_runs_out() {
    let Some((_dir, a, b)) = two_replicas(Duration::from_millis(600)) else {
        return;
    };
    let an = Arc::new(ByteAnalyser::new(Duration::ZERO));
    let svc_a = JobService::open(a, an.clone()).unwrap();
    let id = submit(&svc_a, 3);
    // Replica A takes item 0 and dies with it: no result, no heartbeat, no goodbye.
    let lost = svc_a
        .store()
        .claim(svc_a.worker(), Duration::from_millis(600), svc_a.pin())
        .unwrap()
        .unwrap();
    assert_eq!(lost.index, 0);
    drop(svc_a);
    let svc_b = JobService::open(b, an.clone()).unwrap();
    let t0 = Instant::now();
    assert!(svc_b.run_one().unwrap());
    assert!(svc_b.run_one().unwrap());
    assert!(!svc_b.run_one().unwrap(), "a live lease was taken");
    std::thread::sleep(Duration::from_millis(700).saturating_sub(t0.elapsed()));
    assert!(
        svc_b.run_one().unwrap(),
        "the expired lease was not taken over"
    );
    let job = svc_b.job(&id, &Access::Admin).unwrap().unwrap();
    assert_eq!((job.status, job.done), (JobStatus::Done, 3));
    let items = svc_b.items(&id, &Access::Admin).unwrap();
    assert!(
        items
            .iter()
            .all(|i| i.outcome.as_ref().unwrap().worker.as_deref() == Some(svc_b.worker()))
    );
}

#[test]
fn a_heartbeat_keeps_a_slow_item_with_its_replica() {
    let Some((_dir, a, b)) = two_replicas(Duration::from_millis(600)) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // One item that takes three lease periods: only the heartbeat keeps it from being run
    // a second time by the other replica.
    let slow = Arc::new(ByteAnalyser::new(Duration::from_millis(1800)));
    let other = Arc::new(ByteAnalyser::new(Duration::ZERO));
    let id = rt.block_on(async {
        let svc_a = JobService::open(a, slow.clone()).unwrap();
        let id = submit(&svc_a, 1);
        svc_a.spawn_runners();
        let svc_b = JobService::open(b, other.clone()).unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_millis(2000) {
            let b = Arc::clone(&svc_b);
            assert!(
                !tokio::task::spawn_blocking(move || b.run_one())
                    .await
                    .unwrap()
                    .unwrap(),
                "the other replica took an item whose replica is alive"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let job = svc_a.job(&id, &Access::Admin).unwrap().unwrap();
        assert_eq!(job.status, JobStatus::Done);
        id
    });
    rt.shutdown_background();
    assert_eq!((slow.calls(), other.calls()), (1, 0), "job {id}");
}

#[test]
fn an_idle_replica_is_woken_by_work_added_at_another() {
    let Some((_dir, a, mut b)) = two_replicas(Duration::from_secs(30)) else {
        return;
    };
    // B's runner would look for work on its own only every 30 s: whatever it runs within the
    // test's few seconds it was told about.
    b.idle_poll = Duration::from_secs(30);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let an = Arc::new(ByteAnalyser::new(Duration::ZERO));
    rt.block_on(async {
        let svc_a = JobService::open(a, an.clone()).unwrap();
        let svc_b = JobService::open(b, an.clone()).unwrap();
        svc_b.spawn_runners();
        // B's runner finds nothing and settles into its long wait.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let id = submit(&svc_a, 2);
        let t0 = Instant::now();
        loop {
            let job = svc_b.job(&id, &Access::Admin).unwrap().unwrap();
            if job.status == JobStatus::Done {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "the idle replica was not woken"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    rt.shutdown_background();
    assert_eq!(an.calls(), 2);
}

#[test]
fn a_draining_replica_hands_its_items_back_at_once() {
    let Some((_dir, a, b)) = two_replicas(Duration::from_secs(60)) else {
        return;
    };
    let an = Arc::new(ByteAnalyser::new(Duration::ZERO));
    let svc_a = JobService::open(a, an.clone()).unwrap();
    let svc_b = JobService::open(b, an.clone()).unwrap();
    let id = submit(&svc_a, 1);
    let held = svc_a
        .store()
        .claim(svc_a.worker(), Duration::from_secs(60), svc_a.pin())
        .unwrap();
    assert!(held.is_some());
    assert!(!svc_b.run_one().unwrap(), "a held item was taken");
    // SIGTERM: nothing in flight in the runner, so the lease goes back without waiting.
    assert_eq!(svc_a.drain(Duration::from_secs(5)).unwrap(), 1);
    assert!(!svc_a.run_one().unwrap(), "a draining replica claimed work");
    assert!(svc_b.run_one().unwrap());
    let job = svc_b.job(&id, &Access::Admin).unwrap().unwrap();
    assert_eq!((job.status, job.done), (JobStatus::Done, 1));
}

#[test]
fn cancel_and_erase_at_one_replica_reach_the_other() {
    let Some((_dir, a, b)) = two_replicas(Duration::from_secs(30)) else {
        return;
    };
    let an = Arc::new(ByteAnalyser::new(Duration::ZERO));
    let svc_a = JobService::open(a, an.clone()).unwrap();
    let svc_b = JobService::open(b, an.clone()).unwrap();
    let cancelled = submit(&svc_a, 3);
    let erased = submit(&svc_a, 3);
    let claim = |svc: &JobService| {
        svc.store()
            .claim(svc.worker(), Duration::from_secs(30), svc.pin())
            .unwrap()
            .unwrap()
    };
    // B is running an item of the first batch when A cancels it, and then one of the second
    // when A erases that one.
    let running = claim(&svc_b);
    assert_eq!(running.job_id, cancelled);
    assert_eq!(
        svc_a.cancel(&cancelled, &Access::Admin).unwrap(),
        Some(JobStatus::Cancelled)
    );
    let doomed = claim(&svc_b);
    assert_eq!(
        doomed.job_id, erased,
        "an item of a cancelled batch was handed out"
    );
    assert!(svc_a.erase(&erased, &Access::Admin).unwrap());
    let outcome = jobs::store::Outcome {
        ok: true,
        body: serde_json::json!({"result": "real"}),
        elapsed_ms: 1,
        reason: None,
        near_threshold: false,
        pad_weights: Default::default(),
        image_real_threshold: None,
        worker: None,
    };
    // The item that ran before the cancel keeps its result; the erased batch gets nothing.
    let store = svc_b.store();
    store
        .record(&running.job_id, running.index, svc_b.worker(), &outcome)
        .unwrap();
    assert!(
        !store
            .record(&doomed.job_id, doomed.index, svc_b.worker(), &outcome)
            .unwrap()
    );
    assert!(
        !svc_b.run_one().unwrap(),
        "work of a cancelled or erased batch ran"
    );
    let job = svc_b.job(&cancelled, &Access::Admin).unwrap().unwrap();
    assert_eq!((job.status, job.done), (JobStatus::Cancelled, 1));
    assert!(svc_b.job(&erased, &Access::Admin).unwrap().is_none());
    assert_eq!(an.calls(), 0);
}

#[test]
fn a_database_from_an_older_release_is_upgraded_and_its_jobs_run() {
    let Some(server) = testkit::postgres::required_server_url() else {
        return;
    };
    let url = testkit::postgres::fresh_database(&server);
    // The first schema only (no challenges, no result workers), with a queued job in it.
    PostgresStore::migrate_to(&url, 1).unwrap();
    let settings = serde_json::to_string(&AnalysisOptions::default()).unwrap();
    testkit::postgres::execute(
        &url,
        format!(
            r#"INSERT INTO jobs (id, status, zip_name, settings, skipped, created_ms, owner_tenant, owner_sub)
             VALUES ('0a1d', 'queued', 'old.zip', '{settings}', '[]', 1, '', 'local');
           INSERT INTO items (job_id, idx, stem, task)
             VALUES ('0a1d', 0, 'old', '{{"kind":"liveness","image":"old_image.jpg"}}');
           INSERT INTO media (job_id, name, bytes) VALUES ('0a1d', 'old_image.jpg', 'REAL');"#
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut config = JobsConfig::new(dir.path());
    config.database = Database::Postgres { url: url.clone() };
    let an = Arc::new(ByteAnalyser::new(Duration::ZERO));
    let svc = JobService::open(config, an.clone()).unwrap();
    assert_eq!(
        PostgresStore::open(&url)
            .unwrap()
            .applied_migrations()
            .unwrap(),
        [1, 2, 3, 4, 5, 6, 7, 8, 9]
    );
    assert!(svc.run_one().unwrap());
    let job = svc
        .job("0a1d", &Access::Owner(Owner::local()))
        .unwrap()
        .unwrap();
    assert_eq!((job.status, job.ok), (JobStatus::Done, 1));
    // What the later migrations added works too.
    assert_eq!(svc.challenge_key().unwrap().len(), 32);
    let items = svc.items("0a1d", &Access::Admin).unwrap();
    assert_eq!(
        items[0].outcome.as_ref().unwrap().worker.as_deref(),
        Some(svc.worker())
    );
    assert_eq!(items[0].outcome.as_ref().unwrap().pad_weights, an.weights);
}

#[test]
fn an_unreachable_database_fails_the_ping_and_every_call_cleanly() {
    let Some(server) = testkit::postgres::required_server_url() else {
        return;
    };
    let url = testkit::postgres::fresh_database(&server);
    let dir = tempfile::tempdir().unwrap();
    let mut config = JobsConfig::new(dir.path());
    config.database = Database::Postgres { url: url.clone() };
    let svc = JobService::open(config, Arc::new(ByteAnalyser::new(Duration::ZERO))).unwrap();
    svc.ping().unwrap();
    testkit::postgres::drop_database(&server, &url);
    assert!(svc.ping().is_err());
    assert!(svc.job("00", &Access::Admin).is_err());
    assert!(svc.run_one().is_err());
}

/// Uploads admitted at the same moment by different replicas each saw the usage from before
/// the others; the insert's own check under a per-owner lock keeps the quota.
#[test]
fn replicas_admitting_at_once_keep_one_quota() {
    let Some((_dir, mut a, mut b)) = two_replicas(Duration::from_secs(30)) else {
        return;
    };
    for c in [&mut a, &mut b] {
        c.quota.active_jobs = 2;
    }
    let an = Arc::new(ByteAnalyser::new(Duration::ZERO));
    let replicas = [
        JobService::open(a, an.clone()).unwrap(),
        JobService::open(b, an.clone()).unwrap(),
    ];
    let start = std::sync::Barrier::new(6);
    let accepted = std::thread::scope(|s| {
        let tries: Vec<_> = (0..6)
            .map(|i| {
                let (svc, start) = (&replicas[i % 2], &start);
                s.spawn(move || {
                    let (path, mut file) = svc.new_upload().unwrap();
                    std::io::Write::write_all(&mut file, &zip_of(&[("p_image.jpg", b"REAL")]))
                        .unwrap();
                    start.wait();
                    svc.submit(&Owner::local(), &path, "in.zip", AnalysisOptions::default())
                })
            })
            .collect();
        tries
            .into_iter()
            .map(|t| t.join().unwrap())
            .filter(|r| match r {
                Ok(_) => true,
                Err(jobs::SubmitError::Quota(_)) => false,
                Err(e) => panic!("{e}"),
            })
            .count()
    });
    assert_eq!(accepted, 2);
    assert_eq!(replicas[0].usage(&Owner::local()).unwrap().active_jobs, 2);
}

/// On PostgreSQL the items' files are kept unpacked, so the quota counts them unpacked: an
/// archive of well-compressed files is charged what it becomes in the database, not its size.
#[test]
fn the_quota_counts_what_the_database_keeps_unpacked() {
    let Some((_dir, mut a, _)) = two_replicas(Duration::from_secs(30)) else {
        return;
    };
    a.quota.bytes = 1024 * 1024;
    // Zeros compress past the ratio a bomb is refused at: that check is not the one tested.
    a.limits.max_ratio = u64::MAX;
    let svc = JobService::open(a, Arc::new(ByteAnalyser::new(Duration::ZERO))).unwrap();
    // 2 MiB of zeros: a few kilobytes zipped, 2 MiB in the database.
    let zeros = vec![0u8; 2 * 1024 * 1024];
    let bytes = zip_of(&[("p_image.jpg", zeros.as_slice())]);
    assert!(bytes.len() < 64 * 1024, "{}", bytes.len());
    let (path, mut file) = svc.new_upload().unwrap();
    std::io::Write::write_all(&mut file, &bytes).unwrap();
    match svc.submit(&Owner::local(), &path, "in.zip", AnalysisOptions::default()) {
        Err(jobs::SubmitError::Quota(_)) => {}
        other => panic!("accepted or another error: {other:?}"),
    }
    assert_eq!(svc.usage(&Owner::local()).unwrap().active_jobs, 0);
    // A small file is charged its unpacked size and admitted.
    let (path, mut file) = svc.new_upload().unwrap();
    std::io::Write::write_all(&mut file, &zip_of(&[("q_image.jpg", &zeros[..1000])])).unwrap();
    svc.submit(&Owner::local(), &path, "in.zip", AnalysisOptions::default())
        .unwrap();
    assert_eq!(svc.usage(&Owner::local()).unwrap().bytes, 1000);
}
