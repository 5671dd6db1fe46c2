//! Turning archive file names into work: files are grouped by the stem before a role suffix.
//!
//! Liveness: `<stem>_image.<ext>` and/or `<stem>_video.<ext>`. Facematch: `<stem>_image1.<ext>`
//! and `<stem>_image2.<ext>`, both required. The role is matched case-insensitively (phones and
//! Windows tools upper-case extensions and sometimes names); the stem keeps its case. Every file
//! that becomes no part of an item is returned in `skipped` with the reason, so the output
//! archive can list it: nothing is dropped silently.
//!
//! A file's folders are part of its stem (`alice/selfie_image.jpg` is stem `alice/selfie`):
//! a customer who files each person's capture in a folder of its own reuses file names across
//! folders, and those are different people, never one item or a duplicate. One folder that
//! wraps the whole archive (what "compress folder" makes) is left out of every stem, so the
//! stems do not depend on what the folder was called.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What one stem asks for, naming the archive entries it reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Task {
    Liveness {
        image: Option<String>,
        video: Option<String>,
    },
    Facematch {
        image1: String,
        image2: String,
    },
}

impl Task {
    pub fn kind(&self) -> &'static str {
        match self {
            Task::Liveness { .. } => "liveness",
            Task::Facematch { .. } => "facematch",
        }
    }

    /// The entry names, in role order.
    pub fn files(&self) -> Vec<&str> {
        match self {
            Task::Liveness { image, video } => image
                .iter()
                .chain(video.iter())
                .map(String::as_str)
                .collect(),
            Task::Facematch { image1, image2 } => vec![image1, image2],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub stem: String,
    pub task: Task,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    pub name: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairing {
    /// Sorted by stem, so runs and archives are reproducible.
    pub items: Vec<Item>,
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    Image,
    Video,
    Image1,
    Image2,
}

/// Splits `wrap/dir/abc_image.JPG` into (`dir/abc`, Image), leaving out the archive's wrapping
/// folder `wrap`. `None` when the name follows no pattern.
fn parse(name: &str, wrapper: Option<&str>) -> Option<(String, Role)> {
    let mut parts: Vec<&str> = name
        .split(['/', '\\'])
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let base = parts.pop()?;
    if wrapper.is_some() && parts.first().copied() == wrapper {
        parts.remove(0);
    }
    let (body, ext) = base.rsplit_once('.')?;
    if ext.is_empty() {
        return None;
    }
    let (stem, role) = body.rsplit_once('_')?;
    if stem.is_empty() {
        return None;
    }
    let role = match role.to_ascii_lowercase().as_str() {
        "image" => Role::Image,
        "video" => Role::Video,
        "image1" => Role::Image1,
        "image2" => Role::Image2,
        _ => return None,
    };
    parts.push(stem);
    Some((parts.join("/"), role))
}

/// The one folder every file lies in, if there is one.
fn wrapping_folder<'a>(names: &[&'a str]) -> Option<&'a str> {
    let mut first = None;
    for name in names {
        let mut parts = name
            .split(['/', '\\'])
            .filter(|c| !c.is_empty() && *c != ".");
        let top = parts.next()?;
        // A file at the top level: nothing wraps the archive.
        parts.next()?;
        match first {
            None => first = Some(top),
            Some(f) if f == top => {}
            Some(_) => return None,
        }
    }
    first
}

/// Files a desktop adds behind the user's back; reported, but with a reason that says so.
fn is_os_metadata(name: &str) -> bool {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    name.starts_with("__MACOSX/")
        || base.starts_with("._")
        || base == ".DS_Store"
        || base.eq_ignore_ascii_case("Thumbs.db")
        || base.eq_ignore_ascii_case("desktop.ini")
}

pub fn pair<'a>(names: impl IntoIterator<Item = &'a str>) -> Pairing {
    let mut skipped = Vec::new();
    let (metadata, names): (Vec<&str>, Vec<&str>) =
        names.into_iter().partition(|n| is_os_metadata(n));
    for name in metadata {
        skipped.push(skip(name, "operating-system metadata, not an upload"));
    }
    let wrapper = wrapping_folder(&names);
    let mut by_stem: BTreeMap<String, BTreeMap<Role, &str>> = BTreeMap::new();
    for name in names {
        let Some((stem, role)) = parse(name, wrapper) else {
            skipped.push(skip(
                name,
                "name matches no pattern (<stem>_image.<ext>, <stem>_video.<ext>, \
                 <stem>_image1.<ext>, <stem>_image2.<ext>)",
            ));
            continue;
        };
        let roles = by_stem.entry(stem.clone()).or_default();
        if let Some(first) = roles.get(&role) {
            skipped.push(skip(
                name,
                &format!("duplicate: {first:?} already fills this role for stem {stem:?}"),
            ));
            continue;
        }
        roles.insert(role, name);
    }

    let mut items = Vec::new();
    // Stems name the results archive's entries (`json/<stem>.json`); two that differ only in
    // case would overwrite each other when it is unpacked on macOS or Windows.
    let mut folded: BTreeMap<String, String> = BTreeMap::new();
    for (stem, roles) in by_stem {
        if let Some(first) = folded.get(&stem.to_lowercase()) {
            for name in roles.values() {
                skipped.push(skip(
                    name,
                    &format!("stem {stem:?} differs from {first:?} only in case; give it a name of its own"),
                ));
            }
            continue;
        }
        folded.insert(stem.to_lowercase(), stem.clone());
        let image = roles.get(&Role::Image).map(|s| s.to_string());
        let video = roles.get(&Role::Video).map(|s| s.to_string());
        let image1 = roles.get(&Role::Image1);
        let image2 = roles.get(&Role::Image2);
        let liveness = image.is_some() || video.is_some();
        if liveness {
            for f in image1.iter().chain(image2.iter()) {
                skipped.push(skip(
                    f,
                    &format!("stem {stem:?} is already a liveness item (_image/_video); facematch files need their own stem"),
                ));
            }
            items.push(Item {
                stem,
                task: Task::Liveness { image, video },
            });
            continue;
        }
        match (image1, image2) {
            (Some(a), Some(b)) => items.push(Item {
                stem,
                task: Task::Facematch {
                    image1: a.to_string(),
                    image2: b.to_string(),
                },
            }),
            (Some(a), None) => {
                skipped.push(skip(a, &format!("no {stem}_image2.* to compare with")))
            }
            (None, Some(b)) => {
                skipped.push(skip(b, &format!("no {stem}_image1.* to compare with")))
            }
            (None, None) => {}
        }
    }
    skipped.sort_by(|a, b| a.name.cmp(&b.name));
    Pairing { items, skipped }
}

