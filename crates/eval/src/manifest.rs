//! The labelled manifest: a TSV with at least `file`, `identity`, `label` columns.

use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    BonaFide,
    Attack,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Still,
    Video,
}

#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub file: String,
    pub path: PathBuf,
    /// Top-level folder of `file`: the subset it is reported under.
    pub subset: String,
    /// The capture source, the unit of leave-one-source-out evaluation: the manifest's `group`
    /// column when it has one, else the second path component under a subset that collects
    /// several sources (`extra/<source>/…`, see [`MULTI_SOURCE_SUBSETS`]), else the subset.
    pub source: String,
    pub identity: String,
    pub label: String,
    /// `None` for labels that are neither bona fide nor attack (reported separately).
    pub class: Option<Class>,
    pub kind: Kind,
    /// An attack's presentation-attack instrument (PAI) species, ISO/IEC 30107-3's unit of
    /// APCER: see [`species_of`]. `None` for bona fide items and unnamed attacks.
    pub species: Option<String>,
}

/// A manifest row that is not evaluated, and why: said, never dropped silently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassedOver {
    /// 1-based, the header being line 1.
    pub line: usize,
    pub file: String,
    pub reason: &'static str,
}

/// The manifest's items, and the rows that are not.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    pub items: Vec<Item>,
    pub passed_over: Vec<PassedOver>,
}

#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("cannot read {0}: {1}")]
    Io(PathBuf, std::io::Error),
    #[error(
        "the manifest has no `{0}` column in its header (a manifest is tab-separated; its first line names the columns: file, identity, label)"
    )]
    MissingColumn(&'static str),
}

/// Subsets whose files sit in one folder per source (`extra/<source>/…`).
pub const MULTI_SOURCE_SUBSETS: [&str; 1] = ["extra"];

/// See [`Item::source`].
pub fn source_of(file: &str, group: Option<&str>) -> String {
    if let Some(g) = group.map(str::trim).filter(|g| !g.is_empty()) {
        return g.to_string();
    }
    let mut parts = file.split('/');
    let subset = parts.next().unwrap_or("");
    match parts.next() {
        Some(src) if MULTI_SOURCE_SUBSETS.contains(&subset) && parts.next().is_some() => {
            src.to_string()
        }
        _ => subset.to_string(),
    }
}

/// An attack's PAI species: the manifest's `species` column when it has one, else its `note`
/// when that is a single lower-case word (`replay_screen`, `print_or_replay_mixed`: how the
/// test data's `extra/` rows name their attack type), else unnamed.
pub fn species_of(species: Option<&str>, note: Option<&str>) -> Option<String> {
    if let Some(s) = species.map(str::trim).filter(|s| !s.is_empty()) {
        return Some(s.to_string());
    }
    note.map(str::trim)
        .filter(|n| {
            !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        })
        .map(str::to_string)
}

pub fn class_of(label: &str) -> Option<Class> {
    match label.trim().to_ascii_lowercase().as_str() {
        "live" | "bonafide" | "bona_fide" | "real" => Some(Class::BonaFide),
        "spoof" | "deepfake" | "synthetic" | "attack" | "fake" => Some(Class::Attack),
        _ => None,
    }
}

pub fn kind_of(file: &str) -> Option<Kind> {
    let ext = Path::new(file).extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "mp4" | "mov" | "m4v" | "webm" | "mkv" | "avi" | "3gp" => Some(Kind::Video),
        "jpg" | "jpeg" | "jfif" | "png" | "webp" | "bmp" | "tif" | "tiff" | "gif" | "heic"
        | "heif" | "avif" => Some(Kind::Still),
        _ => None,
    }
}

pub fn read(manifest: &Path, root: &Path) -> Result<Manifest, ManifestError> {
    let text = std::fs::read_to_string(manifest)
        .map_err(|e| ManifestError::Io(manifest.to_path_buf(), e))?;
    parse(&text, root)
}

