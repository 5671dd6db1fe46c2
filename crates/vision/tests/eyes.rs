//! Eye openness from the iris model on real faces.

mod common;

use vision::iris::IrisEyes;
use vision::{EyeModel, Face, Point};

#[test]
fn open_eyes_in_portraits_read_as_open() {
    let Some(testdata) = common::testdata() else {
        return;
    };
    let rt = common::runtime();
    let iris = IrisEyes::load(&rt, common::store()).unwrap();
    let face = common::chip_face();
    let mut values = Vec::new();
    let mut times = Vec::new();
    for entry in std::fs::read_dir(testdata.join("faces/dlib_johns")).unwrap() {
        let path = entry.unwrap().path();
        let image = common::load_rgb(&path);
        let t = std::time::Instant::now();
        let eyes = iris.eyes(&image, &face).unwrap();
        times.push(t.elapsed());
        // Contour corners land near the keypoint they were cropped around.
        for (eye, kp) in [
            (&eyes.left, face.keypoints[1]),
            (&eyes.right, face.keypoints[0]),
        ] {
            let mid = Point {
                x: (eye.contour[0].x + eye.contour[8].x) / 2.0,
                y: (eye.contour[0].y + eye.contour[8].y) / 2.0,
            };
            assert!(
                (mid.x - kp.x).abs() < 12.0 && (mid.y - kp.y).abs() < 12.0,
                "{}: eye contour centred at {mid:?}, keypoint {kp:?}",
                path.display()
            );
        }
        values.push((path, eyes.left.openness, eyes.right.openness));
    }
    times.sort();
    eprintln!("both eyes: median {:?} per face", times[times.len() / 2]);
    let mut all: Vec<f32> = values.iter().flat_map(|v| [v.1, v.2]).collect();
    all.sort_by(f32::total_cmp);
    let median = all[all.len() / 2];
    eprintln!(
        "open-eye EAR over {} chips: min {:.3} median {median:.3} max {:.3}",
        values.len(),
        all[0],
        all[all.len() - 1]
    );
    let median_of = |f: fn(&(std::path::PathBuf, f32, f32)) -> f32| {
        let mut v: Vec<f32> = values.iter().map(f).collect();
        v.sort_by(f32::total_cmp);
        v[v.len() / 2]
    };
    let (left, right) = (median_of(|v| v.1), median_of(|v| v.2));
    eprintln!("median EAR left {left:.3} right {right:.3}");
    assert!(median > 0.2 && median < 0.5, "median EAR {median}");
    // The mirrored eye must read like the other one: a wrong flip would skew one side.
    assert!((left - right).abs() < 0.05, "left {left} vs right {right}");
}

/// Mean openness of both eyes per frame of the blink selfie (`None` where no face was found).
fn blink_video_series(testdata: &std::path::Path) -> Vec<(f64, Option<f32>)> {
    use vision::FaceDetector;
    use vision::blazeface::BlazeFace;

    let rt = common::runtime();
    let store = common::store();
    let detector = BlazeFace::load(&rt, store).unwrap();
    let iris = IrisEyes::load(&rt, store).unwrap();
    let bytes = std::fs::read(testdata.join("videos/blinkdetector_selfie_blinks.mp4")).unwrap();
    let plan = media::VideoPlan {
        every_nth: 1,
        max_sampled: 1000,
        dense_every: None,
        dense_fps: None,
        max_long_side: 640,
        decode_threads: 0,
        skip_h264_deblocking: false,
        dense_luma: false,
        reduced: None,
        // Inference runs inside the decode callback, so the wall-clock budget covers it too.
        limits: media::VideoLimits {
            time_budget: std::time::Duration::from_secs(600),
            ..Default::default()
        },
    };
    const DETECT_EVERY: u64 = 6;
    let mut series = Vec::new();
    let mut luma_gap = Vec::new();
    let mut face: Option<Face> = None;
    let (mut detect_time, mut iris_time) = (std::time::Duration::ZERO, std::time::Duration::ZERO);
    media::decode_video(&bytes, &plan, &mut |frame| {
        // A selfie barely moves between frames: detect every few frames, as a tracker would,
        // and measure the eyes on every frame.
        let image = frame.image.rgb().unwrap();
        let t = std::time::Instant::now();
        if frame.index % DETECT_EVERY == 0 || face.is_none() {
            face = detector.detect(image).unwrap().into_iter().next();
        }
        detect_time += t.elapsed();
        let t = std::time::Instant::now();
        let value = face.as_ref().map(|face| {
            let eyes = iris.eyes(image, face).unwrap();
            (eyes.left.openness + eyes.right.openness) / 2.0
        });
        iris_time += t.elapsed();
        // The same eyes from grey chips (what the video path feeds the model).
        if let (Some(face), Some(v)) = (&face, value) {
            let grey = image::imageops::grayscale(image);
            if let Some(chips) = iris.chips(&grey, face) {
                let eyes = iris.chips_openness(&chips).unwrap();
                luma_gap.push(((eyes.left + eyes.right) / 2.0 - v).abs());
            }
        }
        series.push((frame.time_s, value));
        std::ops::ControlFlow::Continue(())
    })
    .unwrap();
    luma_gap.sort_by(f32::total_cmp);
    let (median_gap, p95_gap) = (
        luma_gap[luma_gap.len() / 2],
        luma_gap[luma_gap.len() * 95 / 100],
    );
    eprintln!("grey vs colour chips: |EAR gap| median {median_gap:.4}, p95 {p95_gap:.4}");
    assert!(
        median_gap < 0.01 && p95_gap < 0.03,
        "grey chips read eyes differently: median gap {median_gap}, p95 {p95_gap}"
    );
    let n = series.len().max(1) as u32;
    eprintln!(
        "{} frames; per frame: detection {:?}, both eyes {:?}",
        series.len(),
        detect_time / n,
        iris_time / n
    );
    series
}

