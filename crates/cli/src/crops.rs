//! `livegate crops`: the PAD model inputs the service produces for every labelled still, for
//! the training pipeline (`training/`).
//!
//! Training on the service's own crops (same decoder, same face detector, same face pick, same
//! context crop and resampler) is what keeps the shipped model's inputs in training identical to
//! the ones it sees in production. The crops go to one `.npy` per context scale (`uint8`,
//! `N×80×80×3` RGB, rounded from the resampler's floats); `--exact N` also writes the first N
//! items' crops unrounded (`float32`, `exact_s<scale>.npy`) with every installed PAD model's
//! score on them, so the training code's forward pass can be checked against the service's.

use anyhow::Context;
use liveness::Models;
use std::io::Write;
use std::path::{Path, PathBuf};
use vision::Face;
use vision::pad::context_crop;
use vision::sampling::sample;

/// Context scales written: the two Livegate's model reads (2.7 as MiniFASNet V2, 4.0 as V1SE),
/// two neighbours of 2.7 for experiments with scale augmentation, and the face with little or
/// no context (1.0, 1.5), where a tight studio chip and a wide selfie look alike
/// (`training/experiments/face_crops/`).
pub const SCALES: [f32; 6] = [2.2, 2.7, 3.2, 4.0, 1.0, 1.5];
const SIZE: usize = vision::pad::MiniFasNet::SIZE;
/// Context scales written at Faceplugin `fr_liveness`'s 128×128 input with `--crops-128`
/// (`crops_s<scale>_128.npy`), for `training/experiments/fine_texture/`.
pub const SCALES_128: [f32; 3] = [2.7, 4.0, 1.0];
const SIZE_128: usize = vision::pad::FrLiveness::SIZE;

#[derive(clap::Args)]
pub struct CropsArgs {
    /// TSV manifest with `file`, `identity`, `label` columns.
    #[arg(long)]
    manifest: PathBuf,
    /// Folder the manifest's paths are relative to (default: the manifest's folder).
    #[arg(long)]
    root: Option<PathBuf>,
    /// Output folder: `index.tsv`, `crops_s<scale>.npy`, and with `--exact` the float crops.
    #[arg(long)]
    out: PathBuf,
    /// Only items whose path starts with one of these prefixes (repeatable).
    #[arg(long)]
    only: Vec<String>,
    /// Keep every n-th item of each source (for a quick smoke run).
    #[arg(long, default_value_t = 1, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    every: usize,
    /// Also write the first N usable items' crops as float32 with each PAD model's score on
    /// them (`exact_s<scale>.npy`, `exact.tsv`).
    #[arg(long, default_value_t = 0)]
    exact: usize,
    /// Also write 128×128 crops (`crops_s<scale>_128.npy`, about 50 kB per item and scale).
    #[arg(long)]
    crops_128: bool,
    /// Also write the facematch embedder's embedding of each face (`embeddings.npy`, float32,
    /// the aligned face the service compares), for `training/experiments/fr_taps/`.
    #[arg(long)]
    embeddings: bool,
    /// Parallel workers, 1 to 256 (default: the number of cores).
    #[arg(long, value_parser = crate::parallel::at_most_256())]
    workers: Option<usize>,
}

struct Row {
    item: eval::Item,
    face: Face,
    image_w: u32,
    image_h: u32,
    crops: Vec<Vec<f32>>,
    crops_128: Vec<Vec<u8>>,
    embedding: Option<Vec<f32>>,
    scores: Vec<(String, f32)>,
}

