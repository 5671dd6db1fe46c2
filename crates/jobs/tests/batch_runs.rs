//! The store, the runner and the archive together: a batch runs to completion, a restart
//! resumes it without re-running or losing items, failures become error rows.

mod common;

use common::{ByteAnalyser, config, testdata, unzip, zip_of};
use jobs::{Access, Download, JobService, JobStatus, Owner};
use liveness::AnalysisOptions;
use std::sync::Arc;
use std::time::Duration;
use testkit::csv_cell;

fn submit(svc: &JobService, bytes: &[u8], opts: AnalysisOptions) -> String {
    let (path, mut file) = svc.new_upload().unwrap();
    std::io::Write::write_all(&mut file, bytes).unwrap();
    svc.submit(&Owner::local(), &path, "in.zip", opts)
        .unwrap()
        .id
}

/// A store in `dir` whose analyser answers at once.
fn quick_service(dir: &std::path::Path) -> Arc<JobService> {
    JobService::open(config(dir), Arc::new(ByteAnalyser::new(Duration::ZERO))).unwrap()
}

/// The finished batch's results archive, entry name → text.
fn archive_files(svc: &JobService, id: &str) -> std::collections::BTreeMap<String, String> {
    unzip(
        &svc.archive(id, &Access::Admin)
            .unwrap()
            .and_then(Download::ready)
            .unwrap(),
    )
}

fn run_all(svc: &JobService) -> usize {
    let mut n = 0;
    while svc.run_one().unwrap() {
        n += 1;
    }
    n
}

#[test]
fn a_batch_runs_and_its_archive_has_every_stem_and_skipped_file() {
    let dir = tempfile::tempdir().unwrap();
    let an = Arc::new(ByteAnalyser::new(Duration::ZERO));
    let svc = JobService::open(config(dir.path()), an.clone()).unwrap();
    let bytes = zip_of(&[
        ("alice_image.jpg", b"REAL-alice"),
        ("alice_video.mp4", b"video-bytes"),
        ("bob_image.jpg", b"BAD image"),
        ("carol_video.webm", b"vvv"),
        ("dan_image1.png", b"same"),
        ("dan_image2.png", b"same"),
        ("eve_image.jpg", b"PANIC"),
        ("notes.txt", b"hello"),
        ("frank_image1.jpg", b"lonely"),
    ]);
    let opts = AnalysisOptions {
        frame_sampling_rate: 7,
        ..AnalysisOptions::default()
    };
    let id = submit(&svc, &bytes, opts);
    assert_eq!(
        svc.job(&id, &Access::Admin).unwrap().unwrap().status,
        JobStatus::Queued
    );
    assert_eq!(run_all(&svc), 5);
    let job = svc.job(&id, &Access::Admin).unwrap().unwrap();
    assert_eq!(job.status, JobStatus::Done);
    assert_eq!((job.total, job.done, job.ok, job.error), (5, 5, 3, 2));

    let files = archive_files(&svc, &id);
    let names: Vec<_> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "json/alice.json",
            "json/bob.json",
            "json/carol.json",
            "json/dan.json",
            "json/eve.json",
            "results.csv",
            "summary.json"
        ]
    );
    let alice: serde_json::Value = serde_json::from_str(&files["json/alice.json"]).unwrap();
    assert_eq!(alice["result"], "real");
    // The image entry reached the image role, the video the video role, settings applied.
    assert_eq!(alice["real_video_frames"], 10);
    assert_eq!(alice["video_frames_analyzed"], 11);
    assert_eq!(alice["frame_sampling_rate"], 7);
    // Floats read as the API writes them (f32 shortest form), not widened to f64 noise.
    assert!(files["json/alice.json"].contains("\"confidence\": 0.9,"));
    assert!(rows_contain(
        &files["results.csv"],
        "alice,liveness,ok,alice_image.jpg alice_video.mp4,real,0.9,True,0.9,"
    ));
    let bob: serde_json::Value = serde_json::from_str(&files["json/bob.json"]).unwrap();
    assert_eq!(bob["detail"]["body"]["image"][0], "not a decodable image");
    let dan: serde_json::Value = serde_json::from_str(&files["json/dan.json"]).unwrap();
    assert_eq!(dan["facematch_result"], "True");

    let csv = &files["results.csv"];
    let rows: Vec<&str> = csv.lines().collect();
    assert!(rows[0].starts_with("stem,kind,status,files,result"));
    assert_eq!(rows.len(), 1 + 5 + 2, "{csv}");
    assert!(rows[1].starts_with("alice,liveness,ok,alice_image.jpg alice_video.mp4,real,"));
    assert!(rows[2].starts_with("bob,liveness,error,"));
    assert!(rows[2].contains("not a decodable image"));
    assert!(rows[5].starts_with("eve,liveness,error,"));
    assert!(csv.contains(",skipped,notes.txt,"));
    assert!(csv.contains(",skipped,frank_image1.jpg,"));

    let summary: serde_json::Value = serde_json::from_str(&files["summary.json"]).unwrap();
    assert_eq!(summary["counts"]["ok"], 3);
    assert_eq!(summary["counts"]["error"], 2);
    assert_eq!(summary["counts"]["skipped_files"], 2);
    assert_eq!(summary["settings"]["frame_sampling_rate"], 7);
    assert_eq!(an.calls(), 5);
}

