//! Work the video path does during decoding instead of after it — facematch's embeddings and
//! the eye model's looks at settled blink candidates — gives what the end would have given:
//! the same crops embedded, and the blinks of a real blink video still found.

mod common;

use common::models;
use liveness::video::{self, VideoWork};
use liveness::{AnalysisOptions, facematch};

#[test]
fn embeddings_and_blink_looks_taken_during_decoding_match_the_end() {
    let (Some(data), Some(models)) = (testkit::testdata(), models()) else {
        return;
    };
    let bytes = std::fs::read(data.join("videos/blinkdetector_selfie_blinks.mp4")).unwrap();
    let opts = AnalysisOptions::default();
    let work = VideoWork {
        facematch_frames: Some(opts.facematch_frames),
        ..VideoWork::for_request(&opts, false, false)
    };
    let v = video::analyse(&models, &bytes, &work).unwrap();

    // The client's frames were all in before the end: facematch's picks were embedded ahead,
    // and they are the picks (and the embeddings) facematch takes from the final crops.
    let ahead = v.embedded_ahead.as_ref().expect("embedded during decoding");
    assert_eq!(
        ahead.picks,
        facematch::spread(v.kept.len(), opts.facematch_frames as usize)
    );
    assert_eq!(ahead.embeddings.len(), ahead.picks.len());
    for (pick, early) in ahead.picks.iter().zip(&ahead.embeddings) {
        let (_, crop, face) = &v.kept[*pick];
        let late = models.embedder.embed(crop, face).unwrap();
        assert_eq!(early.0, late.0, "kept crop {pick}");
    }

    // Blinks are still found, each judged on an eye-model look at its peak.
    assert!(v.blinks.detected(), "{:?}", v.blinks.checked);
    assert!(v.blinks.checked.iter().all(|c| c.ear > 0.0));

    // Without a still to match, nothing is embedded ahead.
    let plain = video::analyse(
        &models,
        &bytes,
        &VideoWork::for_request(&opts, false, false),
    )
    .unwrap();
    assert!(plain.embedded_ahead.is_none());
    assert_eq!(plain.blinks.blinks.len(), v.blinks.blinks.len());
}