pub fn run(args: CropsArgs) -> anyhow::Result<()> {
    let root = args
        .root
        .clone()
        .or_else(|| args.manifest.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let mut items = eval::manifest::read(&args.manifest, &root)?.items;
    items.retain(|i| i.kind == eval::Kind::Still && i.class.is_some());
    if !args.only.is_empty() {
        items.retain(|i| args.only.iter().any(|p| i.file.starts_with(p.as_str())));
    }
    if args.every > 1 {
        let mut seen = std::collections::HashMap::<String, usize>::new();
        items.retain(|i| {
            let n = seen.entry(i.source.clone()).or_default();
            *n += 1;
            (*n - 1).is_multiple_of(args.every)
        });
    }
    anyhow::ensure!(!items.is_empty(), "no labelled stills selected");
    anyhow::ensure!(
        !crate::same_file::same_file(&args.manifest, &args.out.join("index.tsv")),
        "--out {}: its index.tsv is the manifest being read; name another folder",
        args.out.display()
    );
    crate::eval::ensure_files_exist(&items, &root)?;
    let analyzer = livegate::load::analyzer()?;
    let models = analyzer.models();
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    let scales_128: &[f32] = if args.crops_128 { &SCALES_128 } else { &[] };
    let results = eval::runner::par_map(&items, workers, true, |item| {
        one(models, item, scales_128, args.embeddings).map_err(|e| format!("{}: {e}", item.file))
    });
    let (mut rows, mut skipped) = (Vec::new(), Vec::new());
    for r in results {
        match r {
            Ok(row) => rows.push(row),
            Err(e) => skipped.push(e),
        }
    }
    write(&args.out, &rows, scales_128, args.exact)?;
    eprintln!(
        "wrote {} crops per scale to {} ({} items without a usable face skipped)",
        rows.len(),
        args.out.display(),
        skipped.len()
    );
    for s in skipped.iter().take(20) {
        eprintln!("  skipped {s}");
    }
    Ok(())
}

/// Whether `name` is a file this command writes (`index.tsv`, `crops_s27.npy`,
/// `crops_s27_128.npy`, `embeddings.npy`, `exact.tsv`, `exact_s27.npy`).
fn is_ours(name: &str) -> bool {
    matches!(name, "index.tsv" | "embeddings.npy" | "exact.tsv")
        || ((name.starts_with("crops_s") || name.starts_with("exact_s")) && name.ends_with(".npy"))
}

/// Removes what an earlier run left in `out`: a run without `--crops-128`, `--embeddings` or
/// `--exact` would otherwise leave the earlier run's files beside an index they do not match,
/// for a training script to read together. Other files are left alone.
fn remove_earlier_run(out: &Path) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(out).with_context(|| format!("cannot read {}", out.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_file() && is_ours(&entry.file_name().to_string_lossy()) {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("cannot replace {}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// The still exactly as the API decodes it, its dominant usable face, and the crops.
fn one(
    models: &Models,
    item: &eval::Item,
    scales_128: &[f32],
    with_embedding: bool,
) -> anyhow::Result<Row> {
    let bytes = std::fs::read(&item.path)
        .with_context(|| format!("cannot read {}", item.path.display()))?;
    let still = liveness::still::decode(&bytes, liveness::MediaField::Image)?;
    let picked = liveness::face_pick::pick_with(
        models.detector.detect(&still.image)?,
        liveness::still::min_face_px(&still),
        &mut liveness::face_pick::mesh_opinion(models, &still.image),
    );
    let face = match (picked.face, picked.unusable) {
        (Some(f), None) => f,
        (_, Some(why)) => anyhow::bail!("{why:?}"),
        (None, None) => anyhow::bail!("no face"),
    };
    let image = &still.image;
    let crops = SCALES
        .iter()
        .map(|&s| {
            let region = context_crop(image.width(), image.height(), &face.bbox, s);
            sample(image, region, SIZE, SIZE, [0.0; 3])
        })
        .collect();
    let crops_128 = scales_128
        .iter()
        .map(|&s| {
            let region = context_crop(image.width(), image.height(), &face.bbox, s);
            rounded(&sample(image, region, SIZE_128, SIZE_128, [0.0; 3]))
        })
        .collect();
    let embedding = with_embedding
        .then(|| models.embedder.embed(image, &face).map(|e| e.0))
        .transpose()?;
    let scores = models
        .pad
        .iter()
        .map(|m| Ok((m.name().to_string(), m.live_score(image, &face)?)))
        .collect::<Result<Vec<_>, vision::VisionError>>()?;
    Ok(Row {
        item: item.clone(),
        face,
        image_w: image.width(),
        image_h: image.height(),
        crops,
        crops_128,
        embedding,
        scores,
    })
}

fn write(out: &Path, rows: &[Row], scales_128: &[f32], exact: usize) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    remove_earlier_run(out)?;
    let models: Vec<String> = rows
        .first()
        .map(|r| r.scores.iter().map(|(n, _)| n.clone()).collect())
        .unwrap_or_default();
    let mut index = String::from(
        "file\tsubset\tsource\tlabel\tclass\tface_x\tface_y\tface_w\tface_h\timage_w\timage_h",
    );
    // the detector's six keypoints (vision::kp order) and confidence: pose and framing
    // covariates for experiments (`training/experiments/fr_taps/`)
    for k in 0..6 {
        index.push_str(&format!("\tkp{k}_x\tkp{k}_y"));
    }
    index.push_str("\tdetector_score");
    for m in &models {
        index.push('\t');
        index.push_str(m);
    }
    index.push('\n');
    for r in rows {
        let b = &r.face.bbox;
        index.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{:.2}\t{:.2}\t{:.2}\t{:.2}\t{}\t{}",
            r.item.file,
            r.item.subset,
            r.item.source,
            r.item.label,
            match r.item.class {
                Some(eval::Class::BonaFide) => "bona_fide",
                _ => "attack",
            },
            b.x,
            b.y,
            b.w,
            b.h,
            r.image_w,
            r.image_h
        ));
        for p in &r.face.keypoints {
            index.push_str(&format!("\t{:.2}\t{:.2}", p.x, p.y));
        }
        index.push_str(&format!("\t{:.4}", r.face.score));
        for (_, s) in &r.scores {
            index.push_str(&format!("\t{s:.6}"));
        }
        index.push('\n');
    }
    std::fs::write(out.join("index.tsv"), index)?;
    let shape = [rows.len(), SIZE, SIZE, 3];
    for (k, scale) in SCALES.iter().enumerate() {
        let bytes: Vec<u8> = rows.iter().flat_map(|r| rounded(&r.crops[k])).collect();
        let name = format!("crops_s{}.npy", (scale * 10.0).round() as u32);
        npy(&out.join(name), "|u1", &shape, &bytes)?;
    }
    for (k, scale) in scales_128.iter().enumerate() {
        let bytes: Vec<u8> = rows
            .iter()
            .flat_map(|r| r.crops_128[k].iter().copied())
            .collect();
        let name = format!("crops_s{}_128.npy", (scale * 10.0).round() as u32);
        npy(
            &out.join(name),
            "|u1",
            &[rows.len(), SIZE_128, SIZE_128, 3],
            &bytes,
        )?;
    }
    if let Some(dim) = rows
        .first()
        .and_then(|r| r.embedding.as_ref())
        .map(Vec::len)
    {
        let bytes: Vec<u8> = rows
            .iter()
            .flat_map(|r| r.embedding.iter().flatten().flat_map(|v| v.to_le_bytes()))
            .collect();
        anyhow::ensure!(
            bytes.len() == rows.len() * dim * 4,
            "embeddings of unequal length"
        );
        npy(
            &out.join("embeddings.npy"),
            "<f4",
            &[rows.len(), dim],
            &bytes,
        )?;
    }
    if exact > 0 {
        let n = exact.min(rows.len());
        for (k, scale) in SCALES.iter().enumerate() {
            let bytes: Vec<u8> = rows[..n]
                .iter()
                .flat_map(|r| r.crops[k].iter().flat_map(|v| v.to_le_bytes()))
                .collect();
            let name = format!("exact_s{}.npy", (scale * 10.0).round() as u32);
            npy(&out.join(name), "<f4", &[n, SIZE, SIZE, 3], &bytes)?;
        }
        let mut t = format!("file\t{}\n", models.join("\t"));
        for r in &rows[..n] {
            t.push_str(&r.item.file);
            for (_, s) in &r.scores {
                t.push_str(&format!("\t{s:.7}"));
            }
            t.push('\n');
        }
        std::fs::write(out.join("exact.tsv"), t)?;
    }
    Ok(())
}

fn rounded(crop: &[f32]) -> Vec<u8> {
    crop.iter()
        .map(|v| v.round().clamp(0.0, 255.0) as u8)
        .collect()
}

/// A NumPy `.npy` file (format 1.0): magic, a header dict padded to 64 bytes, raw data.
fn npy(path: &Path, dtype: &str, shape: &[usize], data: &[u8]) -> anyhow::Result<()> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let mut header = format!(
        "{{'descr': '{dtype}', 'fortran_order': False, 'shape': ({}{}), }}",
        dims.join(", "),
        if shape.len() == 1 { "," } else { "" }
    );
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
    );
    f.write_all(b"\x93NUMPY\x01\x00")?;
    f.write_all(&(header.len() as u16).to_le_bytes())?;
    f.write_all(header.as_bytes())?;
    f.write_all(data)?;
    f.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_earlier_runs_files_go_and_others_stay() {
        let dir = tempfile::tempdir().unwrap();
        let ours = [
            "index.tsv",
            "crops_s27.npy",
            "crops_s27_128.npy",
            "embeddings.npy",
            "exact.tsv",
            "exact_s40.npy",
        ];
        for name in ours.iter().chain(&["notes.txt", "crops_s27.npy.bak"]) {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        remove_earlier_run(dir.path()).unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["crops_s27.npy.bak", "notes.txt"]);
    }
}