#[test]
fn the_same_file_name_in_two_folders_is_two_people_with_results_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let svc = quick_service(dir.path());
    // One folder per person, with the same names inside, as a capture app files them.
    let bytes = zip_of(&[
        ("alice/selfie_image.jpg", b"REAL-alice"),
        ("bob/selfie_image.jpg", b"BAD image"),
        // A device name Windows cannot create: its response gets a name it can.
        ("con_image.jpg", b"REAL-con"),
    ]);
    let id = submit(&svc, &bytes, AnalysisOptions::default());
    assert_eq!(run_all(&svc), 3);
    let files = archive_files(&svc, &id);
    let alice: serde_json::Value = serde_json::from_str(&files["json/alice/selfie.json"]).unwrap();
    assert_eq!(alice["result"], "real");
    let bob: serde_json::Value = serde_json::from_str(&files["json/bob/selfie.json"]).unwrap();
    assert_eq!(bob["detail"]["body"]["image"][0], "not a decodable image");
    assert!(rows_contain(
        &files["results.csv"],
        "alice/selfie,liveness,ok,alice/selfie_image.jpg,real,"
    ));
    assert!(!files["results.csv"].contains("skipped"));
    let csv = &files["results.csv"];
    assert_eq!(
        csv_cell(csv, "alice/selfie", "json"),
        "json/alice/selfie.json"
    );
    assert_eq!(csv_cell(csv, "con", "json"), "json/_con.json");
    assert!(files.contains_key("json/_con.json"), "{:?}", files.keys());
}

#[test]
fn stills_scored_near_their_threshold_are_marked_for_review() {
    let dir = tempfile::tempdir().unwrap();
    let svc = quick_service(dir.path());
    let bytes = zip_of(&[
        ("close_image.jpg", b"NEAR-close"),
        ("clear_image.jpg", b"REAL-clear"),
        ("print_image.jpg", b"print"),
        ("pair_image1.png", b"same"),
        ("pair_image2.png", b"same"),
    ]);
    let id = submit(&svc, &bytes, AnalysisOptions::default());
    assert_eq!(run_all(&svc), 4);
    let files = archive_files(&svc, &id);
    let csv = &files["results.csv"];
    let flag = |stem: &str| csv_cell(csv, stem, "near_threshold");
    assert_eq!(flag("close"), "true", "{csv}");
    assert_eq!(flag("clear"), "false");
    assert_eq!(flag("print"), "false");
    assert_eq!(flag("pair"), "", "no threshold in a facematch row");
    let summary: serde_json::Value = serde_json::from_str(&files["summary.json"]).unwrap();
    assert_eq!(summary["counts"]["near_threshold"], 1);
}

