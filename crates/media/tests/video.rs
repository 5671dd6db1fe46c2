//! Video decoding on clips the test makes with the ffmpeg CLI (H.264 High/Baseline, HEVC, VP8,
//! VP9, VP9 without duration, rotated, truncated, garbage, audio-only) and on the real videos in
//! `shared/testdata`, with ffprobe's frame count as the oracle; plus 200 mutations of an MP4.

mod common;

use std::ops::ControlFlow;
use std::time::Duration;

use common::*;
use media::{
    FrameImage, MediaError, ReducedSampling, SampledFrame, VideoInfo, VideoLimits, VideoPlan,
    decode_video, probe_video,
};

/// Decodes with `plan`, collecting the delivered frames.
fn collect(bytes: &[u8], plan: &VideoPlan) -> Result<(VideoInfo, Vec<SampledFrame>), MediaError> {
    let mut frames = vec![];
    let info = decode_video(bytes, plan, &mut |f| {
        frames.push(f);
        ControlFlow::Continue(())
    })?;
    Ok((info, frames))
}

fn indices(frames: &[SampledFrame]) -> Vec<u64> {
    frames.iter().map(|f| f.index).collect()
}

/// 2 s × 30 fps of 320x240, whatever the codec.
fn assert_testsrc(name: &str, bytes: &[u8], codec: &str, container: &str) -> VideoInfo {
    let (info, frames) =
        collect(bytes, &VideoPlan::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(info.codec, codec, "{name}");
    assert_eq!(info.container, container, "{name}");
    assert_eq!(
        (info.width, info.height, info.rotation),
        (320, 240, 0),
        "{name}"
    );
    assert_eq!(info.total_frames, 60, "{name}");
    assert!((info.fps - 30.0).abs() < 0.1, "{name}: fps {}", info.fps);
    let d = info.duration_s.expect("duration");
    assert!((d - 2.0).abs() < 0.1, "{name}: duration {d}");
    assert_eq!(indices(&frames), vec![0, 15, 30, 45], "{name}");
    for f in &frames {
        assert_eq!(f.image.dimensions(), (320, 240));
        assert!(f.sampled && !f.dense);
        assert!(
            (f.time_s - f.index as f64 / 30.0).abs() < 0.01,
            "{name}: frame {} at {}",
            f.index,
            f.time_s
        );
    }
    // The picture is the test pattern, not a green or grey field.
    let reference = ffmpeg_first_frame(name, bytes).unwrap();
    let d = mean_abs_diff(&reference, frames[0].image.rgb().unwrap());
    assert!(
        d < 6.0,
        "{name}: first frame differs from ffmpeg's by {d:.1}"
    );
    let probed = probe_video(bytes).unwrap();
    assert_eq!(
        (probed.total_frames, probed.frames_decoded),
        (60, 1),
        "{name}"
    );
    assert_eq!(
        (probed.codec.as_str(), probed.width, probed.height),
        (codec, 320, 240),
        "{name}"
    );
    info
}

#[test]
fn h264_high_and_baseline() {
    let Some(high) = h264_high() else { return };
    let info = assert_testsrc("h264_high", &high, "h264", "mp4");
    assert_eq!(info.profile.as_deref(), Some("High"));
    let base = h264_baseline().unwrap();
    let info = assert_testsrc("h264_baseline", &base, "h264", "mp4");
    assert!(
        info.profile
            .as_deref()
            .is_some_and(|p| p.contains("Baseline")),
        "{:?}",
        info.profile
    );
}

#[test]
fn hevc_mp4() {
    let Some(v) = hevc() else { return };
    let info = assert_testsrc("hevc", &v, "hevc", "mp4");
    assert_eq!(info.profile.as_deref(), Some("Main"));
}

#[test]
fn vp8_and_vp9_webm() {
    let Some(vp8) = vp8_webm() else { return };
    assert_testsrc("vp8", &vp8, "vp8", "webm");
    assert_testsrc("vp9", &vp9_webm().unwrap(), "vp9", "webm");
}

#[test]
fn webm_without_duration_counts_frames() {
    let Some(v) = vp9_webm_no_duration() else {
        return;
    };
    // The header really has no duration (as MediaRecorder's files).
    let path = fixture_dir().join("vp9_stream.webm");
    let out = std::process::Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "N/A");
    let info = assert_testsrc("vp9_stream", &v, "vp9", "webm");
    assert_eq!(info.total_frames, 60);
}

