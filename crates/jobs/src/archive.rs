//! The output archive of a batch, as the contract defines it:
//! `results.csv` (one row per stem, plus one `skipped` row per file that matched no pattern),
//! `json/<stem>.json` (the full response or error body) and `summary.json`.

use crate::store::{ItemState, JobRecord};
use liveness::models::PadWeights;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{Seek, Write};
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

/// Columns of `results.csv`. Liveness and facematch rows share one table; a column that does
/// not apply to a row's kind is left empty.
pub const CSV_COLUMNS: [&str; 22] = [
    "stem",
    "kind",
    "status",
    "files",
    "result",
    "confidence",
    "overall_result",
    "overall_confidence",
    "facematch_result",
    "facematch_confidence",
    "blink_detection",
    "image_result",
    "image_confidence",
    "video_frames_analyzed",
    "confidence_score",
    "elapsed_ms",
    "error",
    // Why a liveness verdict is fake regardless of any score (`no_face`, …), when a rule
    // decided it; the API's `X-Livegate-Reason`.
    "reason",
    // `true` when the still scored within the review margin of its threshold
    // (`details.review`): the verdicts worth a person's look.
    "near_threshold",
    // The PAD graphs that judged the verdict, `file:sha256` separated by spaces: the shipped
    // model or a deployment's own layer, as the replica that ran the row had it loaded.
    "pad_weights",
    // The still threshold the verdict applied, as that replica had it.
    "image_real_threshold",
    // The row's response in this archive: `json/<stem>.json`, unless the stem had to be made
    // into a name every unzip can create (`portable_name`).
    "json",
];

pub fn write_archive<W: Write + Seek>(
    job: &JobRecord,
    items: &[ItemState],
    out: W,
) -> zip::result::ZipResult<W> {
    let mut zip = ZipWriter::new(out);
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o644);

    zip.start_file("results.csv", opts)?;
    zip.write_all(results_csv(items, job).as_bytes())?;

    for (item, path) in items.iter().zip(json_paths_of(items)) {
        if let Some(o) = &item.outcome {
            zip.start_file(path, opts)?;
            let pretty = serde_json::to_vec_pretty(&o.body).unwrap_or_default();
            zip.write_all(&pretty)?;
        }
    }

    zip.start_file("summary.json", opts)?;
    let pretty = serde_json::to_vec_pretty(&summary(job, items)).unwrap_or_default();
    zip.write_all(&pretty)?;
    zip.finish()
}

/// Each item's response path (`json/alice/selfie.json` for stem `alice/selfie`); intake
/// refused names with `..` or a root, and pairing joined the folders with `/`.
fn json_paths_of(items: &[ItemState]) -> Vec<String> {
    let stems: Vec<&str> = items.iter().map(|i| i.stem.as_str()).collect();
    crate::portable_name::json_paths(&stems)
}

pub fn results_csv(items: &[ItemState], job: &JobRecord) -> String {
    let mut out = String::new();
    push_row(&mut out, CSV_COLUMNS.iter().map(|s| s.to_string()));
    for (item, path) in items.iter().zip(json_paths_of(items)) {
        let files = item.task.files().join(" ");
        let mut row = vec![String::new(); CSV_COLUMNS.len()];
        row[0] = item.stem.clone();
        row[1] = item.task.kind().to_owned();
        row[3] = files;
        match &item.outcome {
            None => {
                row[2] = if job.status.is_finished() {
                    "not_run"
                } else {
                    "pending"
                }
                .into()
            }
            Some(o) => {
                row[2] = if o.ok { "ok" } else { "error" }.into();
                row[15] = o.elapsed_ms.to_string();
                row[21] = path;
                if o.ok {
                    for (col, key) in [
                        (4, "result"),
                        (5, "confidence"),
                        (6, "overall_result"),
                        (7, "overall_confidence"),
                        (8, "facematch_result"),
                        (9, "facematch_confidence"),
                        (10, "blink_detection"),
                        (11, "image_result"),
                        (12, "image_confidence"),
                        (13, "video_frames_analyzed"),
                        (14, "confidence_score"),
                    ] {
                        row[col] = scalar(o.body.get(key));
                    }
                    row[17] = o.reason.clone().unwrap_or_default();
                    if item.task.kind() == "liveness" {
                        row[18] = o.near_threshold.to_string();
                        row[19] = o
                            .pad_weights
                            .iter()
                            .map(|(file, sha256)| format!("{file}:{sha256}"))
                            .collect::<Vec<_>>()
                            .join(" ");
                        row[20] = o
                            .image_real_threshold
                            .map(|t| threshold_text(t).to_string())
                            .unwrap_or_default();
                    }
                } else {
                    row[16] = error_text(&o.body);
                }
            }
        }
        push_row(&mut out, row);
    }
    for s in &job.skipped {
        let mut row = vec![String::new(); CSV_COLUMNS.len()];
        row[2] = "skipped".into();
        row[3] = s.name.clone();
        row[16] = s.reason.clone();
        push_row(&mut out, row);
    }
    out
}

