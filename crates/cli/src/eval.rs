//! `livegate eval`: ISO/IEC 30107-3 metrics on a labelled manifest, with floors for CI.

use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct EvalArgs {
    /// TSV manifest with `file`, `category`, `identity`, `label` columns.
    #[arg(long)]
    manifest: PathBuf,
    /// Folder the manifest's paths are relative to (default: the manifest's folder).
    #[arg(long)]
    root: Option<PathBuf>,
    /// Where the JSON report and the PNG plots go.
    #[arg(long, default_value = "eval-out")]
    out: PathBuf,
    /// Parallel analyses (default: the number of cores).
    #[arg(long)]
    workers: Option<usize>,
    /// Only items whose path starts with one of these prefixes (repeatable).
    #[arg(long)]
    only: Vec<String>,
    /// Fail (exit 1) when a floor is broken: `subset:metric<=value` or `subset:metric>=value`,
    /// e.g. `nuaa_train:roc_auc>=0.99` or `OVERALL:acer<=0.2` (repeatable).
    #[arg(long)]
    floor: Vec<String>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let root = args
        .root
        .clone()
        .or_else(|| args.manifest.parent().map(|p| p.to_path_buf()))
        .unwrap_or_default();
    let mut items = eval::manifest::read(&args.manifest, &root)?;
    if !args.only.is_empty() {
        items.retain(|i| args.only.iter().any(|p| i.file.starts_with(p.as_str())));
    }
    let floors = args
        .floor
        .iter()
        .map(|f| parse_floor(f))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let analyzer = livegate::load::analyzer()?;
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    eprintln!("evaluating {} items with {workers} workers", items.len());
    let outcomes = eval::runner::run(&analyzer, &items, workers, !args.quiet);
    let embedder = analyzer.models().embedder.clone();
    let report = eval::report::build(&outcomes, analyzer.facematch_max_distance(), |a, b| {
        embedder.distance(
            &vision::Embedding(a.to_vec()),
            &vision::Embedding(b.to_vec()),
        )
    });
    print!("{}", eval::report::table(&report));
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    let json = serde_json::json!({ "report": report, "items": outcomes.iter().map(|o| serde_json::json!({
        "file": o.item.file, "label": o.item.label, "score": o.score, "accepted": o.accepted,
        "non_response": o.non_response, "blinks": o.blinks, "latency_ms": o.latency_ms, "error": o.error,
        "pad_per_model": o.pad_per_model,
    })).collect::<Vec<_>>() });
    std::fs::write(
        args.out.join("report.json"),
        serde_json::to_vec_pretty(&json)?,
    )?;
    eval::plots::det(&outcomes, &args.out.join("det.png"))
        .map_err(|e| anyhow::anyhow!("det plot: {e}"))?;
    eval::plots::histogram(&outcomes, &args.out.join("scores.png"))
        .map_err(|e| anyhow::anyhow!("histogram: {e}"))?;
    eprintln!(
        "wrote {}/report.json, det.png, scores.png",
        args.out.display()
    );

    let mut broken = Vec::new();
    for f in &floors {
        let m = if f.subset == "OVERALL" {
            Some(&report.overall)
        } else {
            report.subsets.get(&f.subset)
        };
        let Some(m) = m else {
            broken.push(format!("{}: no such subset", f.subset));
            continue;
        };
        let v = serde_json::to_value(m)?[&f.metric].as_f64();
        let Some(v) = v else {
            broken.push(format!("{}:{}: no such metric", f.subset, f.metric));
            continue;
        };
        let ok = if f.at_least {
            v >= f.value
        } else {
            v <= f.value
        };
        if !ok {
            broken.push(format!(
                "{}:{} = {v:.4}, floor {} {}",
                f.subset,
                f.metric,
                if f.at_least { ">=" } else { "<=" },
                f.value
            ));
        }
    }
    if !broken.is_empty() {
        anyhow::bail!("evaluation floors broken:\n  {}", broken.join("\n  "));
    }
    if !floors.is_empty() {
        eprintln!("all {} floors hold", floors.len());
    }
    Ok(())
}

struct Floor {
    subset: String,
    metric: String,
    at_least: bool,
    value: f64,
}

fn parse_floor(s: &str) -> anyhow::Result<Floor> {
    let (subset, rest) = s
        .split_once(':')
        .context("floor must look like subset:metric>=value")?;
    let (metric, at_least, value) = if let Some((m, v)) = rest.split_once(">=") {
        (m, true, v)
    } else if let Some((m, v)) = rest.split_once("<=") {
        (m, false, v)
    } else {
        anyhow::bail!("floor {s:?} needs >= or <=");
    };
    Ok(Floor {
        subset: subset.to_string(),
        metric: metric.trim().to_string(),
        at_least,
        value: value
            .trim()
            .parse()
            .with_context(|| format!("bad number in floor {s:?}"))?,
    })
}
