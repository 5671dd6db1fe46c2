//! Face embedders on `testdata/faces`: same-person distances against different-person distances.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use vision::embedder::{DlibEmbedder, FacepluginEmbedder};
use vision::{Embedder, Embedding};

/// `identity → files` from the manifest, for the `faces` category.
fn identities(testdata: &Path) -> BTreeMap<String, Vec<PathBuf>> {
    let manifest = std::fs::read_to_string(testdata.join("MANIFEST.tsv")).unwrap();
    let mut out: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for line in manifest.lines() {
        let cols: Vec<&str> = line.split('\t').collect();
        if cols.len() > 3 && cols[1] == "faces" && cols[3] == "live" && !cols[2].is_empty() {
            out.entry(cols[2].to_string())
                .or_default()
                .push(testdata.join(cols[0]));
        }
    }
    out
}

struct Split {
    same: Vec<f32>,
    different: Vec<f32>,
    /// The hardest pairs: (distance, a, b) of the farthest same-person and closest other pair.
    worst_same: (f32, String, String),
    worst_different: (f32, String, String),
}

impl Split {
    fn of(embeddings: &[(String, Embedding)], embedder: &dyn Embedder) -> Split {
        let mut split = Split {
            same: Vec::new(),
            different: Vec::new(),
            worst_same: (f32::MIN, String::new(), String::new()),
            worst_different: (f32::MAX, String::new(), String::new()),
        };
        for (i, (a, ea)) in embeddings.iter().enumerate() {
            for (b, eb) in &embeddings[i + 1..] {
                let d = embedder.distance(ea, eb);
                if a == b {
                    split.same.push(d);
                    if d > split.worst_same.0 {
                        split.worst_same = (d, a.clone(), b.clone());
                    }
                } else {
                    split.different.push(d);
                    if d < split.worst_different.0 {
                        split.worst_different = (d, a.clone(), b.clone());
                    }
                }
            }
        }
        split
    }

    fn max_same(&self) -> f32 {
        self.same.iter().copied().fold(f32::MIN, f32::max)
    }

    fn min_different(&self) -> f32 {
        self.different.iter().copied().fold(f32::MAX, f32::min)
    }

    fn report(&self, what: &str) {
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len().max(1) as f32;
        // Fraction of (same, different) pairs ordered correctly: the ROC AUC.
        let mut correct = 0u64;
        for s in &self.same {
            correct += self.different.iter().filter(|d| *d > s).count() as u64;
        }
        let auc = correct as f64 / (self.same.len() * self.different.len()).max(1) as f64;
        eprintln!(
            "{what}: same n={} mean={:.3} max={:.3} | different n={} mean={:.3} min={:.3} | AUC={auc:.4}",
            self.same.len(),
            mean(&self.same),
            self.max_same(),
            self.different.len(),
            mean(&self.different),
            self.min_different(),
        );
        eprintln!(
            "  hardest: same {:?}, different {:?}",
            self.worst_same, self.worst_different
        );
    }
}

#[test]
fn dlib_separates_the_aligned_johns() {
    let Some(testdata) = common::testdata() else {
        return;
    };
    let store = common::store();
    let rt = common::runtime();
    let dlib = DlibEmbedder::load(&rt, store).unwrap();
    let mut embeddings = Vec::new();
    let mut times = Vec::new();
    for (who, files) in identities(&testdata) {
        for f in files
            .iter()
            .filter(|f| f.to_string_lossy().contains("dlib_johns"))
        {
            let chip = common::load_rgb(f);
            let t = std::time::Instant::now();
            embeddings.push((who.clone(), dlib.embed_chip(&chip).unwrap()));
            times.push(t.elapsed());
        }
    }
    assert!(embeddings.len() >= 40, "expected the dlib Johns chips");
    times.sort();
    eprintln!(
        "dlib inference: median {:?} per chip",
        times[times.len() / 2]
    );
    let split = Split::of(&embeddings, &dlib);
    split.report("dlib on dlib's own chips");
    assert!(split.max_same() < 0.6 && split.min_different() > 0.6);
}

