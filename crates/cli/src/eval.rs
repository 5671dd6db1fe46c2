//! `livegate eval`: ISO/IEC 30107-3 metrics on a labelled manifest, with floors for CI.

use anyhow::Context;
use liveness::operating_point::Rule;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct EvalArgs {
    /// TSV manifest with `file`, `identity`, `label` columns (optional: `group`, `species`,
    /// `note`).
    #[arg(long)]
    manifest: PathBuf,
    /// Folder the manifest's paths are relative to (default: the manifest's folder).
    #[arg(long)]
    root: Option<PathBuf>,
    /// Where the JSON report and the PNG plots go.
    #[arg(long, default_value = "eval-out")]
    out: PathBuf,
    /// Parallel analyses, 1 to 256 (default: the number of cores).
    #[arg(long, value_parser = crate::parallel::at_most_256())]
    workers: Option<usize>,
    /// Only items whose path starts with one of these prefixes (repeatable).
    #[arg(long)]
    only: Vec<String>,
    /// Fail (exit 1) when a floor is broken: `subset:metric<=value` or `subset:metric>=value`,
    /// e.g. `nuaa_train:roc_auc>=0.99` or `OVERALL:acer<=0.2`; a dot reaches inside a block,
    /// e.g. `LOSO:review.error_share>=0.2` (repeatable).
    #[arg(long)]
    floor: Vec<String>,
    /// Leave-one-source-out figures over the sources of these subsets (repeatable, e.g.
    /// `--loso extra --loso nuaa_train`): each source judged at a threshold chosen on the
    /// others. Floors name it `LOSO` (pooled, plus `max_source_acer` and `max_species_apcer`).
    #[arg(long)]
    loso: Vec<String>,
    /// Folder of fold models `<source>/` (from `training/export.py`): each source's items
    /// are scored by the Livegate PAD model trained without that source.
    #[arg(long, requires = "loso")]
    loso_models: Option<PathBuf>,
    /// Name the attack species of a subset or source whose manifest rows do not
    /// (`SUBSET_OR_SOURCE=SPECIES`, repeatable; e.g. `nuaa_train=print`). Rows that name one
    /// keep theirs.
    #[arg(long, value_name = "SUBSET=SPECIES")]
    species: Vec<String>,
    /// Set this deployment's own operating point on the manifest's labelled stills and write
    /// it to FILE, for the service's `LIVEGATE_OPERATING_POINT`: of the thresholds with the
    /// lowest ACER there, the one nearest the policy's, unless --max-apcer or --max-bpcer says
    /// otherwise (README, "Your own operating point"). Needs at least 20 judged stills of each
    /// class, of the deployment's own captures.
    #[arg(long, value_name = "FILE", conflicts_with = "loso_models")]
    calibrate: Option<PathBuf>,
    /// With --calibrate: choose instead the lowest BPCER whose APCER on the stills is at most
    /// this share of the attacks (0 to 0.5; e.g. 0.01), for a deployment that states how many
    /// attacks it may let through.
    #[arg(long, value_name = "SHARE", requires = "calibrate", value_parser = share_up_to_half)]
    max_apcer: Option<f32>,
    /// With --calibrate: choose instead the lowest APCER whose BPCER on the stills is at most
    /// this share of the live faces (0 to 0.5), for a deployment that states how many genuine
    /// users it may turn away.
    #[arg(long, value_name = "SHARE", requires = "calibrate", conflicts_with = "max_apcer",
          value_parser = share_up_to_half)]
    max_bpcer: Option<f32>,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

/// `--max-apcer`, `--max-bpcer`: a share of one class. Above a half, one error would be
/// traded for the other beyond any sense; that is a mistake, not a policy.
fn share_up_to_half(text: &str) -> Result<f32, String> {
    let share: f32 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if (0.0..=0.5).contains(&share) {
        // "-0" is 0, and should print so
        Ok(if share == 0.0 { 0.0 } else { share })
    } else {
        Err(format!(
            "{share} is not a share from 0 to 0.5 (0.01 is 1 %)"
        ))
    }
}