#[test]
fn rotation_is_applied() {
    let Some(v) = rotated_90() else { return };
    let (info, frames) = collect(&v, &VideoPlan::default()).unwrap();
    assert_eq!(info.rotation, 90);
    assert_eq!(
        (info.width, info.height),
        (240, 320),
        "displayed size is portrait"
    );
    assert_eq!((info.coded_width, info.coded_height), (320, 240));
    assert_eq!(frames[0].image.dimensions(), (240, 320));
    // Same way round as ffmpeg itself shows it.
    let reference = ffmpeg_first_frame("rot90", &v).unwrap();
    assert_eq!(reference.dimensions(), (240, 320));
    let d = mean_abs_diff(&reference, frames[0].image.rgb().unwrap());
    assert!(d < 6.0, "rotated frame differs from ffmpeg's by {d:.1}");
    let wrong_way = image::imageops::rotate180(frames[0].image.rgb().unwrap());
    assert!(mean_abs_diff(&reference, &wrong_way) > 3.0 * d.max(1.0));
}

#[test]
fn sampling_cap_dense_stream_scaling_and_break() {
    let Some(v) = h264_high() else { return };
    // Cap on the sampled stream; counting continues past it.
    let plan = VideoPlan {
        every_nth: 5,
        max_sampled: 3,
        ..VideoPlan::default()
    };
    let (info, frames) = collect(&v, &plan).unwrap();
    assert_eq!(indices(&frames), vec![0, 5, 10]);
    assert_eq!(info.total_frames, 60);
    assert!(
        info.frames_decoded < 60,
        "decoding stopped after the cap ({} decoded)",
        info.frames_decoded
    );

    // A dense stream alongside: every 2nd frame, flagged; a frame in both is delivered once.
    let plan = VideoPlan {
        every_nth: 15,
        max_sampled: 20,
        dense_every: Some(2),
        ..VideoPlan::default()
    };
    let (info, frames) = collect(&v, &plan).unwrap();
    // Non-reference B-frames that neither stream wants are never decoded, yet counted.
    assert_eq!(info.total_frames, 60);
    assert!(
        info.frames_decoded < 60,
        "{} decoded: nothing skipped",
        info.frames_decoded
    );
    // …and every delivered frame is the picture at its index: the same as with all decoded.
    let every = VideoPlan {
        dense_every: Some(1),
        ..plan
    };
    let (all_info, all) = collect(&v, &every).unwrap();
    assert_eq!(all_info.frames_decoded, 60);
    for f in &frames {
        let same = &all[f.index as usize];
        assert_eq!(same.index, f.index);
        assert_eq!(
            same.image.rgb().unwrap().as_raw(),
            f.image.rgb().unwrap().as_raw(),
            "frame {}",
            f.index
        );
        assert!((same.time_s - f.time_s).abs() < 1e-9, "frame {}", f.index);
    }
    let dense: Vec<u64> = frames.iter().filter(|f| f.dense).map(|f| f.index).collect();
    let sampled: Vec<u64> = frames
        .iter()
        .filter(|f| f.sampled)
        .map(|f| f.index)
        .collect();
    // One frame every 2 on average, at most 3 apart (the nearest decoded frame where a
    // non-reference frame was left out).
    assert_eq!(dense.first(), Some(&0));
    assert!(
        dense.windows(2).all(|w| (1..=3).contains(&(w[1] - w[0]))),
        "{dense:?}"
    );
    assert!((28..=31).contains(&dense.len()), "{dense:?}");
    assert_eq!(sampled, vec![0, 15, 30, 45]);
    assert!(
        frames.windows(2).all(|w| w[0].index < w[1].index),
        "in order, no duplicates"
    );
    // 15 and 45 are odd: sampled but not dense.
    let plan = VideoPlan {
        every_nth: 15,
        max_sampled: 20,
        dense_every: Some(4),
        ..VideoPlan::default()
    };
    let (_, frames) = collect(&v, &plan).unwrap();
    let f15 = frames.iter().find(|f| f.index == 15).unwrap();
    assert!(f15.sampled && !f15.dense);

    // Luma for dense-only frames, both for sampled ones: the same picture as the RGB frame
    // (BT.601 weights, which is what this SD stream's Y plane is).
    let rgb_plan = VideoPlan {
        every_nth: 15,
        max_sampled: 20,
        dense_every: Some(2),
        ..VideoPlan::default()
    };
    let luma_plan = VideoPlan {
        dense_luma: true,
        ..rgb_plan
    };
    // Full size (the Y plane as it is) and halved (2×2 blocks of it).
    for long_side in [0, 160] {
        let rgb_plan = VideoPlan {
            max_long_side: long_side,
            ..rgb_plan
        };
        let luma_plan = VideoPlan {
            max_long_side: long_side,
            ..luma_plan
        };
        check_luma(&v, &rgb_plan, &luma_plan);
    }

    // Scaling to a long side.
    let plan = VideoPlan {
        max_long_side: 160,
        ..VideoPlan::default()
    };
    let (_, frames) = collect(&v, &plan).unwrap();
    assert!(frames.iter().all(|f| f.image.dimensions() == (160, 120)));

    // Break stops delivery, not counting.
    let mut n = 0;
    let info = decode_video(
        &v,
        &VideoPlan {
            every_nth: 1,
            max_sampled: 100,
            ..VideoPlan::default()
        },
        &mut |_| {
            n += 1;
            if n == 3 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        },
    )
    .unwrap();
    assert_eq!((n, info.total_frames), (3, 60));

    // Single-threaded gives the same frames.
    let plan = VideoPlan {
        decode_threads: 1,
        ..VideoPlan::default()
    };
    let (info1, frames1) = collect(&v, &plan).unwrap();
    let (_, frames_auto) = collect(&v, &VideoPlan::default()).unwrap();
    assert_eq!(info1.total_frames, 60);
    for (a, b) in frames1.iter().zip(&frames_auto) {
        assert_eq!(
            (a.index, a.image.rgb().unwrap().as_raw()),
            (b.index, b.image.rgb().unwrap().as_raw())
        );
    }
}

