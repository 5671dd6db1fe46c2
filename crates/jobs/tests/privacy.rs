//! What the store keeps and for how long, on either backend: the uploaded files go when their
//! batch finishes, an erase leaves nothing readable (not in the SQLite file, not in its WAL; no
//! row of any PostgreSQL table), the retention sweep removes expired batches, files are private
//! to the service's user, owners do not see each other's jobs, and quotas hold.

mod common;

use common::{ByteAnalyser, config, contains, stored, testdata, zip_of};
use jobs::{Access, Database, JobService, JobStatus, JobsConfig, Owner, QuotaError, SubmitError};
use liveness::AnalysisOptions;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

fn submit_as(svc: &JobService, owner: &Owner, bytes: &[u8]) -> Result<String, SubmitError> {
    let (path, mut file) = svc.new_upload().unwrap();
    std::io::Write::write_all(&mut file, bytes).unwrap();
    svc.submit(owner, &path, "in.zip", AnalysisOptions::default())
        .map(|j| j.id)
}

fn run_all(svc: &JobService) {
    while svc.run_one().unwrap() {}
}

/// A real selfie under a stem no other test uses, so its traces can be searched for on disk.
fn real_zip(stem: &str) -> Vec<u8> {
    let still = match testdata() {
        Some(td) => std::fs::read(td.join("faces/fr_obama.jpg")).unwrap(),
        None => b"REAL".to_vec(),
    };
    zip_of(&[(&format!("{stem}_image.jpg"), &still)])
}

#[test]
fn erase_leaves_nothing_on_disk_and_the_archive_goes_when_the_batch_ends() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let svc = JobService::open(cfg.clone(), Arc::new(ByteAnalyser::new(Duration::ZERO))).unwrap();
    let me = Owner::new("", "alice");
    let stem = "zq7marker4stem";
    let id = submit_as(&svc, &me, &real_zip(stem)).unwrap();
    let zip = dir.path().join("batches").join(format!("{id}.zip"));
    let media_rows = |c: &JobsConfig| {
        String::from_utf8_lossy(&stored(c))
            .matches("\nmedia ")
            .count()
    };
    match &cfg.database {
        Database::Sqlite => assert!(zip.exists(), "the archive is kept while the batch runs"),
        // The files are in the database, so any replica can run the item; no disk copy.
        Database::Postgres { .. } => {
            assert!(!zip.exists());
            assert_eq!(
                media_rows(&cfg),
                1,
                "the item's file is kept while the batch runs"
            );
        }
    }
    run_all(&svc);
    let access = Access::Owner(me.clone());
    assert_eq!(
        svc.job(&id, &access).unwrap().unwrap().status,
        JobStatus::Done
    );
    assert!(!zip.exists(), "the uploaded archive outlived its batch");
    assert_eq!(
        media_rows(&cfg),
        0,
        "the uploaded files outlived their batch"
    );
    assert!(contains(&stored(&cfg), stem), "the result is stored");

    assert!(svc.erase(&id, &access).unwrap());
    assert!(svc.job(&id, &access).unwrap().is_none());
    assert!(svc.archive(&id, &access).unwrap().is_none());
    let disk = stored(&cfg);
    assert!(
        !contains(&disk, stem),
        "the erased stem is still readable on disk"
    );
    assert!(
        !contains(&disk, &id),
        "the erased job id is still readable on disk"
    );
    assert!(
        !svc.erase(&id, &access).unwrap(),
        "erasing twice finds nothing"
    );
}

