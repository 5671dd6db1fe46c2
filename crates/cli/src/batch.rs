//! `livegate batch in.zip -o out.zip`: the Playground's Bulk mode without a server.
//!
//! Same intake limits, pairing, runner and archive as `POST /v1/batches` (the `jobs` crate),
//! so an archive made here and one downloaded from a server agree row for row.

use anyhow::Context;
use clap::builder::TypedValueParser;
use indicatif::{ProgressBar, ProgressStyle};
use jobs::{JobsConfig, Limits};
use liveness::{Analyse, AnalysisOptions};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(clap::Args, Debug)]
pub struct BatchArgs {
    /// Input archive: `<stem>_image.*` / `<stem>_video.*` (liveness), `<stem>_image1.*` /
    /// `<stem>_image2.*` (facematch); a file's folders are part of its stem.
    pub input: PathBuf,
    /// Output archive (results.csv, json/<stem>.json, summary.json).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Items analysed at once (1 to 256).
    #[arg(long, default_value_t = 1, value_parser = crate::parallel::at_most_256())]
    pub jobs: usize,
    /// `True` = multi-frame video analysis; `False` = legacy (still PAD + blink).
    #[arg(long)]
    pub enhanced_detection: Option<String>,
    /// Video frames compared to the still.
    #[arg(long)]
    pub facematch_frames: Option<String>,
    /// Fraction of tested frames that must match.
    #[arg(long)]
    pub facematch_threshold: Option<String>,
    /// Analyse every Nth frame.
    #[arg(long)]
    pub frame_sampling_rate: Option<String>,
    /// Cap on frames analysed.
    #[arg(long)]
    pub max_frames_to_analyze: Option<String>,
    /// Add the evidence (`details`) to every json/<stem>.json.
    #[arg(long)]
    pub details: bool,
    /// Entries accepted in the input archive.
    #[arg(long, default_value_t = Limits::default().max_entries,
          value_parser = clap::value_parser!(u32).range(1..).map(|n| n as usize))]
    pub max_entries: usize,
    /// Largest entry, uncompressed, in MiB.
    #[arg(long, default_value_t = Limits::default().max_entry_bytes >> 20,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_entry_mb: u64,
    /// Whole archive, uncompressed, in MiB.
    #[arg(long, default_value_t = Limits::default().max_total_bytes >> 20,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_total_mb: u64,
}

impl BatchArgs {
    /// The tuning fields, validated by the same code as the HTTP form fields.
    fn settings(&self) -> anyhow::Result<AnalysisOptions> {
        let mut fields: HashMap<&str, &str> = HashMap::new();
        for (name, value) in [
            ("enhanced_detection", &self.enhanced_detection),
            ("facematch_frames", &self.facematch_frames),
            ("facematch_threshold", &self.facematch_threshold),
            ("frame_sampling_rate", &self.frame_sampling_rate),
            ("max_frames_to_analyze", &self.max_frames_to_analyze),
        ] {
            if let Some(v) = value {
                fields.insert(name, v.as_str());
            }
        }
        let mut opts =
            AnalysisOptions::from_fields(|k| fields.get(k).copied()).map_err(|errs| {
                let list: Vec<String> = errs
                    .iter()
                    .map(|e| format!("--{}: {}", e.field.replace('_', "-"), e.message))
                    .collect();
                anyhow::anyhow!(list.join("\n"))
            })?;
        opts.details = self.details;
        Ok(opts)
    }
}

