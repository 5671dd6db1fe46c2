//! The pose series a challenge is judged on (time, yaw, pitch, face width), one line a sampled
//! frame, for the videos named (paths under the test data), as `policy::CHALLENGE_*` were
//! measured: `cargo run --release -p livegate --example challenge_poses --
//! videos/tranvanluyt_real.mp4`.

use liveness::challenge::poses;
use liveness::video::{self, VideoWork};

fn main() {
    let analyzer = livegate::load::analyzer().expect("models");
    let models = analyzer.models();
    let td = testkit::location();
    for name in std::env::args().skip(1) {
        let bytes = std::fs::read(td.join(&name)).unwrap();
        let opts = liveness::AnalysisOptions::default();
        let work = VideoWork::for_request(&opts, false, true);
        let a = video::analyse(models, &bytes, &work).unwrap();
        println!("# {name}");
        for p in poses(&a.frames) {
            println!(
                "{:.2}\t{:.3}\t{:.3}\t{:.1}",
                p.time_s, p.yaw, p.pitch, p.scale
            );
        }
    }
}
