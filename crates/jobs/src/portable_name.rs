//! Where each item's response goes in the results archive: `json/<stem>.json`, with the stem's
//! folders as folders, made into names every common unzip can create. An upload's names come
//! from wherever the client's files were made; the results are unpacked on a desktop, where
//! Windows refuses `<>:"|?*`, device names (`con`, `lpt1`, …) and names ending in a dot or a
//! space, and most file systems refuse a name over 255 bytes. A name changed here still appears
//! unchanged in `results.csv`'s `stem` column, beside the `json` column naming its file.

use std::collections::HashSet;

/// Longest folder or file name kept, in bytes, leaving room for `.json` and a `~N` suffix
/// under the common 255-byte limit.
const MAX_NAME_BYTES: usize = 200;

/// The archive path of each stem's response, in order: portable, and distinct even where two
/// stems become the same name (case-insensitively, as on macOS and Windows).
pub fn json_paths(stems: &[&str]) -> Vec<String> {
    let mut taken: HashSet<String> = HashSet::new();
    stems
        .iter()
        .map(|stem| {
            let base = stem.split('/').map(portable).collect::<Vec<_>>().join("/");
            let mut path = format!("json/{base}.json");
            let mut n = 2;
            while !taken.insert(path.to_lowercase()) {
                path = format!("json/{base}~{n}.json");
                n += 1;
            }
            path
        })
        .collect()
}

/// One folder or file name, made portable.
fn portable(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if matches!(c, '<' | '>' | ':' | '"' | '|' | '?' | '*' | '\\') || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    if out.len() > MAX_NAME_BYTES {
        let mut end = MAX_NAME_BYTES;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    if out.ends_with(['.', ' ']) {
        out.push('_');
    }
    let device = out
        .split('.')
        .next()
        .unwrap_or("")
        .trim_end()
        .to_ascii_uppercase();
    let reserved = matches!(device.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (device.len() == 4
            && (device.starts_with("COM") || device.starts_with("LPT"))
            && device.as_bytes()[3].is_ascii_digit());
    if reserved || out.is_empty() {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_stems_keep_their_names_and_folders() {
        assert_eq!(
            json_paths(&["alice", "team/bob", "ünïcode café"]),
            [
                "json/alice.json",
                "json/team/bob.json",
                "json/ünïcode café.json"
            ]
        );
    }

    #[test]
    fn names_windows_or_a_file_system_would_refuse_are_changed() {
        let long = "M".repeat(300);
        let paths = json_paths(&["b*c?|<>", "con", "LPT1.x", "dots.", "sp ace ", &long, "com"]);
        assert_eq!(paths[0], "json/b_c____.json");
        assert_eq!(paths[1], "json/_con.json");
        assert_eq!(paths[2], "json/_LPT1.x.json");
        assert_eq!(paths[3], "json/dots._.json");
        assert_eq!(paths[4], "json/sp ace _.json");
        assert_eq!(paths[5], format!("json/{}.json", "M".repeat(200)));
        assert_eq!(paths[6], "json/com.json");
        let multibyte = "é".repeat(150);
        let p = &json_paths(&[&multibyte])[0];
        assert!(p.len() <= "json/".len() + 200 + ".json".len(), "{p}");
    }

    #[test]
    fn stems_that_become_one_name_get_distinct_files() {
        assert_eq!(
            json_paths(&["a?", "a*", "A_"]),
            ["json/a_.json", "json/a_~2.json", "json/A_~3.json"]
        );
    }
}
