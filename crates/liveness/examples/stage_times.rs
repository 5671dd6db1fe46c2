//! Per-stage wall time of the still path on a set of images, one thread:
//! `cargo run --release -p liveness --example stage_times -- IMAGE...`
//! Prints the median of each stage over every image and repetition, so a change can be judged
//! by where its time went (decode, detection, PAD, quality), not only by the total.

use std::time::Instant;

use liveness::models::Models;
use vision::ModelStore;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    let store = ModelStore::open_default().expect("model store");
    let models = Models::load(&store).expect("models");
    let files: Vec<Vec<u8>> = paths.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let (mut dec, mut det, mut pad, mut qual, mut total) = (vec![], vec![], vec![], vec![], vec![]);
    for _rep in 0..3 {
        for bytes in &files {
            let t0 = Instant::now();
            let still = liveness::still::decode(bytes, liveness::MediaField::Image).unwrap();
            let t1 = Instant::now();
            let faces = models.detector.detect(&still.image).unwrap();
            let t2 = Instant::now();
            let mut t3 = t2;
            let mut t4 = t2;
            if let Some(f) = faces.first() {
                liveness::pad::score(&models, &still.image, f, liveness::pad::Medium::Still)
                    .unwrap();
                t3 = Instant::now();
                vision::quality::assess(&still.image, f);
                t4 = Instant::now();
            }
            let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
            dec.push(ms(t0, t1));
            det.push(ms(t1, t2));
            pad.push(ms(t2, t3));
            qual.push(ms(t3, t4));
            total.push(ms(t0, t4));
        }
    }
    println!(
        "n={} decode {:.2} detect {:.2} pad {:.2} quality {:.2} total {:.2} (ms, medians)",
        total.len(),
        median(dec),
        median(det),
        median(pad),
        median(qual),
        median(total)
    );
}