fn skip(name: &str, reason: &str) -> Skipped {
    Skipped {
        name: name.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems_that_differ_only_in_case_are_one_name() {
        let p = pair([
            "DUP_image.jpg",
            "dup_image.jpg",
            "dup_video.mp4",
            "other_image.jpg",
        ]);
        let stems: Vec<_> = p.items.iter().map(|i| i.stem.as_str()).collect();
        assert_eq!(stems, ["DUP", "other"]);
        let skipped: Vec<_> = p.skipped.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(skipped, ["dup_image.jpg", "dup_video.mp4"]);
        assert!(
            p.skipped[0].reason.contains("only in case"),
            "{:?}",
            p.skipped
        );
    }

    #[test]
    fn pairs_by_stem_and_reports_the_rest() {
        let p = pair([
            "alice_image.jpg",
            "alice_video.mp4",
            "bob_video.MP4",
            "carol_IMAGE.png",
            "x/dave_image1.jpg",
            "x/dave_image2.jpg",
            "eve_image1.jpg",
            "readme.txt",
            "__MACOSX/._alice_image.jpg",
            "frank_image.jpg",
            "sub/frank_image.png",
            "alice_image1.jpg",
            "noext_image",
        ]);
        let stems: Vec<_> = p.items.iter().map(|i| i.stem.as_str()).collect();
        assert_eq!(
            stems,
            ["alice", "bob", "carol", "frank", "sub/frank", "x/dave"]
        );
        assert_eq!(
            p.items[0].task,
            Task::Liveness {
                image: Some("alice_image.jpg".into()),
                video: Some("alice_video.mp4".into())
            }
        );
        assert_eq!(
            p.items[5].task,
            Task::Facematch {
                image1: "x/dave_image1.jpg".into(),
                image2: "x/dave_image2.jpg".into()
            }
        );
        let skipped: Vec<_> = p.skipped.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            skipped,
            [
                "__MACOSX/._alice_image.jpg",
                "alice_image1.jpg",
                "eve_image1.jpg",
                "noext_image",
                "readme.txt",
            ]
        );
        // Every input is either in an item or skipped.
        let used: usize = p.items.iter().map(|i| i.task.files().len()).sum();
        assert_eq!(used + p.skipped.len(), 13);
    }

    #[test]
    fn folders_keep_people_apart() {
        let p = pair([
            "alice/selfie_image.jpg",
            "alice/selfie_video.mp4",
            "bob/selfie_image.jpg",
            "bob\\selfie_video.mp4",
            "selfie_image.jpg",
            "./carol//x_image.jpg",
        ]);
        let stems: Vec<_> = p.items.iter().map(|i| i.stem.as_str()).collect();
        assert_eq!(stems, ["alice/selfie", "bob/selfie", "carol/x", "selfie"]);
        assert_eq!(
            p.items[1].task,
            Task::Liveness {
                image: Some("bob/selfie_image.jpg".into()),
                video: Some("bob\\selfie_video.mp4".into())
            }
        );
        assert!(p.skipped.is_empty(), "{:?}", p.skipped);
    }

    #[test]
    fn the_folder_that_wraps_the_archive_is_not_part_of_a_stem() {
        let p = pair([
            "captures/alice_image.jpg",
            "captures/team/bob_image.jpg",
            "__MACOSX/captures/._alice_image.jpg",
            "captures/.DS_Store",
        ]);
        let stems: Vec<_> = p.items.iter().map(|i| i.stem.as_str()).collect();
        assert_eq!(stems, ["alice", "team/bob"]);
        assert_eq!(p.skipped.len(), 2);
        // Two top folders: both are kept, or their people would meet in one stem.
        let p = pair(["a/x_image.jpg", "b/x_image.jpg"]);
        let stems: Vec<_> = p.items.iter().map(|i| i.stem.as_str()).collect();
        assert_eq!(stems, ["a/x", "b/x"]);
    }

    #[test]
    fn underscores_inside_the_stem_are_kept() {
        let p = pair(["a_b_c_image.jpg"]);
        assert_eq!(p.items[0].stem, "a_b_c");
        assert!(pair(["_image.jpg"]).items.is_empty());
    }
}