/// The envelope's summary plus every field message, so the CSV alone says what was wrong.
fn error_text(body: &Value) -> String {
    let mut parts = vec![scalar(body.get("message"))];
    if let Some(Value::Object(locs)) = body.get("detail") {
        for fields in locs.values() {
            if let Value::Object(fields) = fields {
                for (f, msgs) in fields {
                    if let Value::Array(msgs) = msgs {
                        for m in msgs {
                            let m = scalar(Some(m));
                            if !parts[0].contains(&m) {
                                parts.push(format!("{f}: {m}"));
                            }
                        }
                    }
                }
            }
        }
    }
    parts.join("; ")
}

fn scalar(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// RFC 4180: quote a field holding a comma, quote or line break; double the quotes. A leading
/// `=`, `+`, `-`, `@`, tab or carriage return (OWASP's list for CSV injection) is prefixed with
/// `'` so a spreadsheet shows a file name rather than evaluating it (file names are
/// client-controlled).
fn push_row(out: &mut String, fields: impl IntoIterator<Item = String>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let f = if f.starts_with(['=', '+', '@', '\t', '\r'])
            || (f.starts_with('-') && f.parse::<f64>().is_err())
        {
            format!("'{f}")
        } else {
            f
        };
        if f.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&f);
        }
    }
    out.push_str("\r\n");
}

pub fn summary(job: &JobRecord, items: &[ItemState]) -> Value {
    let times: Vec<u64> = items
        .iter()
        .filter_map(|i| i.outcome.as_ref().map(|o| o.elapsed_ms))
        .collect();
    let analysis_total: u64 = times.iter().sum();
    let count = |kind: &str| items.iter().filter(|i| i.task.kind() == kind).count();
    json!({
        "job_id": job.id,
        "zip_name": job.zip_name,
        "status": job.status,
        "counts": {
            "stems": items.len(),
            "liveness": count("liveness"),
            "facematch": count("facematch"),
            "ok": job.ok,
            "error": job.error,
            "not_run": job.total.saturating_sub(job.done),
            "skipped_files": job.skipped.len(),
            // Liveness verdicts whose still scored near its threshold: the review queue.
            "near_threshold": items
                .iter()
                .filter(|i| i.outcome.as_ref().is_some_and(|o| o.ok && o.near_threshold))
                .count(),
        },
        "skipped": job.skipped,
        "settings": crate::exact_json(&job.settings).unwrap_or_default(),
        "pad_weights": judged_by(items),
        "timings": {
            "created_unix_ms": job.created_unix_ms,
            "started_unix_ms": job.started_unix_ms,
            "finished_unix_ms": job.finished_unix_ms,
            "wall_ms": job.finished_unix_ms.map(|f| f.saturating_sub(job.started_unix_ms.unwrap_or(job.created_unix_ms))),
            "analysis_ms_total": analysis_total,
            "analysis_ms_mean": if times.is_empty() { 0 } else { analysis_total / times.len() as u64 },
            "analysis_ms_max": times.iter().max().copied().unwrap_or(0),
        },
        "generator": concat!("livegate ", env!("CARGO_PKG_VERSION")),
    })
}

/// One set of PAD graphs (file name → SHA-256) with the still threshold applied, and how many
/// of a batch's liveness verdicts it judged.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JudgedBy {
    pub weights: BTreeMap<String, String>,
    /// `None` for verdicts stored before the threshold was recorded.
    pub image_real_threshold: Option<f64>,
    pub verdicts: u64,
}

/// Each distinct (PAD graphs, still threshold) that judged the batch's liveness verdicts, in
/// the order first met. One entry is the norm; two mean replicas with different weights or
/// operating points shared the batch (a rolling change of the model, of `LIVEGATE_PAD_DIR` or
/// of `LIVEGATE_OPERATING_POINT`, or one misconfigured replica), and its rows say which judged
/// each.
pub fn judged_by(items: &[ItemState]) -> Vec<JudgedBy> {
    let mut sets: Vec<(&PadWeights, Option<f64>, u64)> = Vec::new();
    for o in items.iter().filter_map(|i| i.outcome.as_ref()) {
        if !o.ok || o.pad_weights.is_empty() {
            continue;
        }
        let threshold = o.image_real_threshold.map(threshold_text);
        match sets
            .iter_mut()
            .find(|(w, t, _)| **w == o.pad_weights && *t == threshold)
        {
            Some((_, _, n)) => *n += 1,
            None => sets.push((&o.pad_weights, threshold, 1)),
        }
    }
    sets.into_iter()
        .map(|(weights, image_real_threshold, verdicts)| JudgedBy {
            weights: weights.iter().cloned().collect(),
            image_real_threshold,
            verdicts,
        })
        .collect()
}

/// A threshold as `/readyz` shows it (six decimals), so that the two compare equal.
fn threshold_text(t: f32) -> f64 {
    (f64::from(t) * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::push_row;

    #[test]
    fn csv_quotes_and_defuses() {
        let mut s = String::new();
        push_row(
            &mut s,
            ["a,b", "say \"hi\"", "=cmd()", "-0.5", "plain"].map(String::from),
        );
        assert_eq!(s, "\"a,b\",\"say \"\"hi\"\"\",'=cmd(),-0.5,plain\r\n");
        let mut s = String::new();
        push_row(&mut s, ["\t=cmd()", "@sum"].map(String::from));
        assert_eq!(s, "'\t=cmd(),'@sum\r\n");
    }
}
