//! A deployment's own PAD layer (`training/calibrate.sh`), loaded with the real binary:
//! `LIVEGATE_PAD_DIR` makes the analysis score with the graphs in that folder, an operating
//! point is held to the weights that actually score, and a folder that cannot be used stops the
//! start with the reason; a batch names the folder's weights in its rows. That a layer made by
//! `calibrate.sh` judges better is measured on real data by `training/calibrate_check.sh`,
//! which CI runs.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn livegate(pad_dir: &Path, point: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_livegate"));
    cmd.env("LIVEGATE_PAD_DIR", pad_dir)
        .env("LIVEGATE_OPERATING_POINT", point);
    cmd
}

fn shipped(file: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../training/livegate_pad")
            .join(file),
    )
    .unwrap()
}

const FILES: [&str; 2] = ["crop_27.onnx", "crop_40.onnx"];

/// A folder with the shipped graphs; with `note`, each carries it as an extra model doc string
/// (protobuf field 6, appended: the last one wins), so its bytes and SHA-256 differ while it
/// computes the same function.
fn layer(root: &Path, name: &str, note: Option<&str>) -> PathBuf {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for file in FILES {
        let mut bytes = shipped(file);
        if let Some(note) = note {
            assert!(note.len() < 128, "one-byte length");
            bytes.extend([(6 << 3) | 2, note.len() as u8]);
            bytes.extend(note.as_bytes());
        }
        std::fs::write(dir.join(file), bytes).unwrap();
    }
    dir
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// An operating point at `threshold` for the shipped weights.
fn operating_point(path: &Path, threshold: f32) {
    let rates = serde_json::json!({ "threshold": threshold, "apcer": 0.0, "bpcer": 0.0 });
    let weights: Vec<Value> = FILES
        .iter()
        .map(|f| serde_json::json!([f, sha256(&shipped(f))]))
        .collect();
    std::fs::write(
        path,
        serde_json::json!({
            "image_real_threshold": threshold,
            "pad_weights_sha256": weights,
            "calibration": { "manifest": "m.tsv", "bona_fide": 20, "attacks": 20, "unjudged": 0,
                             "policy": rates, "chosen": rates },
        })
        .to_string(),
    )
    .unwrap();
}

fn check(cmd: &mut Command, image: &Path) -> Output {
    cmd.args(["check", "--details", "--image"])
        .arg(image)
        .output()
        .unwrap()
}

fn verdict(out: Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_layer_in_the_folder_scores_and_operating_points_follow_its_weights() {
    let Some(data) = testkit::testdata() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let same = layer(dir.path(), "same", None);
    let other = layer(dir.path(), "other", Some("a deployment's own layer"));
    let point = dir.path().join("point.json");
    operating_point(&point, 0.6);
    let image = data.join("faces/fr_obama.jpg");
    let none = Path::new("");

    let policy = verdict(check(&mut livegate(none, none), &image));
    let from_same = verdict(check(&mut livegate(&same, none), &image));
    let from_other = verdict(check(&mut livegate(&other, none), &image));
    let pad = |v: &Value| v["details"]["image"]["pad"].clone();
    assert!(!pad(&policy).is_null(), "{policy}");
    assert_eq!(pad(&from_same), pad(&policy));
    assert_eq!(pad(&from_other), pad(&policy));
    // The evidence names the weights that scored (`same` holds the shipped bytes).
    let names = |v: &Value, folder: &Path| {
        FILES.iter().all(|file| {
            let bytes = std::fs::read(folder.join(file)).unwrap();
            v["details"]["pad_weights"][*file] == sha256(&bytes).as_str()
        })
    };
    assert!(names(&policy, &same), "{policy}");
    assert!(names(&from_other, &other), "{from_other}");
    assert!(!names(&from_other, &same), "{from_other}");

    // A point set for the shipped weights holds for a folder of the same bytes …
    let at_point = verdict(check(&mut livegate(&same, &point), &image));
    let threshold = at_point["details"]["rules"]["image_real_threshold"]
        .as_f64()
        .unwrap();
    assert!((threshold - 0.6).abs() < 1e-6, "{at_point}");
    // … and is refused for other weights, however alike they score.
    let refused = check(&mut livegate(&other, &point), &image);
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(err.contains("other PAD weights"), "{err}");
}

#[test]
fn a_batch_names_the_folders_weights_in_every_liveness_row() {
    let Some(data) = testkit::testdata() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let other = layer(dir.path(), "other", Some("a deployment's own layer"));
    let portrait = std::fs::read(data.join("faces/fr_obama.jpg")).unwrap();
    let input = dir.path().join("in.zip");
    std::fs::write(
        &input,
        testkit::zip_of(&[
            ("obama_image.jpg", &portrait[..]),
            ("pair_image1.jpg", &portrait[..]),
            ("pair_image2.jpg", &portrait[..]),
        ]),
    )
    .unwrap();
    let output = dir.path().join("out.zip");
    let out = livegate(&other, Path::new(""))
        .arg("batch")
        .arg(&input)
        .arg("-o")
        .arg(&output)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let files = testkit::unzip(&std::fs::read(&output).unwrap());
    let named: Vec<String> = FILES
        .iter()
        .map(|f| format!("{f}:{}", sha256(&std::fs::read(other.join(f)).unwrap())))
        .collect();
    let csv = &files["results.csv"];
    let cell = |stem: &str| testkit::csv_cell(csv, stem, "pad_weights");
    assert_eq!(cell("obama"), named.join(" "), "{csv}");
    assert_eq!(cell("pair"), "", "no PAD model judges a facematch");
    let summary: Value = serde_json::from_str(&files["summary.json"]).unwrap();
    assert_eq!(
        summary["pad_weights"].as_array().unwrap().len(),
        1,
        "{summary}"
    );
    assert_eq!(summary["pad_weights"][0]["verdicts"], 1);
}

#[test]
fn a_folder_that_cannot_be_used_stops_the_start_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let half = dir.path().join("half");
    std::fs::create_dir_all(&half).unwrap();
    std::fs::write(half.join(FILES[0]), shipped(FILES[0])).unwrap();
    let garbage = dir.path().join("garbage");
    std::fs::create_dir_all(&garbage).unwrap();
    for file in FILES {
        std::fs::write(garbage.join(file), b"not a graph").unwrap();
    }
    // Never analysed: the start stops first.
    let still = dir.path().join("still.jpg");
    std::fs::write(&still, b"not analysed").unwrap();
    for (folder, says) in [
        (half, "crop_40.onnx"),
        (garbage, "cannot load the PAD layer"),
        (dir.path().join("missing"), "cannot read"),
    ] {
        let out = check(&mut livegate(&folder, Path::new("")), &still);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{}", folder.display());
        assert!(
            err.contains("LIVEGATE_PAD_DIR"),
            "{}: {err}",
            folder.display()
        );
        assert!(err.contains(says), "{}: {err}", folder.display());
    }
}