#[test]
fn owners_see_only_their_own_jobs_and_an_admin_sees_all() {
    let dir = tempfile::tempdir().unwrap();
    let svc = JobService::open(
        config(dir.path()),
        Arc::new(ByteAnalyser::new(Duration::ZERO)),
    )
    .unwrap();
    let (a, b) = (Owner::new("", "a"), Owner::new("", "b"));
    // The same sub in another tenant, or of another identity provider, is another client.
    let a_other_tenant = Owner::new("t2", "a");
    let a_other_issuer = Owner::new("", "a").issued_by("https://other.example");
    let ja = submit_as(&svc, &a, &zip_of(&[("x_image.jpg", b"REAL")])).unwrap();
    let jb = submit_as(&svc, &b, &zip_of(&[("y_image.jpg", b"REAL")])).unwrap();
    for namesake in [&a_other_tenant, &a_other_issuer] {
        // A's queued job counts against A's quota only.
        assert_eq!(svc.usage(namesake).unwrap().active_jobs, 0, "{namesake:?}");
    }
    for stranger in [&b, &a_other_tenant, &a_other_issuer] {
        let acc = Access::Owner(stranger.clone());
        assert!(svc.job(&ja, &acc).unwrap().is_none());
        assert!(svc.items(&ja, &acc).unwrap().is_empty());
        assert!(svc.archive(&ja, &acc).unwrap().is_none());
        assert!(svc.cancel(&ja, &acc).unwrap().is_none());
        assert!(!svc.erase(&ja, &acc).unwrap());
    }
    let mine = svc.list(&Access::Owner(a.clone()), None, 10).unwrap();
    assert_eq!(mine.iter().map(|j| &j.id).collect::<Vec<_>>(), [&ja]);
    assert_eq!(svc.list(&Access::Admin, None, 10).unwrap().len(), 2);
    // A tenant's administrator reaches every client of that tenant and issuer, no other.
    let tenant = |issuer: &str, tenant: &str| Access::Tenant {
        issuer: issuer.into(),
        tenant: tenant.into(),
    };
    assert_eq!(svc.list(&tenant("", ""), None, 10).unwrap().len(), 2);
    assert!(svc.job(&jb, &tenant("", "")).unwrap().is_some());
    for other in [tenant("", "t2"), tenant("https://other.example", "")] {
        assert!(svc.list(&other, None, 10).unwrap().is_empty(), "{other:?}");
        assert!(svc.job(&ja, &other).unwrap().is_none(), "{other:?}");
        assert!(!svc.erase(&ja, &other).unwrap(), "{other:?}");
    }
    assert!(svc.job(&jb, &Access::Admin).unwrap().is_some());
    // A's job is untouched by everything B tried.
    assert_eq!(
        svc.job(&ja, &Access::Owner(a)).unwrap().unwrap().status,
        JobStatus::Queued
    );
}

#[test]
fn listing_pages_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let svc = JobService::open(
        config(dir.path()),
        Arc::new(ByteAnalyser::new(Duration::ZERO)),
    )
    .unwrap();
    let me = Owner::new("", "pager");
    let mut ids = Vec::new();
    for i in 0..5 {
        let id = submit_as(&svc, &me, &zip_of(&[(&format!("s{i}_image.jpg"), b"REAL")])).unwrap();
        ids.push(id);
        run_all(&svc); // keeps the owner under its active-jobs quota
        std::thread::sleep(Duration::from_millis(3));
    }
    let acc = Access::Owner(me);
    let first = svc.list(&acc, None, 2).unwrap();
    let cursor = jobs::Cursor {
        created_ms: first[1].created_unix_ms,
        id: first[1].id.clone(),
    };
    let rest = svc.list(&acc, Some(&cursor), 10).unwrap();
    let seen: Vec<&String> = first.iter().chain(rest.iter()).map(|j| &j.id).collect();
    ids.reverse();
    assert_eq!(seen, ids.iter().collect::<Vec<_>>());
    assert_eq!(jobs::Cursor::decode(&cursor.encode()), Some(cursor));
    assert_eq!(jobs::Cursor::decode("12.not-hex"), None);
}

#[test]
fn the_retention_sweep_erases_expired_batches_only() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.retention = Duration::from_millis(300);
    let svc = JobService::open(cfg.clone(), Arc::new(ByteAnalyser::new(Duration::ZERO))).unwrap();
    let me = Owner::new("", "r");
    let old = submit_as(&svc, &me, &zip_of(&[("old_image.jpg", b"REAL")])).unwrap();
    run_all(&svc);
    std::thread::sleep(Duration::from_millis(400));
    let fresh = submit_as(&svc, &me, &zip_of(&[("new_image.jpg", b"REAL")])).unwrap();
    run_all(&svc);
    let running = submit_as(&svc, &me, &zip_of(&[("run_image.jpg", b"REAL")])).unwrap();
    assert_eq!(svc.sweep().unwrap(), std::slice::from_ref(&old));
    assert!(svc.job(&old, &Access::Admin).unwrap().is_none());
    assert!(svc.job(&fresh, &Access::Admin).unwrap().is_some());
    assert!(
        svc.job(&running, &Access::Admin).unwrap().is_some(),
        "an unfinished batch expired"
    );
    assert!(!contains(&stored(&cfg), "old_image.jpg"));
}

#[test]
fn retention_zero_erases_on_download() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.retention = Duration::ZERO;
    let svc = JobService::open(cfg, Arc::new(ByteAnalyser::new(Duration::ZERO))).unwrap();
    let me = Access::Owner(Owner::local());
    let id = submit_as(&svc, &Owner::local(), &zip_of(&[("z_image.jpg", b"REAL")])).unwrap();
    run_all(&svc);
    assert!(
        svc.sweep().unwrap().is_empty(),
        "zero retention keeps until downloaded"
    );
    assert!(svc.archive(&id, &me).unwrap().is_some());
    assert!(svc.downloaded(&id, &me).unwrap());
    assert!(svc.job(&id, &me).unwrap().is_none());
}

