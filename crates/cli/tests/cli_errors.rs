//! The `livegate` command fails early and loudly where a newcomer's mistake would otherwise
//! cost minutes or read as a result: an evaluation whose files are not where the manifest says,
//! a batch whose output cannot be written, a ZIP with nothing to analyse, a batch that would
//! write over its input or over an earlier output it fails to replace.

use std::process::Command;

fn livegate() -> Command {
    Command::new(env!("CARGO_BIN_EXE_livegate"))
}

/// A temporary folder holding `MANIFEST.tsv` with `rows` (header included).
fn manifest_of(rows: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("MANIFEST.tsv");
    std::fs::write(&manifest, rows).unwrap();
    (dir, manifest)
}

#[test]
fn eval_refuses_a_manifest_whose_files_are_missing() {
    let (dir, manifest) =
        manifest_of("file\tcategory\tidentity\tlabel\nfaces/nobody.jpg\tfaces\tnobody\tlive\n");
    let out = livegate()
        .args(["eval", "--manifest"])
        .arg(&manifest)
        .args(["--out"])
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "exit 0 on unreadable files");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot be read") && err.contains("--root"),
        "{err}"
    );
    assert!(
        !dir.path().join("out/report.json").exists(),
        "a report of nothing was written"
    );
}

#[test]
fn eval_refuses_a_species_without_its_subset() {
    let (_dir, manifest) = manifest_of("file\tidentity\tlabel\nx/a.jpg\tA\tspoof\n");
    let out = livegate()
        .args(["eval", "--species", "print", "--manifest"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SUBSET_OR_SOURCE=SPECIES"), "{err}");
}

#[test]
fn batch_refuses_an_unwritable_output_before_analysing() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("in.zip");
    std::fs::write(&zip, testkit::zip_of(&[("a_image.jpg", b"x")])).unwrap();
    let t = std::time::Instant::now();
    let out = livegate()
        .arg("batch")
        .arg(&zip)
        .arg("-o")
        .arg(dir.path().join("no/such/dir/out.zip"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot write the output"), "{err}");
    assert!(t.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn batch_of_a_zip_without_stems_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("in.zip");
    std::fs::write(
        &zip,
        testkit::zip_of(&[("notes.txt", b"nothing to analyse")]),
    )
    .unwrap();
    let out = livegate()
        .arg("batch")
        .arg(&zip)
        .arg("-o")
        .arg(dir.path().join("out.zip"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "exit 0 for an empty batch: {err}");
    assert!(err.contains("no stems"), "{err}");
    assert!(err.contains("skipped notes.txt"), "{err}");
}

#[test]
fn batch_never_writes_over_its_input_nor_spoils_an_earlier_output() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("in.zip");
    let bytes = testkit::zip_of(&[("a_image.jpg", b"x")]);
    std::fs::write(&zip, &bytes).unwrap();
    // The output named as the input: refused, the input untouched.
    let out = livegate()
        .arg("batch")
        .arg(&zip)
        .arg("-o")
        .arg(dir.path().join(".").join("in.zip"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is the input archive"), "{err}");
    assert_eq!(std::fs::read(&zip).unwrap(), bytes);

    // A run that fails (not a ZIP) leaves an existing output as it was, and no stray file.
    let earlier = dir.path().join("results.zip");
    let earlier_bytes = testkit::zip_of(&[("summary.json", b"an earlier run's results")]);
    std::fs::write(&earlier, &earlier_bytes).unwrap();
    let not_zip = dir.path().join("not.zip");
    std::fs::write(&not_zip, b"plain text").unwrap();
    let out = livegate()
        .arg("batch")
        .arg(&not_zip)
        .arg("-o")
        .arg(&earlier)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(std::fs::read(&earlier).unwrap(), earlier_bytes);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".part")), "{names:?}");

    // A file that is no results archive is not this command's to replace.
    let precious = dir.path().join("precious.txt");
    std::fs::write(&precious, b"precious").unwrap();
    let out = livegate()
        .arg("batch")
        .arg(&zip)
        .arg("-o")
        .arg(&precious)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("exists and is not a ZIP archive"), "{err}");
    assert_eq!(std::fs::read(&precious).unwrap(), b"precious");
}

#[test]
fn eval_refuses_settings_it_would_only_trip_over_after_the_run() {
    let (dir, manifest) = manifest_of(
        "file\tidentity\tlabel\n\
         extra/a/live/1.jpg\tA\tlive\n\
         extra/a/spoof/2.jpg\tA\tspoof\n\
         extra/a/notes.xml\tA\tannotation\n",
    );
    let refused = |args: &[&str], says: &str| {
        let out = livegate()
            .args(["eval", "--quiet", "--manifest"])
            .arg(&manifest)
            .arg("--out")
            .arg(dir.path().join("out"))
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: exit 0");
        assert!(err.contains(says), "{args:?}: {err}");
        // refused before anything was analysed (the files do not even exist)
        assert!(!err.contains("cannot be read"), "{args:?}: {err}");
        assert!(
            !dir.path().join("out").exists(),
            "{args:?}: left an output folder"
        );
        err.into_owned()
    };
    let err = refused(&["--loso", "extras"], "--loso extras: no such subset");
    assert!(err.contains("subsets: extra"), "{err}");
    assert!(
        err.contains("line 4 \"extra/a/notes.xml\": not a still or video"),
        "{err}"
    );
    refused(&["--loso", "extra"], "only a");
    refused(&["--floor", "OVERALL:acer<=NaN"], "finite");
    refused(&["--floor", "faces:bpcer<=0.1"], "no subset \"faces\"");
    let err = refused(&["--floor", "OVERALL:auc>=0.9"], "no metric \"auc\"");
    assert!(
        err.contains("roc_auc") && err.contains("review.error_share"),
        "{err}"
    );
    refused(&["--floor", "LOSO:acer<=0.2"], "LOSO floors need --loso");
    refused(
        &["--species", "nosuch=print"],
        "no subset or source \"nosuch\"",
    );
    refused(
        &["--species", "extra=print", "--species", "extra=screen"],
        "named both \"print\" and \"screen\"",
    );
    refused(&["--workers", "0"], "0 is not in 1..=256");
    // Billions of threads would be started (or the run aborted) before any work.
    refused(&["--workers", "4000000000"], "4000000000 is not in 1..=256");
    refused(
        &["--calibrate", dir.path().to_str().unwrap()],
        "a folder; name the file",
    );
    // Writing the operating point over the manifest being read would lose the labels.
    refused(
        &["--calibrate", manifest.to_str().unwrap()],
        "the manifest being read",
    );
    assert!(
        std::fs::read_to_string(&manifest)
            .unwrap()
            .starts_with("file\t")
    );
    refused(
        &["--calibrate", "op.json"],
        "needs at least 20 labelled stills of each class",
    );
}

#[test]
fn batch_limits_name_the_flag_that_raises_them() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("in.zip");
    std::fs::write(
        &zip,
        testkit::zip_of(&[("a_image.jpg", b"x"), ("b_image.jpg", b"y")]),
    )
    .unwrap();
    let out = livegate()
        .arg("batch")
        .arg(&zip)
        .args(["--max-entries", "1", "-o"])
        .arg(dir.path().join("out.zip"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("raise --max-entries"), "{err}");
    let out = livegate()
        .arg("batch")
        .arg(&zip)
        .args(["--max-entry-mb", "0", "-o"])
        .arg(dir.path().join("out.zip"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "clap refuses 0");
}

/// ONNX Runtime's Linux builds keep a device id and queue usage events for Microsoft unless told
/// not to before they initialise; the binary tells them, whatever the caller's environment.
#[test]
fn no_runtime_telemetry_is_written_or_queued() {
    let Some(data) = testkit::testdata() else {
        return;
    };
    let models = vision::provision::default_dir().expect("a model cache");
    let home = tempfile::tempdir().unwrap();
    let mut cmd = livegate();
    // CI services' own variables also silence the runtime: none of them may hide a regression.
    for var in [
        "ORT_DISABLE_TELEMETRY",
        "CI",
        "TF_BUILD",
        "GITHUB_ACTIONS",
        "GITLAB_CI",
        "CIRCLECI",
        "TRAVIS",
        "JENKINS_URL",
        "CODEBUILD_BUILD_ID",
        "BUILDKITE",
        "TEAMCITY_VERSION",
        "XDG_CACHE_HOME",
    ] {
        cmd.env_remove(var);
    }
    let out = cmd
        .env("HOME", home.path())
        .env("LIVEGATE_MODEL_DIR", &models)
        .args(["check", "--image"])
        .arg(data.join("faces/fr_obama.jpg"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = testkit::files_under(home.path());
    assert!(written.is_empty(), "written under HOME: {written:?}");
}

/// Numbers a server cannot honour are refused by name before anything starts (they used to
/// panic inside it: a semaphore past its maximum, a deadline past the end of time).
#[test]
fn serve_refuses_numbers_it_cannot_honour() {
    for (flag, value) in [
        ("--workers", "18446744073709551615"),
        ("--max-connections", "18446744073709551615"),
        ("--header-timeout-secs", "18446744073709551615"),
        ("--shutdown-grace-secs", "18446744073709551615"),
        ("--batch-workers", "4294967296"),
        ("--batch-workers", "0"),
        ("--deadline-secs", "0"),
    ] {
        let out = livegate()
            .args(["serve", "--no-auth", "--bind", "127.0.0.1:1", flag, value])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {err}");
        assert!(err.contains(flag), "{flag} {value}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn crops_refuses_a_manifest_whose_files_are_not_under_its_root() {
    let (dir, manifest) = manifest_of(
        "file\tidentity\tlabel\n\
         extra/a/live/1.jpg\tA\tlive\n\
         extra/a/spoof/2.jpg\tA\tspoof\n",
    );
    let out = livegate()
        .args(["crops", "--manifest"])
        .arg(&manifest)
        .arg("--out")
        .arg(dir.path().join("crops"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "exit 0: {err}");
    assert!(
        err.contains("2 of 2 manifest files cannot be read") && err.contains("--root"),
        "{err}"
    );
}

#[test]
fn a_missing_secret_names_the_environment_variables_too() {
    for args in [
        &["token", "--sub", "me"][..],
        &["serve", "--bind", "127.0.0.1:0"][..],
    ] {
        let out = livegate()
            .args(args)
            .env_remove("LIVEGATE_JWT_SECRET")
            .env_remove("LIVEGATE_JWT_SECRET_FILE")
            // A user error is not a crash: no stack trace even where backtraces are on.
            .env("RUST_BACKTRACE", "1")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}: exit 0");
        assert!(err.contains("LIVEGATE_JWT_SECRET"), "{args:?}: {err}");
        assert!(!err.contains("Stack backtrace"), "{args:?}: {err}");
    }
}

/// A token the server would refuse for its `sub` is not minted.
#[test]
fn token_refuses_a_sub_the_server_would_refuse() {
    let secret = "0123456789abcdef0123456789abcdef";
    for sub in ["a\nb".to_owned(), "x".repeat(300), "me\u{202e}".to_owned()] {
        let out = livegate()
            .args(["token", "--secret", secret, "--sub", &sub])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{sub:?}: minted");
        assert!(err.contains("at most 256 characters"), "{sub:?}: {err}");
        assert!(out.stdout.is_empty());
    }
}

/// A batch stopped part-way (Ctrl-C, `kill`, a closed terminal) removes the copy of the
/// archive its scratch store holds and its partial output: faces are not left in `/tmp`.
#[test]
fn an_interrupted_batch_leaves_no_faces_behind() {
    let Some(data) = testkit::testdata() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let videos: Vec<(String, Vec<u8>)> = [
        "videos/blinkdetector_selfie_blinks.mp4",
        "videos/tranvanluyt_real.mp4",
        "videos/lestari15_real.mp4",
    ]
    .iter()
    .enumerate()
    .map(|(i, f)| {
        (
            format!("v{i}_video.mp4"),
            std::fs::read(data.join(f)).unwrap(),
        )
    })
    .collect();
    let entries: Vec<(&str, &[u8])> = videos
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let zip = dir.path().join("in.zip");
    std::fs::write(&zip, testkit::zip_of(&entries)).unwrap();
    let child = livegate()
        .env("TMPDIR", &tmp)
        .arg("batch")
        .arg(&zip)
        .arg("-o")
        .arg(dir.path().join("out.zip"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the scratch store to hold the archive's copy, then stop the run.
    let scratch = || {
        std::fs::read_dir(&tmp)
            .unwrap()
            .filter_map(|e| e.ok())
            .any(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("livegate-batch-")
            })
    };
    let t = std::time::Instant::now();
    while !scratch() {
        assert!(t.elapsed().as_secs() < 120, "no scratch store appeared");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(!scratch(), "the scratch store was left behind");
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(left.iter().all(|n| !n.ends_with(".part")), "{left:?}");
    assert!(!dir.path().join("out.zip").exists());
}

/// A file with no end (a device, a pipe) or larger than any media the service takes is refused
/// at the limit, not read whole into memory first.
#[test]
fn probe_and_check_stop_reading_at_the_media_limit() {
    let t = std::time::Instant::now();
    let out = livegate().args(["probe", "/dev/zero"]).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("over the limit of"), "{err}");
    assert!(t.elapsed() < std::time::Duration::from_secs(20));
}

/// Printing into a closed pipe (`livegate models list | head -1`) ends the command quietly, as
/// `cat` does, instead of panicking.
#[test]
fn a_closed_pipe_ends_a_listing_without_a_panic() {
    let mut child = livegate()
        .args(["models", "list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}

/// A work size above its cap is served at the cap, and `check` says so on stderr, as the API
/// says it in `X-Livegate-Capped-Fields`.
#[test]
fn check_names_the_values_it_served_at_their_cap() {
    let Some(data) = testkit::testdata() else {
        return;
    };
    let out = livegate()
        .args(["check", "--facematch-frames", "51", "--image"])
        .arg(data.join("faces/fr_obama.jpg"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("capped: facematch_frames=50"), "{err}");
}

/// A labelled file the product refuses (here a live still cut short, as a phone upload that
/// broke off) is a presentation without a decision: ISO/IEC 30107-3's non-response, counted
/// as rejected and in the non-response rate, and named, not silently left out of every rate.
#[test]
fn eval_counts_a_labelled_file_the_product_refuses_as_a_non_response() {
    let Some(data) = testkit::testdata() else {
        return;
    };
    let (dir, manifest) = manifest_of(
        "file\tidentity\tlabel\nwhole.jpg\tJoe\tlive\ncut.jpg\tJoe\tlive\nprint.jpg\tP\tattack\n",
    );
    let whole = std::fs::read(data.join("faces/fr_biden.jpg")).unwrap();
    std::fs::write(dir.path().join("whole.jpg"), &whole).unwrap();
    std::fs::write(dir.path().join("cut.jpg"), &whole[..whole.len() / 2]).unwrap();
    std::fs::write(dir.path().join("print.jpg"), &whole[..whole.len() / 3]).unwrap();
    let out = livegate()
        .args(["eval", "--quiet", "--manifest"])
        .arg(&manifest)
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("cut.jpg: ") && err.contains("truncated"),
        "{err}"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/report.json")).unwrap())
            .unwrap();
    let overall = &report["report"]["overall"];
    assert_eq!(overall["bona_fide"], 2, "{overall}");
    assert_eq!(overall["attacks"], 1, "{overall}");
    assert_eq!(overall["errors"], 0, "{overall}");
    assert_eq!(overall["bona_fide_non_response"], 0.5, "{overall}");
    assert_eq!(
        overall["bpcer"], 0.5,
        "the whole portrait is accepted: {overall}"
    );
    assert_eq!(overall["apcer"], 0.0, "{overall}");
    let cut = report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["file"] == "cut.jpg")
        .unwrap();
    assert!(
        cut["refused"].as_str().unwrap().contains("truncated"),
        "{cut}"
    );
    assert_eq!(cut["non_response"], true);
}
