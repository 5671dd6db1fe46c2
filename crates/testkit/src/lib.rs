//! Where the labelled test data is, for every crate's tests and benchmarks.
//!
//! The data (`../shared/testdata` beside the checkout, or `LIVEGATE_TESTDATA`) is never part of
//! the repository. A user's fresh clone has none: tests then say loudly that they skipped. Under
//! CI (`CI=true`) a missing folder is a failure, so a broken set-up cannot pass by skipping.

pub mod http;
pub mod multipart;
pub mod postgres;
pub mod procfs;
pub mod stills;

use std::path::PathBuf;

/// `LIVEGATE_TESTDATA`, else `<workspace>/../shared/testdata`, if it is a folder.
pub fn location() -> PathBuf {
    std::env::var_os("LIVEGATE_TESTDATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
        })
}

/// For tests: the folder, or `None` after a loud message; a panic under `CI=true`.
pub fn testdata() -> Option<PathBuf> {
    let dir = location();
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("testdata missing at {} (CI=true)", dir.display());
    }
    eprintln!(
        "\n!!!!!!!! SKIPPED: testdata missing at {} (set LIVEGATE_TESTDATA) !!!!!!!!\n",
        dir.display()
    );
    None
}

/// For benchmarks: the folder if present (a bench without data just has nothing to measure).
pub fn for_bench() -> Option<PathBuf> {
    let dir = location();
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: testdata missing at {} (set LIVEGATE_TESTDATA)",
            dir.display()
        );
        None
    }
}

/// A ZIP built in memory from (name, bytes) pairs, as a Bulk-mode client would upload it.
pub fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        w.start_file(*name, opts).expect("zip entry");
        w.write_all(bytes).expect("zip write");
    }
    w.finish().expect("zip finish").into_inner()
}

/// The cell of `results.csv` (an output archive's) in `column` of the row of `stem`. The cells
/// read here hold no commas, so a plain split serves.
pub fn csv_cell(csv: &str, stem: &str, column: &str) -> String {
    let header: Vec<&str> = csv.lines().next().expect("a header").split(',').collect();
    let col = header
        .iter()
        .position(|c| *c == column)
        .unwrap_or_else(|| panic!("no column {column} in {csv}"));
    let row = csv
        .lines()
        .find(|l| l.starts_with(&format!("{stem},")))
        .unwrap_or_else(|| panic!("no row {stem} in {csv}"));
    row.split(',').nth(col).unwrap_or_default().to_owned()
}

/// Every entry of a ZIP of text files (an output archive), by name.
pub fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, String> {
    use std::io::Read;
    let mut a = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("a ZIP archive");
    let mut out = std::collections::BTreeMap::new();
    for i in 0..a.len() {
        let mut f = a.by_index(i).expect("zip entry");
        let mut s = String::new();
        f.read_to_string(&mut s).expect("a text entry");
        out.insert(f.name().expect("entry name").to_string(), s);
    }
    out
}

/// Every file below `dir`, at any depth, sorted.
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}