#[test]
fn every_verdict_names_the_pad_weights_that_judged_it() {
    let dir = tempfile::tempdir().unwrap();
    let sha256 = "c".repeat(64);
    let svc = JobService::open(
        config(dir.path()),
        Arc::new(ByteAnalyser::judging_with(Duration::ZERO, &sha256)),
    )
    .unwrap();
    let bytes = zip_of(&[
        ("live_image.jpg", b"REAL-live"),
        ("print_image.jpg", b"print"),
        ("broken_image.jpg", b"BAD"),
        ("pair_image1.png", b"same"),
        ("pair_image2.png", b"same"),
    ]);
    let id = submit(&svc, &bytes, AnalysisOptions::default());
    assert_eq!(run_all(&svc), 4);
    // Read back from the store, not from memory: the column survives the round trip.
    let items = svc.items(&id, &Access::Admin).unwrap();
    let weights = |stem: &str| {
        let item = items.iter().find(|i| i.stem == stem).unwrap();
        item.outcome.as_ref().unwrap().pad_weights.to_vec()
    };
    let judged = vec![("crop_27.onnx".to_owned(), sha256.clone())];
    assert_eq!(weights("live"), judged);
    assert_eq!(weights("print"), judged);
    assert_eq!(weights("broken"), [], "an error was judged by no model");
    assert_eq!(weights("pair"), [], "a facematch is judged by no PAD model");

    let files = archive_files(&svc, &id);
    let csv = &files["results.csv"];
    let cell = |stem: &str| csv_cell(csv, stem, "pad_weights");
    assert_eq!(cell("live"), format!("crop_27.onnx:{sha256}"), "{csv}");
    assert_eq!(cell("print"), format!("crop_27.onnx:{sha256}"));
    assert_eq!(cell("broken"), "");
    assert_eq!(cell("pair"), "");
    let summary: serde_json::Value = serde_json::from_str(&files["summary.json"]).unwrap();
    assert_eq!(
        summary["pad_weights"],
        serde_json::json!([{"weights": {"crop_27.onnx": sha256}, "image_real_threshold": 0.43, "verdicts": 2}])
    );
    assert_eq!(csv_cell(csv, "live", "image_real_threshold"), "0.43");
    assert_eq!(csv_cell(csv, "pair", "image_real_threshold"), "");
}

/// A batch stays with the replicas that judge as the one that admitted it (an outside review
/// ran a 0.95 replica beside two at 0.43 and 9 of 23 verdicts of one batch flipped with the
/// replica that took them). Once none of them has taken an item for the grace, another replica
/// finishes it, and the archive tells the two ways of judging apart.
#[test]
fn a_batch_stays_with_replicas_that_judge_alike_until_they_are_gone() {
    const GRACE: Duration = Duration::from_millis(1500);
    let dir = tempfile::tempdir().unwrap();
    // Replicas of one store (one database on PostgreSQL).
    let cfg = config(dir.path());
    let usual = JobService::open(cfg.clone(), Arc::new(ByteAnalyser::new(Duration::ZERO))).unwrap();
    let strict = |grace: Duration| {
        let mut c = cfg.clone();
        c.judging_grace = grace;
        JobService::open(
            c,
            Arc::new(ByteAnalyser::new(Duration::ZERO).at_threshold(0.95)),
        )
        .unwrap()
    };
    let other_layer = JobService::open(
        cfg.clone(),
        Arc::new(ByteAnalyser::judging_with(Duration::ZERO, &"d".repeat(64))),
    )
    .unwrap();
    let bytes = zip_of(&[("a_image.jpg", b"REAL-a"), ("b_image.jpg", b"REAL-b")]);
    let id = submit(&usual, &bytes, AnalysisOptions::default());
    let (strict_default, strict_soon) = (strict(cfg.judging_grace), strict(GRACE));
    assert!(
        !strict_default.run_one().unwrap(),
        "another threshold took a fresh batch"
    );
    assert!(
        !other_layer.run_one().unwrap(),
        "other weights took a fresh batch"
    );
    assert!(usual.run_one().unwrap());
    assert!(
        !strict_soon.run_one().unwrap(),
        "taken while its own replicas are about"
    );
    // The replicas at 0.43 are gone (a rolling change of the operating point is over).
    std::thread::sleep(GRACE + Duration::from_millis(100));
    assert!(!strict_default.run_one().unwrap(), "taken before its grace");
    assert!(
        strict_soon.run_one().unwrap(),
        "left unfinished after the grace"
    );
    let files = unzip(
        &usual
            .archive(&id, &Access::Admin)
            .unwrap()
            .and_then(Download::ready)
            .unwrap(),
    );
    let csv = &files["results.csv"];
    assert_eq!(csv_cell(csv, "a", "image_real_threshold"), "0.43", "{csv}");
    assert_eq!(csv_cell(csv, "b", "image_real_threshold"), "0.95", "{csv}");
    assert_eq!(csv_cell(csv, "b", "result"), "fake", "0.9 is under 0.95");
    let summary: serde_json::Value = serde_json::from_str(&files["summary.json"]).unwrap();
    let thresholds: Vec<f64> = summary["pad_weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["image_real_threshold"].as_f64().unwrap())
        .collect();
    assert_eq!(thresholds, [0.43, 0.95], "{}", summary["pad_weights"]);
}

#[test]
fn a_restart_resumes_without_rerunning_or_losing_items() {
    let dir = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..6).map(|i| format!("p{i}_image.jpg")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"REAL"[..])).collect();
    let cfg = config(dir.path());
    let id = {
        let an = Arc::new(ByteAnalyser::new(Duration::ZERO));
        let svc = JobService::open(cfg.clone(), an.clone()).unwrap();
        let id = submit(&svc, &zip_of(&entries), AnalysisOptions::default());
        assert!(svc.run_one().unwrap());
        assert!(svc.run_one().unwrap());
        let job = svc.job(&id, &Access::Admin).unwrap().unwrap();
        assert_eq!((job.status, job.done), (JobStatus::Running, 2));
        id
        // Dropped here without any shutdown step, as a killed process would.
    };
    let an = Arc::new(ByteAnalyser::new(Duration::ZERO));
    let svc = JobService::open(cfg, an.clone()).unwrap();
    assert_eq!(run_all(&svc), 4);
    assert_eq!(an.calls(), 4, "items done before the restart ran again");
    let job = svc.job(&id, &Access::Admin).unwrap().unwrap();
    assert_eq!((job.status, job.done, job.ok), (JobStatus::Done, 6, 6));
}