#[test]
fn truncated_videos_are_errors() {
    let Some(mp4) = h264_high() else { return };
    // moov at the end (ffmpeg's default): half a file has no index.
    let e = collect(&mp4[..mp4.len() / 2], &VideoPlan::default()).unwrap_err();
    assert!(
        matches!(e, MediaError::Corrupt(_)) && e.http_status() == 400,
        "{e}"
    );
    // moov at the front (faststart): the index lists frames that are not there.
    let fast = fixture("faststart.mp4", |p| {
        let input = fixture_dir().join("faststart-src.mp4");
        std::fs::write(&input, &mp4).unwrap();
        ffmpeg(&[
            "-i",
            input.to_str().unwrap(),
            "-c",
            "copy",
            "-movflags",
            "+faststart",
            p,
        ]);
    })
    .unwrap();
    assert_eq!(
        collect(&fast, &VideoPlan::default())
            .unwrap()
            .0
            .total_frames,
        60
    );
    let e = collect(&fast[..fast.len() / 2], &VideoPlan::default()).unwrap_err();
    assert!(matches!(e, MediaError::Corrupt(_)), "{e}");
    assert!(e.to_string().contains("truncated"), "{e}");
    let e = probe_video(&fast[..fast.len() / 2]).unwrap_err();
    assert!(matches!(e, MediaError::Corrupt(_)), "{e}");
    // WebM cut in half: its Segment's size says how long the file should be.
    let webm = vp9_webm().unwrap();
    assert_eq!(
        collect(&webm, &VideoPlan::default())
            .unwrap()
            .0
            .total_frames,
        60
    );
    for cut in [
        collect(&webm[..webm.len() / 2], &VideoPlan::default()).unwrap_err(),
        probe_video(&webm[..webm.len() - 1]).unwrap_err(),
    ] {
        assert!(matches!(cut, MediaError::Corrupt(_)), "{cut}");
        assert!(
            cut.to_string()
                .starts_with("the file is corrupt or truncated: truncated webm"),
            "{cut}"
        );
    }
    // A live recording (as MediaRecorder writes) leaves the size unknown: the frames that
    // arrived are all there is to go by, and never a panic or a hang.
    if let Some(stream) = vp9_webm_no_duration() {
        match collect(&stream[..stream.len() / 2], &VideoPlan::default()) {
            Ok((info, _)) => assert!(info.total_frames < 60),
            Err(e) => assert!(matches!(e, MediaError::Corrupt(_)), "{e}"),
        }
    }
    // A real recording cut short in transit (1 MB of 1.7 MB).
    if let Some(real) = testfile("extra/Apfol+liveness-detection-opencv/videos_real2.webm") {
        let e = collect(&real[..1_000_000], &VideoPlan::default()).unwrap_err();
        assert!(e.to_string().contains("truncated webm"), "{e}");
    }
}

