//! Where the time of an image + 10 s 720p video analysis goes: wall time per stage (the
//! analysis' own timings) and the process's CPU time, for the pipeline bench's clip with and
//! without B-frames, against `ffmpeg -f null` on the same clip.
//! `cargo run --release -p livegate --example video_times [RUNS]` (needs the test data).

use liveness::{Analyse, AnalysisOptions, AnalysisRequest};
use std::time::Instant;
use testkit::stills::{self, ffmpeg};

/// This process's user + system CPU time in ms (`/proc/self/stat`, 10 ms ticks).
fn cpu_ms() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = after.split_whitespace().collect();
    (f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap()) * 10.0
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
        for _ in 0..runs {
            let t = Instant::now();
            ffmpeg(&["-i", clip.to_str().unwrap(), "-f", "null", "-"]);
            let ff = t.elapsed().as_secs_f64() * 1e3;
            let (t, c) = (Instant::now(), cpu_ms());
            let a = analyzer.analyse(&req).unwrap();
            let (wall, cpu) = (t.elapsed().as_secs_f64() * 1e3, cpu_ms() - c);
            let tm = &a.timings;
            println!(
                "{}: ffmpeg {ff:.0} ms | ours {wall:.0} ms ({:.2}x), cpu {cpu:.0} ms | image {:.0} video {:.0} facematch {:.0}",
                clip.file_name().unwrap().to_str().unwrap(),
                wall / ff,
                tm.image,
                tm.video,
                tm.facematch
            );
        }
    }
}