#[test]
fn the_runner_loop_picks_up_work_and_cancel_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cfg = config(dir.path());
    rt.block_on(async {
        let an = Arc::new(ByteAnalyser::new(Duration::from_millis(100)));
        let svc = JobService::open(cfg, an.clone()).unwrap();
        svc.spawn_runners();
        let names: Vec<String> = (0..30).map(|i| format!("p{i:02}_image.jpg")).collect();
        let entries: Vec<(&str, &[u8])> =
            names.iter().map(|n| (n.as_str(), &b"REAL"[..])).collect();
        let id = submit(&svc, &zip_of(&entries), AnalysisOptions::default());
        let t0 = std::time::Instant::now();
        loop {
            let job = svc.job(&id, &Access::Admin).unwrap().unwrap();
            if job.done >= 3 {
                break;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(10),
                "runner did not start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            svc.cancel(&id, &Access::Admin).unwrap(),
            Some(JobStatus::Cancelled)
        );
        tokio::time::sleep(Duration::from_millis(400)).await;
        let job = svc.job(&id, &Access::Admin).unwrap().unwrap();
        assert_eq!(job.status, JobStatus::Cancelled);
        assert!(job.done < 10, "kept running after cancel: {}", job.done);
        let files = archive_files(&svc, &id);
        assert!(files["results.csv"].contains(",not_run,"));
    });
}

#[test]
fn real_files_reach_the_analysis_byte_for_byte() {
    let Some(td) = testdata() else { return };
    let still = std::fs::read(td.join("faces/fr_obama.jpg")).unwrap();
    let video = std::fs::read(td.join("videos/blinkdetector_selfie_blinks.mp4")).unwrap();
    let bytes = zip_of(&[
        ("obama_image.jpg", &still),
        ("obama_video.mp4", &video),
        ("selfie_video.mp4", &video),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let an = Arc::new(ByteAnalyser::new(Duration::ZERO));
    let svc = JobService::open(config(dir.path()), an).unwrap();
    let id = submit(&svc, &bytes, AnalysisOptions::default());
    assert_eq!(run_all(&svc), 2);
    let items = svc.items(&id, &Access::Admin).unwrap();
    let body = &items[0].outcome.as_ref().unwrap().body;
    assert_eq!(
        body["real_video_frames"].as_u64().unwrap() as usize,
        still.len()
    );
    assert_eq!(
        body["video_frames_analyzed"].as_u64().unwrap() as usize,
        video.len()
    );
    assert_eq!(items[1].stem, "selfie");
    assert_eq!(
        items[1].outcome.as_ref().unwrap().body["image_input"],
        false
    );
}

#[test]
fn offline_runs_produce_the_same_archive_shape() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.zip");
    std::fs::write(
        &input,
        zip_of(&[
            ("a_image.jpg", b"REAL"),
            ("b_image1.jpg", b"x"),
            ("b_image2.jpg", b"x"),
            ("c_video.mp4", b"BAD"),
            ("stray.md", b"#"),
        ]),
    )
    .unwrap();
    let out = dir.path().join("out.zip");
    let mut scratch = config(&dir.path().join("scratch"));
    scratch.workers = 2;
    let seen = std::sync::Mutex::new(Vec::new());
    let job = jobs::run_offline(
        &input,
        &out,
        AnalysisOptions::default(),
        scratch,
        Arc::new(ByteAnalyser::new(Duration::from_millis(10))),
        &|j| seen.lock().unwrap().push(j.done),
    )
    .unwrap();
    assert_eq!((job.total, job.done, job.ok, job.error), (3, 3, 2, 1));
    assert!(input.exists(), "the input is copied, never moved");
    let progress = seen.into_inner().unwrap();
    assert_eq!(progress.first(), Some(&0));
    assert_eq!(progress.last(), Some(&3));
    let files = unzip(&std::fs::read(&out).unwrap());
    let names: Vec<_> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "json/a.json",
            "json/b.json",
            "json/c.json",
            "results.csv",
            "summary.json"
        ]
    );
    assert!(files["results.csv"].contains(",skipped,stray.md,"));
}