#[test]
fn garbage_empty_audio_only_and_wrong_kind() {
    let plan = VideoPlan::default();
    let mut rng = Rng(42);
    let garbage: Vec<u8> = (0..100_000).map(|_| rng.next() as u8).collect();
    let e = collect(&garbage, &plan).unwrap_err();
    assert!(matches!(e, MediaError::UnsupportedFormat(_)), "{e}");

    // An MP4 signature followed by garbage.
    let mut fake = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2".to_vec();
    fake.extend_from_slice(&garbage);
    let e = collect(&fake, &plan).unwrap_err();
    assert!(matches!(e, MediaError::Corrupt(_)), "{e}");

    let e = collect(&[], &plan).unwrap_err();
    assert!(matches!(e, MediaError::Empty { .. }), "{e}");

    let Some(audio) = audio_only() else { return };
    let e = collect(&audio, &plan).unwrap_err();
    assert!(matches!(e, MediaError::NoVideoStream), "{e}");
    assert!(matches!(
        probe_video(&audio),
        Err(MediaError::NoVideoStream)
    ));

    // A still image given as a video, and a WebM given a .mp4 name (content decides).
    if let Some(jpeg) = testfile("negative/pillow/hopper.jpg") {
        let e = collect(&jpeg, &plan).unwrap_err();
        assert!(
            matches!(e, MediaError::UnsupportedFormat(_)) && e.to_string().contains("still image"),
            "{e}"
        );
    }
    // An animated GIF moves but is named as an unsupported video format, not "a still".
    if let Some(gif) = testfile("spoof/sfas_demo.gif") {
        let e = collect(&gif, &plan).unwrap_err();
        assert!(
            matches!(e, MediaError::UnsupportedFormat(_))
                && e.to_string()
                    .contains("GIF is not a supported video format"),
            "{e}"
        );
    }
    let webm = vp8_webm().unwrap();
    let renamed = fixture_dir().join("actually-webm.mp4");
    std::fs::write(&renamed, &webm).unwrap();
    let (info, _) = collect(&std::fs::read(&renamed).unwrap(), &plan).unwrap();
    assert_eq!(info.container, "webm");
}

#[test]
fn limits_and_budgets() {
    let Some(v) = h264_high() else { return };
    let with = |l: VideoLimits| VideoPlan {
        limits: l,
        ..VideoPlan::default()
    };
    let d = VideoLimits::default();

    let e = collect(
        &v,
        &with(VideoLimits {
            max_bytes: 1000,
            ..d
        }),
    )
    .unwrap_err();
    assert!(
        matches!(e, MediaError::TooLarge { .. }) && e.http_status() == 413,
        "{e}"
    );

    let e = collect(
        &v,
        &with(VideoLimits {
            max_frames: 10,
            ..d
        }),
    )
    .unwrap_err();
    assert!(
        matches!(e, MediaError::TooLong(_)) && e.is_too_large(),
        "{e}"
    );

    let e = collect(
        &v,
        &with(VideoLimits {
            max_duration_s: 1.0,
            ..d
        }),
    )
    .unwrap_err();
    assert!(matches!(e, MediaError::TooLong(_)), "{e}");

    let e = collect(
        &v,
        &with(VideoLimits {
            max_pixels_per_frame: 320 * 200,
            ..d
        }),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            MediaError::TooManyPixels {
                width: 320,
                height: 240,
                ..
            }
        ),
        "{e}"
    );

    let e = collect(
        &v,
        &with(VideoLimits {
            time_budget: Duration::ZERO,
            ..d
        }),
    )
    .unwrap_err();
    assert!(
        matches!(e, MediaError::BudgetExceeded(_)) && e.http_status() == 400,
        "{e}"
    );
}