pub fn parse(text: &str, root: &Path) -> Result<Manifest, ManifestError> {
    // Spreadsheets write a byte-order mark before the header; it is not part of `file`.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines();
    let header: Vec<&str> = lines
        .next()
        .unwrap_or("")
        .split('\t')
        .map(str::trim)
        .collect();
    let col = |name: &'static str| {
        header
            .iter()
            .position(|h| *h == name)
            .ok_or(ManifestError::MissingColumn(name))
    };
    let (fi, ii, li) = (col("file")?, col("identity")?, col("label")?);
    let gi = col("group").ok();
    let (si, ni) = (col("species").ok(), col("note").ok());
    let mut items = Vec::new();
    let mut passed_over = Vec::new();
    // Each file is judged once: a repeated row would count twice in every rate.
    let mut seen: std::collections::HashSet<String> = Default::default();
    for (n, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = line.split('\t').collect();
        let file = cols.get(fi).map_or("", |s| s.trim());
        let mut pass = |reason| {
            passed_over.push(PassedOver {
                line: n + 2,
                file: file.to_string(),
                reason,
            })
        };
        if file.is_empty() {
            pass("no file");
            continue;
        }
        // Relative to the root, and inside it: a manifest from elsewhere reads nothing else.
        let inside = Path::new(file).components().all(|c| {
            matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        });
        if !inside {
            pass("a path outside the manifest's root (absolute, or with ..)");
            continue;
        }
        if seen.contains(file) {
            pass("the same file as an earlier row: judged once, as that row says");
            continue;
        }
        // Annotations and other non-media rows are not analysed.
        let Some(kind) = kind_of(file) else {
            pass("not a still or video by its extension");
            continue;
        };
        let Some(label) = cols.get(li).map(|l| l.trim().to_string()) else {
            pass("fewer columns than the header: no label");
            continue;
        };
        if label.is_empty() {
            pass("no label");
            continue;
        }
        seen.insert(file.to_string());
        let class = class_of(&label);
        let field = |i: Option<usize>| i.and_then(|i| cols.get(i).copied());
        items.push(Item {
            file: file.to_string(),
            path: root.join(file),
            subset: file.split('/').next().unwrap_or("").to_string(),
            source: source_of(file, gi.and_then(|g| cols.get(g).copied())),
            identity: cols.get(ii).copied().unwrap_or("").trim().to_string(),
            class,
            label,
            kind,
            species: (class == Some(Class::Attack))
                .then(|| species_of(field(si), field(ni)))
                .flatten(),
        });
    }
    Ok(Manifest { items, passed_over })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_manifest_format() {
        let t = "file\tcategory\tidentity\tlabel\tsource\tnote\n\
                 faces/a.jpg\tfaces\tA\tlive\tx\ty\n\
                 spoof/b.mp4\tspoof\tB\tspoof\tx\ty\n\
                 negative/c.xml\tnegative\t\tannotation\tx\ty\n\
                 negative/d.png\tnegative\t\tnoface\tx\ty\n";
        let m = parse(t, Path::new("/r")).unwrap();
        let items = m.items;
        assert_eq!(items.len(), 3);
        assert_eq!(
            m.passed_over,
            [PassedOver {
                line: 4,
                file: "negative/c.xml".into(),
                reason: "not a still or video by its extension"
            }]
        );
        assert_eq!(items[0].class, Some(Class::BonaFide));
        assert_eq!(items[1].class, Some(Class::Attack));
        assert_eq!(items[1].kind, Kind::Video);
        assert_eq!(items[2].class, None);
        assert_eq!(items[0].subset, "faces");
        assert_eq!(items[0].source, "faces");
        assert_eq!(items[0].path, Path::new("/r/faces/a.jpg"));
    }

    #[test]
    fn sources_come_from_the_folder_under_extra_or_a_group_column() {
        assert_eq!(source_of("extra/a+b/live/x.jpg", None), "a+b");
        assert_eq!(source_of("extra/x.jpg", None), "extra");
        assert_eq!(source_of("nuaa_train/live/x.jpg", None), "nuaa_train");
        assert_eq!(source_of("nuaa_train/live/x.jpg", Some("lab 2")), "lab 2");
        let t = "file\tidentity\tlabel\tgroup\nx/a.jpg\tA\tlive\tphone-1\n";
        assert_eq!(parse(t, Path::new("/")).unwrap().items[0].source, "phone-1");
    }

    #[test]
    fn an_attacks_species_comes_from_its_column_or_a_one_word_note() {
        let t = "file\tidentity\tlabel\tnote\tspecies\n\
                 extra/s/a.jpg\tA\tspoof\treplay_screen\t\n\
                 extra/s/b.jpg\tA\tspoof\treplay_screen\tprint\n\
                 extra/s/c.jpg\tA\tspoof\tApache-2.0 (repo LICENSE); photos\t\n\
                 extra/s/d.jpg\tA\tlive\tnone\t\n";
        let items = parse(t, Path::new("/")).unwrap().items;
        let species: Vec<Option<&str>> = items.iter().map(|i| i.species.as_deref()).collect();
        assert_eq!(species, [Some("replay_screen"), Some("print"), None, None]);
    }

    #[test]
    fn rows_not_evaluated_are_said_with_the_reason() {
        let t = "file\tidentity\tlabel\n\
                 a/x.jfif\tA\tlive\n\
                 a/noext\tA\tlive\n\
                 a/short.jpg\n\
                 \tA\tlive\n\
                 a/empty.jpg\tA\t\n\
                 ../outside/secret.jpg\tA\tlive\n\
                 /etc/x.jpg\tA\tlive\n\
                 a/sub/../../../x.jpg\tA\tlive\n\
                 a/x.jfif\tA\tspoof\n";
        let m = parse(&format!("\u{feff}{t}"), Path::new("/")).unwrap();
        assert_eq!(m.items.len(), 1, "{:?}", m.items);
        assert_eq!(m.items[0].label, "live");
        assert_eq!(m.items[0].kind, Kind::Still);
        let why: Vec<(usize, &str)> = m.passed_over.iter().map(|p| (p.line, p.reason)).collect();
        assert_eq!(
            why,
            [
                (3, "not a still or video by its extension"),
                (4, "fewer columns than the header: no label"),
                (5, "no file"),
                (6, "no label"),
                (
                    7,
                    "a path outside the manifest's root (absolute, or with ..)"
                ),
                (
                    8,
                    "a path outside the manifest's root (absolute, or with ..)"
                ),
                (
                    9,
                    "a path outside the manifest's root (absolute, or with ..)"
                ),
                (
                    10,
                    "the same file as an earlier row: judged once, as that row says"
                ),
            ]
        );
    }

    #[test]
    fn a_missing_column_is_named() {
        let e = parse("file\tlabel\n", Path::new("/")).unwrap_err();
        assert!(e.to_string().contains("identity"));
    }
}
