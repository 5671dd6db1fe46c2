//! The contract's tuning fields, their defaults and their validation.
//!
//! The HTTP layer receives every field as a string; [`AnalysisOptions::from_fields`] parses all
//! of them and reports every bad one at once, so a client fixes its request in one round trip.

use serde::{Deserialize, Serialize};

/// How the `image` part is transported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum ImageType {
    #[default]
    File,
    Base64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisOptions {
    pub enhanced_detection: bool,
    pub facematch_frames: u32,
    pub facematch_threshold: f32,
    pub frame_sampling_rate: u32,
    pub max_frames_to_analyze: u32,
    pub image_type: ImageType,
    pub details: bool,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        Self {
            enhanced_detection: true,
            facematch_frames: 3,
            facematch_threshold: 0.6,
            frame_sampling_rate: 15,
            max_frames_to_analyze: 20,
            image_type: ImageType::File,
            details: false,
        }
    }
}

/// One tuning field that did not parse or is out of range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionError {
    pub field: &'static str,
    pub message: String,
}

/// Upper bounds that keep one request from asking for unbounded work. The contract only says
/// "≥ 1"; these caps are ours and are documented in the OpenAPI descriptions.
pub const MAX_FACEMATCH_FRAMES: u32 = 50;
pub const MAX_SAMPLING_RATE: u32 = 1_000;
pub const MAX_FRAMES_TO_ANALYZE: u32 = 300;

impl AnalysisOptions {
    /// The names of every tuning field, in contract order.
    pub const FIELDS: [&'static str; 7] = [
        "enhanced_detection",
        "facematch_frames",
        "facematch_threshold",
        "frame_sampling_rate",
        "max_frames_to_analyze",
        "image_type",
        "details",
    ];

    /// The integer fields a client set above their caps, as `field=cap`: served at the cap.
    pub fn capped<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Vec<String> {
        [
            ("facematch_frames", MAX_FACEMATCH_FRAMES),
            ("frame_sampling_rate", MAX_SAMPLING_RATE),
            ("max_frames_to_analyze", MAX_FRAMES_TO_ANALYZE),
        ]
        .into_iter()
        .filter(|(field, max)| {
            get(field)
                .and_then(whole_number)
                .is_some_and(|n| n > i128::from(*max))
        })
        .map(|(field, max)| format!("{field}={max}"))
        .collect()
    }

    /// Parses the contract's string fields; `get` returns the raw value of a field if the
    /// client sent it. Missing fields take their defaults.
    pub fn from_fields<'a>(
        get: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Self, Vec<OptionError>> {
        let mut o = Self::default();
        let mut errors = Vec::new();
        let mut bad =
            |field: &'static str, message: String| errors.push(OptionError { field, message });

        if let Some(v) = get("enhanced_detection") {
            match parse_bool(v) {
                Some(b) => o.enhanced_detection = b,
                None => bad("enhanced_detection", bool_message(v)),
            }
        }
        if let Some(v) = get("details") {
            match parse_bool(v) {
                Some(b) => o.details = b,
                None => bad("details", bool_message(v)),
            }
        }
        for (field, slot, max) in [
            (
                "facematch_frames",
                &mut o.facematch_frames,
                MAX_FACEMATCH_FRAMES,
            ),
            (
                "frame_sampling_rate",
                &mut o.frame_sampling_rate,
                MAX_SAMPLING_RATE,
            ),
            (
                "max_frames_to_analyze",
                &mut o.max_frames_to_analyze,
                MAX_FRAMES_TO_ANALYZE,
            ),
        ] {
            if let Some(v) = get(field) {
                // Above the cap is a larger amount of work than one request may ask, not a
                // wrong value: the contract bounds these only below, so a vendor client's 500
                // is served at the cap (and the answer says so, [`Self::capped`]).
                match whole_number(v) {
                    Some(n) if n >= 1 => *slot = n.min(i128::from(max)) as u32,
                    Some(n) => bad(field, format!("must be an integer ≥ 1, got {n}")),
                    None => bad(field, format!("must be an integer, got {v:?}")),
                }
            }
        }
        if let Some(v) = get("facematch_threshold") {
            match v.trim().parse::<f32>() {
                Ok(x) if (0.0..=1.0).contains(&x) => o.facematch_threshold = x,
                Ok(x) => bad(
                    "facematch_threshold",
                    format!("must be a number between 0 and 1, got {x}"),
                ),
                Err(_) => bad(
                    "facematch_threshold",
                    format!("must be a number, got {v:?}"),
                ),
            }
        }
        if let Some(v) = get("image_type") {
            match v.trim() {
                "file" => o.image_type = ImageType::File,
                "base64" => o.image_type = ImageType::Base64,
                other => bad(
                    "image_type",
                    format!("must be \"file\" or \"base64\", got {other:?}"),
                ),
            }
        }
        if errors.is_empty() {
            Ok(o)
        } else {
            Err(errors)
        }
    }
}

