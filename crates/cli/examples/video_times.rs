//! Where the time of an image + 10 s 720p video analysis goes: wall time per stage (the
//! analysis' own timings) and the process's CPU time, for the pipeline bench's clip with and
//! without B-frames, against `ffmpeg -f null` on the same clip (wall and CPU) and against our
//! own decoding alone (the analysis' decode plan, frames dropped on arrival).
//! `cargo run --release -p livegate --example video_times [RUNS]` (needs the test data).

use liveness::{Analyse, AnalysisOptions, AnalysisRequest, policy};
use std::time::Instant;
use testkit::stills::{self, ffmpeg};

/// User + system CPU time in ms (`/proc/self/stat`, 10 ms ticks) of this process and of its
/// waited-for children (the `ffmpeg` runs).
fn cpu_ms() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<f64> = after
        .split_whitespace()
        .take(15)
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    ((f[11] + f[12]) * 10.0, (f[13] + f[14]) * 10.0)
}

/// The analysis' decode plan (see `liveness::video::analyse`) with every frame dropped: what
/// decoding, scaling and colour conversion cost without any analysis.
fn decode_alone(bytes: &[u8]) {
    let opts = AnalysisOptions::default();
    let plan = media::VideoPlan {
        every_nth: opts.frame_sampling_rate,
        max_sampled: opts.max_frames_to_analyze,
        dense_every: None,
        dense_fps: Some(policy::DENSE_TARGET_FPS),
        max_long_side: policy::VIDEO_LONG_SIDE,
        decode_threads: policy::VIDEO_DECODE_THREADS,
        skip_h264_deblocking: policy::VIDEO_SKIP_H264_DEBLOCKING,
        dense_luma: true,
        reduced: None,
        limits: media::VideoLimits::default(),
    };
    media::decode_video(bytes, &plan, &mut |_| std::ops::ControlFlow::Continue(())).unwrap();
}

fn main() {
    let runs: usize = std::env::args().nth(1).map_or(7, |s| s.parse().unwrap());
    let td = testkit::location();
    let dir = tempfile::tempdir().unwrap();
    let jpeg = stills::selfie_12mp(&td, dir.path());
    let with_b = stills::selfie_clip_720p(&td, dir.path());
    let no_b = stills::without_b_frames(&with_b, dir.path());
    let clips = [with_b, no_b];
    let analyzer = livegate::load::analyzer().expect("models");
    for clip in &clips {
        let req = AnalysisRequest {
            image: Some(std::fs::read(&jpeg).unwrap()),
            video: Some(std::fs::read(clip).unwrap()),
            options: AnalysisOptions::default(),
            challenge: None,
        };
        analyzer.analyse(&req).unwrap();
        let (mut ffs, mut ours, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..runs {
            let (t, (_, c)) = (Instant::now(), cpu_ms());
            ffmpeg(&["-i", clip.to_str().unwrap(), "-f", "null", "-"]);
            let (ff, ff_cpu) = (t.elapsed().as_secs_f64() * 1e3, cpu_ms().1 - c);
            let (t, (c, _)) = (Instant::now(), cpu_ms());
            decode_alone(req.video.as_deref().unwrap());
            let (dec, dec_cpu) = (t.elapsed().as_secs_f64() * 1e3, cpu_ms().0 - c);
            let (t, (c, _)) = (Instant::now(), cpu_ms());
            let a = analyzer.analyse(&req).unwrap();
            let (wall, cpu) = (t.elapsed().as_secs_f64() * 1e3, cpu_ms().0 - c);
            let tm = &a.timings;
            ffs.push(ff);
            ours.push(wall);
            ratios.push(wall / ff);
            println!(
                "{}: ffmpeg {ff:.0} ms, cpu {ff_cpu:.0} | decode alone {dec:.0} ms, cpu {dec_cpu:.0} | ours {wall:.0} ms ({:.2}x), cpu {cpu:.0} | image {:.0} video {:.0} facematch {:.0}",
                clip.file_name().unwrap().to_str().unwrap(),
                wall / ff,
                tm.image,
                tm.video,
                tm.facematch
            );
        }
        println!(
            "{}: median ffmpeg {:.0} ms, ours {:.0} ms, ratio {:.2}",
            clip.file_name().unwrap().to_str().unwrap(),
            median(&mut ffs),
            median(&mut ours),
            median(&mut ratios)
        );
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}
