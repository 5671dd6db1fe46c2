//! Livegate's own PAD model: the weights compiled in are the ones the model card describes,
//! they load without any download, and they separate attacks the model was never trained on.

mod common;

use vision::blazeface::BlazeFace;
use vision::pad::LivegatePad;
use vision::{FaceDetector, PadModel};

#[test]
fn the_compiled_in_weights_are_the_ones_the_model_card_pins() {
    let card = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../training/MODEL_CARD.md"),
    )
    .expect("training/MODEL_CARD.md");
    for (file, digest) in LivegatePad::weights_sha256() {
        let line = format!("SHA-256 of `{file}`: ");
        let pinned = card
            .lines()
            .find_map(|l| l.trim().strip_prefix(line.as_str()))
            .map(|h| h.trim_matches('`').trim().to_string())
            .unwrap_or_else(|| panic!("a `{line}` line in the model card"));
        assert_eq!(digest, pinned, "{file}");
    }
    let size: usize = vision::pad::livegate::WEIGHTS
        .iter()
        .map(|(_, bytes)| bytes.len())
        .sum();
    assert!(size <= 5 << 20, "the shipped model must stay under 5 MB");
}

/// The Silent-Face samples (`spoof/`) were never part of training: the print and the screen
/// attack score as attacks, the genuine capture (EXIF-rotated) as live.
#[test]
fn held_out_silent_face_samples() {
    let Some(data) = common::testdata() else {
        return;
    };
    let rt = common::runtime();
    let detector = BlazeFace::load(&rt, common::store()).unwrap();
    let model = LivegatePad::load(&rt).expect("the compiled-in model loads");
    let score = |name: &str| {
        let bytes = std::fs::read(data.join("spoof").join(name)).unwrap();
        let image = media::decode_still(&bytes, &media::StillOptions::default())
            .unwrap()
            .image;
        let faces = detector.detect(&image).unwrap();
        let face = vision::quality::primary_face(&faces)
            .expect("a face")
            .clone();
        model.live_score(&image, &face).unwrap()
    };
    let (print, screen, genuine) = (
        score("sfas_image_F1.jpg"),
        score("sfas_image_F2.jpg"),
        score("sfas_image_T1.jpg"),
    );
    eprintln!("print {print:.4}, screen {screen:.4}, genuine {genuine:.4}");
    let threshold = 0.5;
    assert!(print < threshold && screen < threshold);
    assert!(genuine > print.max(screen));
}

/// A fold model is a folder of the two graphs; one with them swapped (each graph's input under
/// the other's file name) would score each crop with the wrong network, so it is refused.
#[test]
fn a_fold_folder_loads_and_a_swapped_one_is_refused() {
    let rt = common::runtime();
    let [(name_27, bytes_27), (name_40, bytes_40)] = vision::pad::livegate::WEIGHTS;
    let good = tempfile::tempdir().unwrap();
    std::fs::write(good.path().join(name_27), bytes_27).unwrap();
    std::fs::write(good.path().join(name_40), bytes_40).unwrap();
    LivegatePad::from_dir(&rt, good.path()).expect("the shipped graphs as a folder");

    let swapped = tempfile::tempdir().unwrap();
    std::fs::write(swapped.path().join(name_27), bytes_40).unwrap();
    std::fs::write(swapped.path().join(name_40), bytes_27).unwrap();
    let err = LivegatePad::from_dir(&rt, swapped.path())
        .err()
        .expect("swapped graphs are refused");
    assert!(
        err.to_string().contains("expected a graph from crop_27"),
        "{err}"
    );
}