pub fn run(args: BatchArgs, analyzer: Arc<dyn Analyse>) -> anyhow::Result<()> {
    let settings = args.settings()?;
    anyhow::ensure!(
        args.input.exists(),
        "{} does not exist",
        args.input.display()
    );
    anyhow::ensure!(
        args.input.is_file(),
        "{} is not a file",
        args.input.display()
    );
    // The archive is written beside the output under a temporary name and moved into place
    // only when it is whole: a failed run leaves an existing output as it was, and the input
    // is never the file being written. Creating it also refuses an output that cannot be
    // written before minutes of analysis, not after.
    anyhow::ensure!(
        !crate::same_file::same_file(&args.input, &args.output),
        "the output {} is the input archive: name another file",
        args.output.display()
    );
    anyhow::ensure!(
        !args.output.is_dir(),
        "the output {} is a directory: name a file",
        args.output.display()
    );
    // An earlier results archive is replaced (when the run succeeds); any other file is not
    // this command's to replace.
    anyhow::ensure!(
        !args.output.exists() || is_zip(&args.output),
        "the output {} exists and is not a ZIP archive: remove it or name another file",
        args.output.display()
    );
    let folder = match args.output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    let partial = tempfile::Builder::new()
        .prefix(".livegate-batch-")
        .suffix(".zip.part")
        .tempfile_in(folder)
        .with_context(|| format!("cannot write the output {}", args.output.display()))?;
    let scratch = tempfile::Builder::new()
        .prefix("livegate-batch-")
        .tempdir()
        .context("creating a scratch directory")?;
    remove_on_interrupt(vec![scratch.path().to_owned(), partial.path().to_owned()])?;
    let mut config = JobsConfig::new(scratch.path());
    config.workers = args.jobs;
    config.limits = Limits {
        max_entries: args.max_entries,
        max_entry_bytes: args.max_entry_mb << 20,
        max_total_bytes: args.max_total_mb << 20,
        ..Limits::default()
    };

    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} stems  {msg}  eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message("checking the archive");
    let t0 = std::time::Instant::now();
    let job = jobs::run_offline(
        &args.input,
        partial.path(),
        settings,
        config,
        analyzer,
        &|job| {
            bar.set_length(job.total);
            bar.set_position(job.done);
            bar.set_message(format!("{} ok · {} error", job.ok, job.error));
        },
    )
    .map_err(|e| {
        // The server's limits are its operator's; here they are flags, so say which.
        let flag = match &e {
            jobs::OfflineError::Submit(jobs::SubmitError::Intake(i)) => match i {
                jobs::IntakeError::TooManyEntries { .. } => Some("--max-entries"),
                jobs::IntakeError::EntryTooLarge { .. } => Some("--max-entry-mb"),
                jobs::IntakeError::TotalTooLarge { .. } => Some("--max-total-mb"),
                _ => None,
            },
            _ => None,
        };
        let e = anyhow::Error::new(e);
        match flag {
            Some(flag) => e.context(format!("raise {flag} to accept it")),
            None => e,
        }
    })
    .with_context(|| format!("batch {}", args.input.display()))?;
    partial
        .persist(&args.output)
        .with_context(|| format!("cannot write the output {}", args.output.display()))?;
    bar.finish_and_clear();
    eprintln!(
        "{} stems: {} ok, {} error; {} file(s) skipped; {:.1} s → {}",
        job.total,
        job.ok,
        job.error,
        job.skipped.len(),
        t0.elapsed().as_secs_f64(),
        args.output.display()
    );
    for s in &job.skipped {
        eprintln!("  skipped {}: {}", s.name, s.reason);
    }
    anyhow::ensure!(
        job.total > 0,
        "no stems in {}: name files <stem>_image.<ext> / <stem>_video.<ext> (liveness) or \
         <stem>_image1.<ext> / <stem>_image2.<ext> (facematch)",
        args.input.display()
    );
    Ok(())
}

/// Whether the file starts as a ZIP archive does (`PK\x03\x04`, or `PK\x05\x06` when empty).
fn is_zip(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok_and(|()| matches!(&head, b"PK\x03\x04" | b"PK\x05\x06"))
}

/// The scratch store holds a copy of every face in the archive and the partial output its
/// verdicts: a run stopped by Ctrl-C, `kill` or a closed terminal removes both before it exits
/// (only an uncatchable SIGKILL leaves them, named `livegate-batch-*` in the temporary folder).
fn remove_on_interrupt(paths: Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    ctrlc::set_handler(move || {
        for p in &paths {
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(p)
            } else {
                std::fs::remove_file(p)
            };
        }
        eprintln!("\ninterrupted: the scratch store and the partial output were removed");
        // 128 + SIGINT, as a shell reports a run stopped by Ctrl-C.
        std::process::exit(130);
    })
    .context("installing the interrupt handler")
}