#[test]
fn openness_drops_during_the_blinks_of_a_selfie_video() {
    let Some(testdata) = common::testdata() else {
        return;
    };
    let series = blink_video_series(&testdata);
    let values: Vec<f32> = series.iter().filter_map(|s| s.1).collect();
    assert!(
        values.len() * 10 >= series.len() * 9,
        "face found in only {} of {} frames",
        values.len(),
        series.len()
    );
    let mut sorted = values.clone();
    sorted.sort_by(f32::total_cmp);
    // The eyes are open most of the time, so the upper quartile is the open level even though
    // the subject also holds them shut twice for a couple of seconds.
    let open = sorted[sorted.len() * 3 / 4];
    // A blink: a run of frames below half the typical (open) value.
    let mut blinks: Vec<(f64, f64, f32)> = Vec::new();
    let mut current: Option<(f64, f64, f32)> = None;
    for &(t, v) in &series {
        let Some(v) = v else { continue };
        if v < 0.5 * open {
            current = Some(match current {
                Some((start, _, low)) => (start, t, low.min(v)),
                None => (t, t, v),
            });
        } else if let Some(b) = current.take() {
            blinks.push(b);
        }
    }
    blinks.extend(current);
    let line: Vec<String> = series
        .iter()
        .map(|(t, v)| format!("{t:.2}:{}", v.map_or("-".into(), |v| format!("{v:.3}"))))
        .collect();
    eprintln!("series {}", line.join(" "));
    eprintln!("open (upper quartile) {open:.3}; blinks {blinks:?}");
    // About seven natural blinks (plus two long closures, eyes held shut at 5.8–8.1 s and
    // 11–13.7 s): every dip goes far down, most last a few frames.
    assert!((6..=10).contains(&blinks.len()), "{} blinks", blinks.len());
    let short = blinks.iter().filter(|(s, e, _)| e - s < 0.5).count();
    assert!(short >= 5, "only {short} short blinks");
    for (start, _, low) in &blinks {
        assert!(
            *low < 0.35 * open,
            "blink at {start:.2} s only down to {low}"
        );
    }
    // Between the dips the eyes read open: away from the transitions (0.2 s either side),
    // nearly every frame is within 25 % of the open level.
    let near_blink = |t: f64| blinks.iter().any(|(s, e, _)| t > s - 0.2 && t < e + 0.2);
    let between: Vec<f32> = series
        .iter()
        .filter(|(t, _)| !near_blink(*t))
        .filter_map(|s| s.1)
        .collect();
    let open_frames = between.iter().filter(|v| **v > 0.75 * open).count();
    assert!(
        open_frames * 100 >= between.len() * 95,
        "{open_frames} of {} frames between blinks read open",
        between.len()
    );
}