#[test]
fn real_videos_match_ffprobe() {
    let Some(dir) = testdata() else { return };
    if !have_ffmpeg() {
        return;
    }
    let mut files: Vec<_> = std::fs::read_dir(dir.join("videos"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    for extra in [
        "extra/Apfol+liveness-detection-opencv/videos_real2.webm",
        "spoof/lestari15_fake_replay.mp4",
    ] {
        if dir.join(extra).exists() {
            files.push(dir.join(extra));
        }
    }
    files.sort();
    let plan = VideoPlan {
        limits: VideoLimits {
            max_frames: 10_000,
            ..VideoLimits::default()
        },
        ..VideoPlan::default()
    };
    for p in files {
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(&p).unwrap();
        let expected = ffprobe_frame_count(&p);
        let (info, frames) = collect(&bytes, &plan).unwrap_or_else(|e| panic!("{name}: {e}"));
        eprintln!("{name}: {}", serde_json::to_string(&info).unwrap());
        assert_eq!(
            info.total_frames, expected,
            "{name}: frames vs ffprobe -count_frames"
        );
        assert!(
            info.fps > 1.0 && info.fps < 121.0,
            "{name}: fps {}",
            info.fps
        );
        assert!(info.duration_s.is_some_and(|d| d > 0.5), "{name}");
        assert!(!frames.is_empty() && frames.len() <= 20, "{name}");
        for f in &frames {
            assert_eq!(
                f.image.dimensions().0 > f.image.dimensions().1,
                info.width > info.height,
                "{name}: frame orientation"
            );
        }
        let probed = probe_video(&bytes);
        match probed {
            Ok(pi) => assert_eq!(pi.total_frames, expected, "{name}: probe"),
            Err(MediaError::TooLong(_)) => {} // probe uses the default 3600-frame limit
            Err(e) => panic!("{name}: probe: {e}"),
        }
    }
    // The portrait selfie is portrait.
    let blink =
        probe_video(&std::fs::read(dir.join("videos/blinkdetector_selfie_blinks.mp4")).unwrap())
            .unwrap();
    assert!(blink.height > blink.width, "{blink:?}");
}

#[test]
fn mutated_videos_never_panic_or_hang() {
    let Some(mp4) = h264_baseline() else { return };
    let webm = vp8_webm().unwrap();
    let plan = VideoPlan {
        limits: VideoLimits {
            time_budget: Duration::from_secs(5),
            ..VideoLimits::default()
        },
        ..VideoPlan::default()
    };
    let mut rng = Rng(0xC0FF_EE00_1234_5678);
    let mut outcomes = std::collections::BTreeMap::<&str, u32>::new();
    let started = std::time::Instant::now();
    for i in 0..200 {
        let src = if i % 4 == 3 { &webm } else { &mp4 };
        let m = mutate(&mut rng, src);
        let t = std::time::Instant::now();
        let r = std::panic::catch_unwind(|| collect(&m, &plan).map(|(info, _)| info));
        let r = r.unwrap_or_else(|_| panic!("mutation {i} panicked"));
        assert!(
            t.elapsed() < Duration::from_secs(6),
            "mutation {i} took {:?}",
            t.elapsed()
        );
        *outcomes
            .entry(r.as_ref().map(|_| "ok").unwrap_or_else(|e| e.code()))
            .or_default() += 1;
    }
    eprintln!("video mutations in {:?}: {outcomes:?}", started.elapsed());
    // Both paths were exercised (a mutator that breaks everything, or nothing, tests little),
    // and every refusal is the client's fault in words a client can act on: no mutation may
    // surface as an internal error (a 500).
    let ok = outcomes.get("ok").copied().unwrap_or(0);
    assert!(ok > 0 && ok < 200, "{outcomes:?}");
    assert!(!outcomes.contains_key("internal"), "{outcomes:?}");
}

#[test]
fn edit_list_frames_before_the_start_are_not_counted() {
    let Some(src) = h264_high() else { return };
    // Stream copy from 0.5 s: the packets from the keyframe at 0 are kept but flagged to be
    // discarded by an edit list; players (and ffprobe) never show them.
    let cut = fixture("editlist.mp4", |p| {
        let input = fixture_dir().join("editlist-src.mp4");
        std::fs::write(&input, &src).unwrap();
        ffmpeg(&["-ss", "0.5", "-i", input.to_str().unwrap(), "-c", "copy", p]);
    })
    .unwrap();
    let expected = ffprobe_frame_count(&fixture_dir().join("editlist.mp4"));
    let (full, _) = collect(
        &cut,
        &VideoPlan {
            max_sampled: 1000,
            ..VideoPlan::default()
        },
    )
    .unwrap();
    assert_eq!(full.total_frames, expected, "decoded all");
    let (capped, _) = collect(
        &cut,
        &VideoPlan {
            max_sampled: 1,
            ..VideoPlan::default()
        },
    )
    .unwrap();
    assert_eq!(
        capped.total_frames, expected,
        "counted packets after the cap"
    );
    assert_eq!(probe_video(&cut).unwrap().total_frames, expected);
}

fn check_luma(v: &[u8], rgb_plan: &VideoPlan, luma_plan: &VideoPlan) {
    let (_, rgb) = collect(v, rgb_plan).unwrap();
    let (_, luma) = collect(v, luma_plan).unwrap();
    assert_eq!(rgb.len(), luma.len());
    for (a, b) in rgb.iter().zip(&luma) {
        assert_eq!(a.index, b.index);
        match &b.image {
            FrameImage::Both { .. } => assert!(b.sampled, "frame {}", b.index),
            FrameImage::Luma(_) => assert!(b.dense && !b.sampled, "frame {}", b.index),
            FrameImage::Rgb(_) => panic!("frame {} has no luma", b.index),
            FrameImage::Reduced { .. } => panic!("frame {} is reduced unasked", b.index),
        }
        let colour = a.image.rgb().unwrap();
        let grey = b.image.luma();
        assert_eq!(grey.dimensions(), colour.dimensions());
        let diff = grey
            .pixels()
            .zip(colour.pixels())
            .map(|(g, c)| {
                let [r, gr, bl] = c.0.map(f64::from);
                (g.0[0] as f64 - (0.299 * r + 0.587 * gr + 0.114 * bl)).abs()
            })
            .sum::<f64>()
            / grey.len() as f64;
        assert!(diff < 4.0, "frame {}: luma differs by {diff:.1}", b.index);
    }
}

/// A plan's reduced sampled frames are the same frames, in colour at the reduced size and
/// with the full size's luma when dense; its full-size ones are untouched.
#[test]
fn reduced_sampled_frames_are_smaller_copies_of_the_same_frames() {
    let Some(v) = h264_high() else { return };
    let full = VideoPlan {
        every_nth: 5,
        max_sampled: 100,
        dense_every: Some(2),
        dense_luma: true,
        ..VideoPlan::default()
    };
    let reduced = VideoPlan {
        reduced: Some(ReducedSampling {
            full_every: 3,
            full_max: 2,
            long_side: 160,
        }),
        ..full
    };
    let (_, a) = collect(&v, &full).unwrap();
    let (_, b) = collect(&v, &reduced).unwrap();
    assert_eq!(indices(&a), indices(&b));
    let mut slot = 0u64;
    let mut seen_reduced = 0;
    for (fa, fb) in a.iter().zip(&b) {
        assert_eq!((fa.sampled, fa.dense), (fb.sampled, fb.dense));
        if !fb.sampled {
            assert_eq!(fa.image.luma().as_raw(), fb.image.luma().as_raw());
            continue;
        }
        // Slots 0 and 3 are full (every 3rd, the first 2); every other sampled one reduced.
        let colour = fa.image.rgb().unwrap();
        match &fb.image {
            FrameImage::Reduced { rgb, full, luma } => {
                assert!(slot != 0 && slot != 3, "slot {slot} reduced");
                seen_reduced += 1;
                assert_eq!(*full, colour.dimensions());
                assert_eq!(rgb.dimensions(), (160, 120));
                let d = mean_abs_diff_resized(rgb, colour);
                assert!(d < 6.0, "frame {}: differs by {d:.1}", fb.index);
                match luma {
                    Some(l) => assert_eq!(l.as_raw(), fa.image.luma().as_raw()),
                    None => assert!(!fb.dense, "frame {} lacks its luma", fb.index),
                }
            }
            other => {
                assert!(slot == 0 || slot == 3, "slot {slot} not reduced");
                assert_eq!(other.rgb().unwrap().as_raw(), colour.as_raw());
            }
        }
        slot += 1;
    }
    assert_eq!(seen_reduced, 12 - 2);
}

/// PSNR in dB between two frames of the same size.
fn psnr(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let se: f64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    let mse = se / a.as_raw().len() as f64;
    10.0 * (255.0f64.powi(2) / mse.max(1e-12)).log10()
}

#[test]
fn skipping_h264_deblocking_keeps_the_frames_close_and_leaves_other_codecs_alone() {
    let full = VideoPlan {
        decode_threads: 1,
        every_nth: 10,
        max_sampled: 100,
        ..VideoPlan::default()
    };
    let skipped = VideoPlan {
        skip_h264_deblocking: true,
        ..full
    };
    // A real phone selfie, H.264 without B-frames: every picture is a reference, so the
    // undeblocked pictures drift until the next keyframe.
    if let Some(dir) = testdata() {
        let bytes = std::fs::read(dir.join("videos/blinkdetector_selfie_blinks.mp4")).unwrap();
        let (info_a, a) = collect(&bytes, &full).unwrap();
        let (info_b, b) = collect(&bytes, &skipped).unwrap();
        assert_eq!(info_a.total_frames, info_b.total_frames);
        assert_eq!(indices(&a), indices(&b));
        let db: Vec<f64> = a
            .iter()
            .zip(&b)
            .map(|(x, y)| psnr(x.image.rgb().unwrap(), y.image.rgb().unwrap()))
            .collect();
        eprintln!("PSNR of undeblocked frames, dB: {db:.1?}");
        assert!(db.iter().any(|&d| d < 60.0), "the skip took no effect");
        assert!(db.iter().all(|&d| d > 33.0), "frames drifted too far");
    }
    // VP8 has a loop filter too, but the skip is H.264's only.
    let Some(vp8) = vp8_webm() else { return };
    let (_, a) = collect(&vp8, &full).unwrap();
    let (_, b) = collect(&vp8, &skipped).unwrap();
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            x.image.rgb().unwrap().as_raw(),
            y.image.rgb().unwrap().as_raw()
        );
    }
}

/// A video holds its decoder's pictures against the process's decode budget while it decodes
/// (by its coded size), and gives them back when done: `--decode-memory-mb` bounds videos
/// as it bounds stills.
#[test]
fn decoding_a_video_holds_its_pictures_against_the_decode_budget() {
    let Some(dir) = testdata() else { return };
    let bytes = std::fs::read(dir.join("videos/tranvanluyt_real.mp4")).unwrap();
    let (w, h) = (368u64, 656u64);
    let mut seen = Vec::new();
    decode_video(&bytes, &VideoPlan::default(), &mut |_| {
        seen.push(media::decode_budget_in_use());
        ControlFlow::Continue(())
    })
    .unwrap();
    assert!(!seen.is_empty());
    // Other tests of this binary may decode at the same time: at least ours is held.
    assert!(
        seen.iter().all(|&b| b >= w * h * 15),
        "{:?} bytes held, want ≥ {}",
        &seen[..3.min(seen.len())],
        w * h * 15
    );
}