/// "Erase once downloaded" is not "keep forever" when nobody downloads: past the unclaimed
/// ceiling the sweep erases a batch, and so does any look at it between sweeps.
#[test]
fn retention_zero_still_erases_what_nobody_downloads() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.retention = Duration::ZERO;
    cfg.unclaimed = Duration::from_millis(300);
    let svc = JobService::open(cfg.clone(), Arc::new(ByteAnalyser::new(Duration::ZERO))).unwrap();
    let me = Owner::new("", "u");
    let swept = submit_as(&svc, &me, &zip_of(&[("swept_image.jpg", b"REAL")])).unwrap();
    let looked = submit_as(&svc, &me, &zip_of(&[("looked_image.jpg", b"REAL")])).unwrap();
    run_all(&svc);
    assert!(svc.sweep().unwrap().is_empty(), "erased before its time");
    std::thread::sleep(Duration::from_millis(400));
    let access = Access::Owner(me.clone());
    assert!(
        svc.job(&looked, &access).unwrap().is_none(),
        "served past the ceiling"
    );
    assert_eq!(svc.sweep().unwrap(), std::slice::from_ref(&swept));
    assert!(svc.job(&swept, &Access::Admin).unwrap().is_none());
    let rows = stored(&cfg);
    assert!(!contains(&rows, "swept_image.jpg") && !contains(&rows, "looked_image.jpg"));
}

#[test]
fn quotas_hold_per_client() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.quota = jobs::Quota {
        active_jobs: 2,
        bytes: 10_000,
        uploads: 1,
        uploads_in_all: 2,
    };
    let svc = JobService::open(cfg, Arc::new(ByteAnalyser::new(Duration::ZERO))).unwrap();
    let (a, b) = (Owner::new("", "a"), Owner::new("", "b"));
    let small = zip_of(&[("q_image.jpg", b"REAL")]);
    submit_as(&svc, &a, &small).unwrap();
    submit_as(&svc, &a, &small).unwrap();
    assert!(matches!(
        submit_as(&svc, &a, &small),
        Err(SubmitError::Quota(QuotaError::ActiveJobs { max: 2 }))
    ));
    assert!(matches!(
        svc.begin_upload(&a),
        Err(SubmitError::Quota(QuotaError::ActiveJobs { .. }))
    ));
    // Another client is not affected, up to its own limits.
    let slot = svc.begin_upload(&b).unwrap();
    assert!(slot.allowance <= 10_000);
    assert!(matches!(
        svc.begin_upload(&b),
        Err(SubmitError::Quota(QuotaError::Uploads { max: 1 }))
    ));
    // Two uploads in all: a third client waits for one of them to end.
    let c = Owner::new("", "c");
    let other = svc.begin_upload(&c).unwrap();
    assert!(matches!(
        svc.begin_upload(&Owner::new("", "d")),
        Err(SubmitError::Quota(QuotaError::UploadsInAll { max: 2 }))
    ));
    drop(other);
    drop(slot);
    // xorshift noise: deflate cannot shrink it below the quota.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let noise: Vec<u8> = (0..20_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let incompressible = zip_of(&[("n_image.jpg", &noise)]);
    assert!(matches!(
        submit_as(&svc, &b, &incompressible),
        Err(SubmitError::Quota(QuotaError::Bytes { max: 10_000 }))
    ));
    // A refused upload leaves nothing behind.
    assert_eq!(
        std::fs::read_dir(dir.path().join("uploads"))
            .unwrap()
            .count(),
        0
    );
}

#[cfg(unix)]
#[test]
fn the_data_directory_and_its_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cfg = config(&data);
    let sqlite = cfg.database == Database::Sqlite;
    let svc = JobService::open(cfg, Arc::new(ByteAnalyser::new(Duration::ZERO))).unwrap();
    let id = submit_as(&svc, &Owner::local(), &zip_of(&[("p_image.jpg", b"REAL")])).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for d in [data.clone(), data.join("batches"), data.join("uploads")] {
        assert_eq!(mode(&d), 0o700, "{}", d.display());
    }
    if sqlite {
        assert_eq!(mode(&data.join("jobs.sqlite3")), 0o600);
        assert_eq!(mode(&data.join("batches").join(format!("{id}.zip"))), 0o600);
        if data.join("jobs.sqlite3-wal").exists() {
            assert_eq!(mode(&data.join("jobs.sqlite3-wal")), 0o600);
        }
    } else {
        // With PostgreSQL nothing of a job is written to this machine's disk.
        assert_eq!(std::fs::read_dir(data.join("batches")).unwrap().count(), 0);
        assert!(!data.join("jobs.sqlite3").exists());
    }
}

