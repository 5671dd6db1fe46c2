//! Pose readings of a challenge's pose-only frames, tracked on the reduced colour picture,
//! against the same frames tracked at full size (every sampled frame a client frame).
//! `cargo run --release -p livegate --example pose_reduced` (needs the test data).

use liveness::challenge::poses;
use liveness::video::{self, ClientFrames, VideoWork};

fn main() {
    let analyzer = livegate::load::analyzer().expect("models");
    let models = analyzer.models();
    let td = testkit::location();
    for name in [
        "videos/tranvanluyt_real.mp4",
        "videos/lestari15_real.mp4",
        "videos/blinkdetector_selfie_blinks.mp4",
    ] {
        let bytes = std::fs::read(td.join(name)).unwrap();
        let opts = liveness::AnalysisOptions::default();
        let challenged = VideoWork::for_request(&opts, false, true);
        let full = VideoWork {
            client: ClientFrames {
                every: 1,
                max: challenged.max_sampled as usize,
            },
            ..VideoWork::for_request(&opts, false, true)
        };
        let a = video::analyse(models, &bytes, &challenged).unwrap();
        let b = video::analyse(models, &bytes, &full).unwrap();
        let (pa, pb) = (poses(&a.frames), poses(&b.frames));
        let (mut n, mut dy, mut dp, mut ds) = (0, 0f32, 0f32, 0f32);
        for (slot, (fa, fb)) in a.frames.iter().zip(&b.frames).enumerate() {
            if challenged.client.asked(slot) || fa.whole_frame_search || fb.whole_frame_search {
                continue;
            }
            let (Some(x), Some(y)) = (
                pa.iter().find(|p| p.time_s == fa.time_s),
                pb.iter().find(|p| p.time_s == fb.time_s),
            ) else {
                continue;
            };
            n += 1;
            dy = dy.max((x.yaw - y.yaw).abs());
            dp = dp.max((x.pitch - y.pitch).abs());
            ds = ds.max((x.scale / y.scale - 1.0).abs());
        }
        let range = |f: fn(&liveness::challenge::Pose) -> f32, p: &[liveness::challenge::Pose]| {
            let v: Vec<f32> = p.iter().map(f).collect();
            (
                v.iter().copied().fold(f32::INFINITY, f32::min),
                v.iter().copied().fold(f32::NEG_INFINITY, f32::max),
            )
        };
        println!(
            "{name}: {} / {} poses; {n} reduced frames tracked in both: max |Δyaw| {dy:.3}, max |Δpitch| {dp:.3}, max |Δscale| {:.1} %; yaw {:?} vs {:?}, pitch {:?} vs {:?}",
            pa.len(),
            pb.len(),
            ds * 100.0,
            range(|p| p.yaw, &pa),
            range(|p| p.yaw, &pb),
            range(|p| p.pitch, &pa),
            range(|p| p.pitch, &pb),
        );
    }
}