/// An integer field's value; one too long for any integer type is read as the largest, so
/// that `max_frames_to_analyze=99999999999999999999999` is capped like 500 is.
fn whole_number(v: &str) -> Option<i128> {
    let v = v.trim();
    let digits = v.strip_prefix(['+', '-']).unwrap_or(v);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(v.parse::<i128>().unwrap_or(if v.starts_with('-') {
        i128::MIN
    } else {
        i128::MAX
    }))
}

/// The contract's string booleans: `True/False/true/false/1/0`.
pub fn parse_bool(v: &str) -> Option<bool> {
    match v.trim() {
        "True" | "true" | "1" => Some(true),
        "False" | "false" | "0" => Some(false),
        _ => None,
    }
}

fn bool_message(v: &str) -> String {
    format!("must be one of True, False, true, false, 1, 0; got {v:?}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &'static str)]) -> Result<AnalysisOptions, Vec<OptionError>> {
        let m: HashMap<String, &'static str> =
            pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        AnalysisOptions::from_fields(|k| m.get(k).copied())
    }

    #[test]
    fn defaults_are_the_contracts() {
        let o = parse(&[]).unwrap();
        assert!(o.enhanced_detection);
        assert_eq!(o.facematch_frames, 3);
        assert_eq!(o.facematch_threshold, 0.6);
        assert_eq!(o.frame_sampling_rate, 15);
        assert_eq!(o.max_frames_to_analyze, 20);
        assert_eq!(o.image_type, ImageType::File);
        assert!(!o.details);
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let errs = parse(&[
            ("enhanced_detection", "yes"),
            ("facematch_frames", "0"),
            ("facematch_threshold", "1.5"),
            ("frame_sampling_rate", "abc"),
            ("max_frames_to_analyze", "-3"),
            ("image_type", "url"),
        ])
        .unwrap_err();
        let fields: Vec<_> = errs.iter().map(|e| e.field).collect();
        for f in AnalysisOptions::FIELDS.iter().filter(|f| **f != "details") {
            assert!(fields.contains(f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn work_sizes_above_their_caps_are_capped_and_named() {
        let fields = [("max_frames_to_analyze", "500"), ("facematch_frames", "7")];
        let get = |k: &str| fields.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        let o = AnalysisOptions::from_fields(get).unwrap();
        assert_eq!((o.max_frames_to_analyze, o.facematch_frames), (300, 7));
        assert_eq!(AnalysisOptions::capped(get), ["max_frames_to_analyze=300"]);
        let huge = |k: &str| (k == "facematch_frames").then_some("999999999999999999999999");
        assert_eq!(
            AnalysisOptions::from_fields(huge).unwrap().facematch_frames,
            50
        );
        assert_eq!(AnalysisOptions::capped(huge), ["facematch_frames=50"]);
        let word = AnalysisOptions::from_fields(|k| (k == "facematch_frames").then_some("1e3"));
        assert!(word.is_err());
        let zero = AnalysisOptions::from_fields(|k| (k == "frame_sampling_rate").then_some("0"));
        assert_eq!(zero.unwrap_err()[0].field, "frame_sampling_rate");
    }

    #[test]
    fn string_booleans_follow_the_contract() {
        for (s, b) in [
            ("True", true),
            ("true", true),
            ("1", true),
            ("False", false),
            ("false", false),
            ("0", false),
        ] {
            assert_eq!(parse_bool(s), Some(b));
        }
        assert_eq!(parse_bool("TRUE"), None);
        assert_eq!(parse_bool("yes"), None);
    }
}