#[test]
fn faceplugin_output_is_a_unit_vector() {
    let Some(testdata) = common::testdata() else {
        return;
    };
    let store = common::store();
    let rt = common::runtime();
    let fp = FacepluginEmbedder::load(&rt, store).unwrap();
    let chip = image::imageops::resize(
        &common::load_rgb(&testdata.join("faces/fr_obama.jpg")),
        112,
        112,
        image::imageops::FilterType::Triangle,
    );
    let e = fp.embed_chip(&chip).unwrap();
    let norm: f32 = e.0.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert_eq!(e.0.len(), 512);
    assert!((norm - 1.0).abs() < 1e-4);
    assert!(fp.distance(&e, &e).abs() < 1e-5);
    assert_eq!(fp.distance(&e, &Embedding(vec![0.0; 128])), f32::INFINITY);
}

/// The highest-scoring face of every identified photo in `faces/` (dlib's chips are pasted on a
/// grey canvas first: the detector needs some context around a face).
fn detected_faces(testdata: &Path) -> Vec<(String, PathBuf, image::RgbImage, vision::Face)> {
    use vision::FaceDetector;
    let detector = vision::blazeface::BlazeFace::load(&common::runtime(), common::store()).unwrap();
    let mut out = Vec::new();
    for (who, files) in identities(testdata) {
        for f in files {
            let mut image = common::load_rgb(&f);
            if image.dimensions() == (150, 150) {
                let mut canvas = image::RgbImage::from_pixel(300, 300, image::Rgb([128, 128, 128]));
                image::imageops::overlay(&mut canvas, &image, 75, 75);
                image = canvas;
            }
            let faces = detector.detect(&image).unwrap();
            match faces.into_iter().next() {
                Some(face) => out.push((who.clone(), f, image, face)),
                None => eprintln!("no face detected in {}", f.display()),
            }
        }
    }
    out
}

fn embed_all(
    faces: &[(String, PathBuf, image::RgbImage, vision::Face)],
    embedder: &dyn Embedder,
) -> Vec<(String, Embedding)> {
    let t = std::time::Instant::now();
    let out: Vec<_> = faces
        .iter()
        .map(|(who, _, image, face)| (who.clone(), embedder.embed(image, face).unwrap()))
        .collect();
    eprintln!(
        "{}: {:?} per face (alignment + inference)",
        embedder.name(),
        t.elapsed() / faces.len().max(1) as u32
    );
    out
}

/// Both candidates on the same detections; the default must separate every pair.
#[test]
fn default_embedder_separates_every_identity() {
    let Some(testdata) = common::testdata() else {
        return;
    };
    let rt = common::runtime();
    let faces = detected_faces(&testdata);
    let people: std::collections::BTreeSet<&str> = faces.iter().map(|f| f.0.as_str()).collect();
    eprintln!("{} faces of {} people", faces.len(), people.len());
    assert!(faces.len() >= 70 && people.len() >= 12);

    let dlib = DlibEmbedder::load(&rt, common::store()).unwrap();
    let fp = FacepluginEmbedder::load(&rt, common::store()).unwrap();
    let dlib_split = Split::of(&embed_all(&faces, &dlib), &dlib);
    let fp_split = Split::of(&embed_all(&faces, &fp), &fp);
    dlib_split.report("dlib (Euclidean)");
    fp_split.report("faceplugin (cosine)");

    let (default, split) = match vision::embedder::DEFAULT {
        vision::embedder::EmbedderKind::Dlib => ("dlib", &dlib_split),
        vision::embedder::EmbedderKind::Faceplugin => ("faceplugin", &fp_split),
    };
    assert!(
        split.max_same() < split.min_different(),
        "{default}: a same-person pair at {} is farther than a different-person pair at {}",
        split.max_same(),
        split.min_different()
    );
}