/// `--calibrate`: the operating point the outcomes support, written to `file`, with what it
/// does on these stills next to the policy's threshold.
fn write_operating_point(
    outcomes: &[eval::runner::Outcome],
    manifest: &std::path::Path,
    file: &std::path::Path,
    pad_weights: &[(String, String)],
    rule: Rule,
) -> anyhow::Result<()> {
    let point = eval::calibrate::operating_point(
        outcomes,
        &manifest.display().to_string(),
        pad_weights.to_vec(),
        rule,
    )?;
    let c = &point.calibration;
    let pct = |x: Option<f32>| x.map_or("–".into(), |x| format!("{:.1} %", 100.0 * x));
    let line = |name: &str, r: &liveness::operating_point::Rates| {
        format!(
            "  {name:<8} threshold {:.4}: APCER {:.1} % (95 % up to {}), BPCER {:.1} % (up to {})",
            r.threshold,
            100.0 * r.apcer,
            pct(r.apcer_upper_95),
            100.0 * r.bpcer,
            pct(r.bpcer_upper_95),
        )
    };
    let how = match rule {
        Rule::LowestAcer => "the lowest ACER, nearest the policy's threshold".to_string(),
        Rule::MaxApcer(share) => {
            format!("the lowest BPCER with APCER at most {:.1} %", 100.0 * share)
        }
        Rule::MaxBpcer(share) => {
            format!("the lowest APCER with BPCER at most {:.1} %", 100.0 * share)
        }
    };
    println!(
        "operating point on {} bona fide and {} attack stills ({} without a judgement left out), {how}:\n{}\n{}\n  (in-sample: judge it on captures it was not set on)",
        c.bona_fide,
        c.attacks,
        c.unjudged,
        line("policy", &c.policy),
        line("chosen", &c.chosen),
    );
    if let Some(h) = &c.held_out {
        println!(
            "  held out: APCER {:.1} %, BPCER {:.1} % (each of {} stretches of these stills, in manifest order, judged at the threshold set on the others; still flattering: the same sessions sit on both sides)",
            100.0 * h.apcer,
            100.0 * h.bpcer,
            h.parts
        );
    }
    // What the sample can vouch for, against what was asked.
    let stated = match rule {
        Rule::LowestAcer => None,
        Rule::MaxApcer(share) => Some((
            "attack",
            "an APCER",
            c.attacks,
            c.chosen.apcer_upper_95,
            share,
        )),
        Rule::MaxBpcer(share) => Some((
            "live",
            "a BPCER",
            c.bona_fide,
            c.chosen.bpcer_upper_95,
            share,
        )),
    };
    if let Some((class, rate, n, Some(bound), share)) = stated
        && bound > share
    {
        println!(
            "  {n} {class} stills vouch for {rate} of at most {:.1} % (95 %), not {:.1} %: label more {class} stills to claim less",
            100.0 * bound,
            100.0 * share
        );
    }
    std::fs::write(file, serde_json::to_vec_pretty(&point)?)
        .with_context(|| format!("cannot write {}", file.display()))?;
    eprintln!(
        "wrote {}: serve with LIVEGATE_OPERATING_POINT={}",
        file.display(),
        file.display()
    );
    Ok(())
}

pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let root = args
        .root
        .clone()
        .or_else(|| args.manifest.parent().map(|p| p.to_path_buf()))
        .unwrap_or_default();
    let manifest = eval::manifest::read(&args.manifest, &root)?;
    let mut items = manifest.items;
    if !args.only.is_empty() {
        items.retain(|i| args.only.iter().any(|p| i.file.starts_with(p.as_str())));
    }
    let passed_over: Vec<_> = manifest
        .passed_over
        .iter()
        .filter(|p| args.only.is_empty() || args.only.iter().any(|o| p.file.starts_with(o)))
        .collect();
    if !passed_over.is_empty() {
        eprintln!("{} manifest row(s) not evaluated:", passed_over.len());
        for p in passed_over.iter().take(10) {
            eprintln!("  line {} {:?}: {}", p.line, p.file, p.reason);
        }
        if passed_over.len() > 10 {
            eprintln!("  … and {} more", passed_over.len() - 10);
        }
    }
    let mut named: std::collections::HashMap<&str, &str> = Default::default();
    for spec in &args.species {
        let (group, species) = spec
            .split_once('=')
            .filter(|(g, n)| !g.is_empty() && !n.is_empty())
            .with_context(|| format!("--species {spec}: expected SUBSET_OR_SOURCE=SPECIES"))?;
        // Two answers for one group: the first would win without a word.
        if let Some(earlier) = named.insert(group, species) {
            anyhow::ensure!(
                earlier == species,
                "--species {group}: named both {earlier:?} and {species:?}; give one"
            );
        }
        anyhow::ensure!(
            items.iter().any(|i| i.subset == group || i.source == group),
            "--species {spec}: no subset or source {group:?} among the items (subsets: {})",
            names(items.iter().map(|i| i.subset.as_str()))
        );
        for item in items.iter_mut().filter(|i| {
            i.class == Some(eval::Class::Attack)
                && i.species.is_none()
                && (i.subset == group || i.source == group)
        }) {
            item.species = Some(species.to_string());
        }
    }
    let floors = args
        .floor
        .iter()
        .map(|f| parse_floor(f))
        .collect::<anyhow::Result<Vec<_>>>()?;
    anyhow::ensure!(!items.is_empty(), "the manifest selects no items");
    // Every setting that can be checked before the run is: a finished evaluation must not be
    // thrown away for a typo.
    check_before_run(&args, &items, &floors)?;
    // A wrong --root would otherwise be measured as a table of zeros.
    ensure_files_exist(&items, &root)?;
    let analyzer = livegate::load::analyzer()?;
    if analyzer.image_real_threshold() != liveness::policy::IMAGE_REAL_THRESHOLD {
        eprintln!(
            "judging at the operating point of LIVEGATE_OPERATING_POINT: {:.4} (policy {})",
            analyzer.image_real_threshold(),
            liveness::policy::IMAGE_REAL_THRESHOLD
        );
    }
    // Which weights judged goes into the report: a deployment's own layer (LIVEGATE_PAD_DIR)
    // and the shipped one give different figures on the same stills.
    let pad_weights = liveness::models::by_file(analyzer.models().pad_weights());
    let workers = args.workers.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(2)
    });
    eprintln!(
        "evaluating {} items with {workers} workers; PAD weights {}",
        items.len(),
        pad_weights
            .iter()
            .map(|(file, sha256)| format!("{file} {}", &sha256[..12.min(sha256.len())]))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let folds = match &args.loso_models {
        Some(dir) => fold_analyzers(&analyzer, dir, &items)?,
        None => std::collections::HashMap::new(),
    };
    let pick = |item: &eval::Item| folds.get(&item.source).unwrap_or(&analyzer);
    let outcomes = eval::runner::run(&pick, &items, workers, !args.quiet);
    let embedder = analyzer.models().embedder.clone();
    let report = eval::report::build(
        &outcomes,
        analyzer.image_real_threshold(),
        analyzer.facematch_max_distance(),
        |a, b| {
            embedder.distance(
                &vision::Embedding(a.to_vec()),
                &vision::Embedding(b.to_vec()),
            )
        },
    );
    print!("{}", eval::report::table(&report));
    // Items the analysis could not judge (no usable face, a file the product refused, a harness
    // error): named, not just counted, with --quiet too (it quiets the progress bar). The first
    // two are non-responses in the rates; a harness error is in no rate's count.
    let unjudged: Vec<&eval::runner::Outcome> = outcomes
        .iter()
        .filter(|o| o.non_response || o.error.is_some())
        .collect();
    if !unjudged.is_empty() {
        eprintln!("{} item(s) without a judgement:", unjudged.len());
        for o in unjudged.iter().take(50) {
            let why = (o.error.as_ref())
                .or(o.refused.as_ref())
                .map_or("no usable face", String::as_str);
            eprintln!("  {}: {why}", o.item.file);
        }
        if unjudged.len() > 50 {
            eprintln!("  … and {} more (report.json has all)", unjudged.len() - 50);
        }
    }
    if let Some(file) = &args.calibrate {
        let rule = match (args.max_apcer, args.max_bpcer) {
            (Some(share), _) => Rule::MaxApcer(share),
            (_, Some(share)) => Rule::MaxBpcer(share),
            (None, None) => Rule::LowestAcer,
        };
        write_operating_point(
            &outcomes,
            &args.manifest,
            file,
            analyzer.models().pad_weights(),
            rule,
        )?;
    }
    let loso_sources: Vec<String> = items
        .iter()
        .filter(|i| args.loso.contains(&i.subset))
        .map(|i| i.source.clone())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let loso = eval::loso::build(&outcomes, &loso_sources);
    match &loso {
        Some(l) => print!("{}", eval::loso::table(l)),
        None if !args.loso.is_empty() => {
            anyhow::bail!("--loso needs at least two sources with judged labelled items")
        }
        None => {}
    }
    // The file a deployment's operating point came from, so an archived report says which
    // threshold its rates belong to (`report.threshold` is the value).
    let operating_point = std::env::var_os("LIVEGATE_OPERATING_POINT")
        .map(|p| std::path::PathBuf::from(p).display().to_string());
    let json = serde_json::json!({ "pad_weights": pad_weights, "operating_point_file": operating_point, "report": report, "loso": loso, "items": outcomes.iter().map(|o| serde_json::json!({
        "file": o.item.file, "label": o.item.label, "score": o.score, "accepted": o.accepted,
        "non_response": o.non_response, "blinks": o.blinks, "latency_ms": o.latency_ms,
        "refused": o.refused, "error": o.error,
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
        let m = match f.subset.as_str() {
            "OVERALL" => Some(serde_json::to_value(&report.overall)?),
            "LOSO" => match &loso {
                Some(l) => {
                    let mut v = serde_json::to_value(&l.pooled)?;
                    v["max_source_acer"] = serde_json::json!(l.max_source_acer);
                    v["max_species_apcer"] =
                        serde_json::json!(l.species.worst.as_ref().map(|w| w.1));
                    Some(v)
                }
                None => None,
            },
            name => report
                .subsets
                .get(name)
                .map(serde_json::to_value)
                .transpose()?,
        };
        let Some(m) = m else {
            broken.push(format!("{}: no such subset", f.subset));
            continue;
        };
        // Names were checked before the run: a metric without a number here is undefined on
        // these items (NaN is written as null), e.g. an APCER of a subset without attacks.
        let v = m
            .pointer(&format!("/{}", f.metric.replace('.', "/")))
            .and_then(|v| v.as_f64());
        let Some(v) = v else {
            broken.push(format!(
                "{}:{}: undefined on these items (no attacks, no bona fide items, or none judged)",
                f.subset, f.metric
            ));
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

/// Refuses, before minutes of analysis, the settings the run would only trip over at its end:
/// an output folder or operating-point file that cannot be written, a `--loso` subset the
/// items do not have or one source only, too few stills to calibrate on, a floor on a subset
/// that is not there.
fn check_before_run(args: &EvalArgs, items: &[eval::Item], floors: &[Floor]) -> anyhow::Result<()> {
    let subsets: std::collections::BTreeSet<&str> =
        items.iter().map(|i| i.subset.as_str()).collect();
    for s in &args.loso {
        anyhow::ensure!(
            subsets.contains(s.as_str()),
            "--loso {s}: no such subset among the items (subsets: {})",
            names(subsets.iter().copied())
        );
    }
    if !args.loso.is_empty() {
        let sources: std::collections::BTreeSet<&str> = items
            .iter()
            .filter(|i| i.class.is_some() && args.loso.contains(&i.subset))
            .map(|i| i.source.as_str())
            .collect();
        anyhow::ensure!(
            sources.len() >= 2,
            "--loso needs at least two sources with labelled items; {} has {}",
            args.loso.join(", "),
            match sources.len() {
                0 => "none".to_string(),
                _ => format!("only {}", names(sources.iter().copied())),
            }
        );
    }
    if let Some(file) = &args.calibrate {
        anyhow::ensure!(
            !file.is_dir(),
            "--calibrate {}: a folder; name the file to write",
            file.display()
        );
        anyhow::ensure!(
            !crate::same_file::same_file(file, &args.manifest),
            "--calibrate {}: the manifest being read; name another file",
            file.display()
        );
        let folder = file
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        anyhow::ensure!(
            folder.is_dir(),
            "--calibrate {}: the folder {} does not exist",
            file.display(),
            folder.display()
        );
        let need = liveness::policy::OPERATING_POINT_MIN_PER_CLASS;
        let stills = |class| {
            items
                .iter()
                .filter(|i| i.kind == eval::Kind::Still && i.class == Some(class))
                .count()
        };
        let (bona, attacks) = (stills(eval::Class::BonaFide), stills(eval::Class::Attack));
        anyhow::ensure!(
            bona >= need && attacks >= need,
            "--calibrate needs at least {need} labelled stills of each class; the items have \
             {bona} bona fide and {attacks} attack stills"
        );
    }
    for f in floors {
        let known = match f.subset.as_str() {
            "OVERALL" => true,
            "LOSO" => !args.loso.is_empty(),
            name => subsets.contains(name),
        };
        anyhow::ensure!(
            known,
            "--floor {}:{}: no subset {:?} (OVERALL, {}{}){}",
            f.subset,
            f.metric,
            f.subset,
            if args.loso.is_empty() { "" } else { "LOSO, " },
            names(subsets.iter().copied()),
            if f.subset == "LOSO" {
                "; LOSO floors need --loso SUBSET"
            } else {
                ""
            }
        );
        let metrics = floor_metrics(f.subset == "LOSO");
        anyhow::ensure!(
            metrics.contains(&f.metric),
            "--floor {}:{}: no metric {:?}; the metrics are {}",
            f.subset,
            f.metric,
            f.metric,
            metrics.join(", ")
        );
    }
    // Last: a refused run leaves no empty folder behind.
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create the output folder {}", args.out.display()))?;
    Ok(())
}

/// The names a floor can hold to (dotted paths to the numbers of a subset's `report.json`
/// block, or of the pooled LOSO block), read off an empty report so that they cannot drift
/// from what the run writes.
fn floor_metrics(loso: bool) -> Vec<String> {
    fn leaves(prefix: &str, v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    let path = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    leaves(&path, v, out);
                }
            }
            // Empty here, numbers in a run: the optional intervals and latency percentiles,
            // and rates of nothing (NaN serialises as null).
            serde_json::Value::Null => {
                let parts: &[&str] = if prefix.ends_with("_ci") {
                    &["low", "high"]
                } else if prefix.ends_with("latency_ms") {
                    &["p50", "p95"]
                } else {
                    &[""]
                };
                for p in parts {
                    out.push(if p.is_empty() {
                        prefix.to_owned()
                    } else {
                        format!("{prefix}.{p}")
                    });
                }
            }
            serde_json::Value::Number(_) => out.push(prefix.to_owned()),
            _ => {}
        }
    }
    let mut block = serde_json::to_value(eval::report::pad_metrics(std::iter::empty()))
        .expect("metrics serialise");
    if loso {
        block["max_source_acer"] = serde_json::json!(0.0);
        block["max_species_apcer"] = serde_json::json!(0.0);
    }
    let mut out = Vec::new();
    leaves("", &block, &mut out);
    out.sort();
    out
}

/// Every listed file must be there before anything runs: a wrong `--root` (or none, when the
/// files are not beside the manifest) would otherwise pass for items without a face.
pub fn ensure_files_exist(items: &[eval::Item], root: &std::path::Path) -> anyhow::Result<()> {
    let missing: Vec<&eval::Item> = items.iter().filter(|i| !i.path.is_file()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = missing
        .iter()
        .take(5)
        .map(|i| format!("  {}", i.path.display()))
        .collect();
    let root = if root.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        root
    };
    anyhow::bail!(
        "{} of {} manifest files cannot be read, e.g.:\n{}\nis --root {} the folder the \
         manifest's paths are relative to? (without --root, it is the manifest's own folder)",
        missing.len(),
        items.len(),
        shown.join("\n"),
        root.display()
    )
}

/// Names for a message: sorted, deduplicated, comma-separated.
fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let set: std::collections::BTreeSet<&str> = it.collect();
    set.into_iter().collect::<Vec<_>>().join(", ")
}

/// One analyzer per source that has a fold model in `dir`: the same models with the Livegate
/// PAD model replaced by the one trained without that source.
fn fold_analyzers(
    base: &liveness::Analyzer,
    dir: &std::path::Path,
    items: &[eval::Item],
) -> anyhow::Result<std::collections::HashMap<String, liveness::Analyzer>> {
    let sources: std::collections::BTreeSet<&str> =
        items.iter().map(|i| i.source.as_str()).collect();
    // The process's one runtime (already opened by the base analyzer).
    let store = vision::ModelStore::open_default().context("cannot open the model store")?;
    let runtime = vision::Runtime::from_store(&store)?;
    let mut out = std::collections::HashMap::new();
    for source in sources {
        let path = dir.join(source);
        if !path.is_dir() {
            continue;
        }
        let fold = vision::pad::LivegatePad::from_dir(&runtime, &path)
            .with_context(|| format!("cannot load the fold model {}", path.display()))?;
        let models = base
            .models()
            .with_own_layer(fold)
            .context("the analyzer has no Livegate PAD model to replace")?;
        out.insert(source.to_string(), liveness::Analyzer::new(models));
    }
    anyhow::ensure!(
        !out.is_empty(),
        "no fold model in {} matches a source",
        dir.display()
    );
    eprintln!(
        "leave-one-source-out: {} fold models from {}",
        out.len(),
        dir.display()
    );
    Ok(out)
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
    let value: f64 = value
        .trim()
        .parse()
        .with_context(|| format!("bad number in floor {s:?}"))?;
    anyhow::ensure!(
        value.is_finite(),
        "floor {s:?}: the value must be a finite number"
    );
    Ok(Floor {
        subset: subset.to_string(),
        metric: metric.trim().to_string(),
        at_least,
        value,
    })
}