#[test]
fn a_store_from_before_ownership_is_migrated_and_its_jobs_belong_to_nobody() {
    // The embedded store's own file format, whichever backend the suite runs against.
    let dir = tempfile::tempdir().unwrap();
    {
        let conn = rusqlite::Connection::open(dir.path().join("jobs.sqlite3")).unwrap();
        conn.execute_batch(
            "CREATE TABLE jobs (id TEXT PRIMARY KEY, status TEXT NOT NULL, zip_name TEXT NOT NULL,
                zip_path TEXT NOT NULL, settings TEXT NOT NULL, skipped TEXT NOT NULL,
                created_ms INTEGER NOT NULL, started_ms INTEGER, finished_ms INTEGER);",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO jobs VALUES ('0123abcd', 'done', 'old.zip', '/nonexistent.zip', ?1, '[]', 1, 1, 2)",
            [serde_json::to_string(&AnalysisOptions::default()).unwrap()],
        )
        .unwrap();
    }
    let open = |retention| {
        let mut cfg = JobsConfig::new(dir.path());
        cfg.retention = retention;
        // The row ended in 1970: only a ceiling this long keeps it under a zero retention.
        cfg.unclaimed = Duration::MAX;
        JobService::open(cfg, Arc::new(ByteAnalyser::new(Duration::ZERO))).unwrap()
    };
    // Kept until downloaded (retention zero), so that its ownership can be looked at.
    let svc = open(Duration::ZERO);
    assert!(
        svc.job("0123abcd", &Access::Owner(Owner::local()))
            .unwrap()
            .is_none()
    );
    assert!(svc.job("0123abcd", &Access::Admin).unwrap().is_some());
    drop(svc);
    // With the default retention it expired long ago: the first look erases it.
    let svc = open(JobsConfig::new(dir.path()).retention);
    assert!(svc.job("0123abcd", &Access::Admin).unwrap().is_none());
    assert!(svc.sweep().unwrap().is_empty(), "already erased");
}

/// A start removes the uploads a crash cut off, but not one another process on the same data
/// directory is receiving (it holds the file's lock), nor one just created.
#[test]
fn a_start_removes_cut_off_uploads_but_not_one_in_progress() {
    let dir = tempfile::tempdir().unwrap();
    let uploads = dir.path().join("uploads");
    std::fs::create_dir_all(&uploads).unwrap();
    let path = |name: &str| uploads.join(name);
    let aged = |name: &str, ago: Duration| {
        std::fs::write(path(name), b"selfie bytes").unwrap();
        let f = std::fs::File::options()
            .write(true)
            .open(path(name))
            .unwrap();
        f.set_modified(std::time::SystemTime::now() - ago).unwrap();
        f
    };
    // An upload a crash cut off five minutes ago: nobody holds its lock.
    drop(aged("crashed.part", Duration::from_secs(300)));
    drop(aged("ancient.part", Duration::from_secs(2 * 3600)));
    // One still arriving (slowly) at another process: locked.
    let receiving = aged("live.part", Duration::from_secs(300));
    receiving.try_lock().unwrap();
    // One created this instant, before its writer took the lock.
    drop(aged("new.part", Duration::ZERO));
    let _svc = JobService::open(
        config(dir.path()),
        Arc::new(ByteAnalyser::new(Duration::ZERO)),
    )
    .unwrap();
    assert!(!path("crashed.part").exists(), "a cut-off upload was left");
    assert!(!path("ancient.part").exists(), "a cut-off upload was left");
    assert!(
        path("live.part").exists(),
        "an upload in progress was removed"
    );
    assert!(path("new.part").exists(), "a new upload was removed");
    drop(receiving);
}

/// Between two sweeps an expired batch is not served: the first look past its retention
/// erases it, so a one-minute sweep does not stretch a two-minute retention to three.
#[test]
fn an_expired_batch_is_gone_at_the_first_look_before_any_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = config(dir.path());
    cfg.retention = Duration::from_millis(300);
    let svc = JobService::open(cfg.clone(), Arc::new(ByteAnalyser::new(Duration::ZERO))).unwrap();
    let me = Access::Owner(Owner::local());
    let (first, second) = (
        submit_as(
            &svc,
            &Owner::local(),
            &zip_of(&[("a_image.jpg", b"REAL-first")]),
        )
        .unwrap(),
        submit_as(
            &svc,
            &Owner::local(),
            &zip_of(&[("b_image.jpg", b"REAL-second")]),
        )
        .unwrap(),
    );
    run_all(&svc);
    assert!(svc.job(&first, &me).unwrap().is_some());
    std::thread::sleep(Duration::from_millis(400));
    // No sweep has run: the look itself erases.
    assert!(svc.list(&me, None, 10).unwrap().is_empty());
    assert!(svc.job(&second, &me).unwrap().is_none());
    assert!(svc.archive(&first, &me).unwrap().is_none());
    assert!(
        !contains(&stored(&cfg), "REAL-first"),
        "bytes left in the store"
    );
}
