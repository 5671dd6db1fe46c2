//! Prints the faces BlazeFace finds in each image given on the command line, as JSON lines.
//! Handy for eyeballing the detector:
//! `cargo run -p vision --example detect -- [--short-only|--full-only] [--tiles N] a.jpg ...`

use vision::blazeface::{BlazeFace, DetectorConfig};
use vision::{FaceDetector, ModelId};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let store = vision::ModelStore::open_default()?;
    let runtime = vision::Runtime::from_store(&store)?;
    let mut config = DetectorConfig::default();
    let (mut short, mut full) = (true, true);
    let mut files = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--short-only" => full = false,
            "--full-only" => short = false,
            "--tiles" => config.max_tiles = args.next().ok_or("--tiles N")?.parse()?,
            "--min-score" => config.min_score = args.next().ok_or("--min-score S")?.parse()?,
            _ => files.push(arg),
        }
    }
    let load = |id: ModelId, name| -> Result<_, Box<dyn std::error::Error>> {
        Ok(runtime.load(name, &store.path(id)?)?)
    };
    let detector = BlazeFace::from_models(
        short
            .then(|| load(ModelId::BlazeFaceShort, "short"))
            .transpose()?,
        full.then(|| load(ModelId::BlazeFaceFull, "full"))
            .transpose()?,
    )?
    .with_config(config);
    for path in files {
        let image = image::open(&path)?.to_rgb8();
        let started = std::time::Instant::now();
        let faces = detector.detect(&image)?;
        let ms = started.elapsed().as_secs_f64() * 1e3;
        let line = serde_json::json!({
            "file": path, "width": image.width(), "height": image.height(), "ms": ms, "faces": faces,
        });
        println!("{line}");
    }
    Ok(())
}