#[test]
fn an_item_that_kept_killing_the_process_is_not_retried_forever() {
    let dir = tempfile::tempdir().unwrap();
    let an = Arc::new(ByteAnalyser::new(Duration::ZERO));
    let svc = JobService::open(config(dir.path()), an.clone()).unwrap();
    let id = submit(
        &svc,
        &zip_of(&[("a_image.jpg", b"REAL"), ("b_image.jpg", b"REAL")]),
        AnalysisOptions::default(),
    );
    // Three runs of item 0 that claimed it and never recorded anything: three crashes (a
    // lease of zero expires at once, as a dead replica's does).
    for _ in 0..jobs::service::MAX_ATTEMPTS {
        let claim = svc
            .store()
            .claim("crashed", Duration::ZERO, svc.pin())
            .unwrap()
            .unwrap();
        assert_eq!((claim.job_id.as_str(), claim.index), (id.as_str(), 0));
    }
    assert_eq!(run_all(&svc), 2);
    assert_eq!(an.calls(), 1, "the poison item ran again");
    let items = svc.items(&id, &Access::Admin).unwrap();
    let first = items[0].outcome.as_ref().unwrap();
    assert!(!first.ok);
    assert!(
        first.body["message"]
            .as_str()
            .unwrap()
            .contains("not retried")
    );
    assert!(items[1].outcome.as_ref().unwrap().ok);
}

fn rows_contain(csv: &str, prefix: &str) -> bool {
    csv.lines().any(|l| l.starts_with(prefix))
}

/// A graceful stop hands a running item back without using up one of its tries: in a rolling
/// deploy the item may land on the next replica to stop, again and again.
#[test]
fn items_handed_back_on_a_graceful_stop_keep_their_tries() {
    let dir = tempfile::tempdir().unwrap();
    let an = Arc::new(ByteAnalyser::new(Duration::ZERO));
    let svc = JobService::open(config(dir.path()), an).unwrap();
    let id = submit(
        &svc,
        &zip_of(&[("alice_image.jpg", b"REAL-alice")]),
        AnalysisOptions::default(),
    );
    for _ in 0..(jobs::service::MAX_ATTEMPTS + 2) {
        let held = svc
            .store()
            .claim(svc.worker(), Duration::from_secs(60), svc.pin())
            .unwrap();
        assert!(held.is_some());
        assert_eq!(svc.store().release(svc.worker()).unwrap(), 1);
    }
    assert_eq!(run_all(&svc), 1);
    let job = svc.job(&id, &Access::Admin).unwrap().unwrap();
    assert_eq!((job.done, job.ok, job.error), (1, 1, 0), "{job:?}");
}

/// Workers take the job served longest ago first: a one-item batch submitted behind another
/// client's long one runs next, not after it.
#[test]
fn a_small_batch_does_not_wait_behind_a_long_one() {
    let dir = tempfile::tempdir().unwrap();
    let an = Arc::new(ByteAnalyser::new(Duration::ZERO));
    let svc = JobService::open(config(dir.path()), an).unwrap();
    let names: Vec<String> = (0..20).map(|i| format!("p{i:02}_image.jpg")).collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"REAL"[..])).collect();
    let long = submit(&svc, &zip_of(&files), AnalysisOptions::default());
    // Two of the long batch's items run before the short one arrives.
    assert!(svc.run_one().unwrap() && svc.run_one().unwrap());
    let short = submit(
        &svc,
        &zip_of(&[("q_image.jpg", b"REAL")]),
        AnalysisOptions::default(),
    );
    assert!(svc.run_one().unwrap());
    let done = |id: &str| svc.job(id, &Access::Admin).unwrap().unwrap().done;
    assert_eq!(done(&short), 1, "the short batch waited");
    assert_eq!(done(&long), 2);
    assert_eq!(run_all(&svc), 18);
}
