//! Reading the contract's `multipart/form-data` bodies into an [`AnalysisRequest`].
//!
//! All validation that needs no decoding happens here, so the client learns about a bad tuning
//! field (422, every one listed) or a missing/empty part (400, named) before any work is queued.

use crate::challenge_token::ChallengeId;
use crate::error::{ApiError, BODY, missing_media};
use crate::request_id::MAX_ID_LEN;
use axum::extract::multipart::MultipartError;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use base64::Engine;
use liveness::{AnalysisOptions, AnalysisRequest, ImageType, OptionError};
use std::collections::HashMap;
use std::time::Duration;

/// Form fields that carry media; everything else is a short text field.
const MEDIA_FIELDS: [&str; 4] = ["image", "video", "image1", "image2"];
/// Non-media fields are a few characters; this bounds what we buffer for one.
const MAX_TEXT_FIELD: usize = 4096;

/// The raw parts of a form, before interpretation.
#[derive(Default)]
pub struct Form {
    media: HashMap<&'static str, Vec<u8>>,
    text: HashMap<String, String>,
    /// Names of fields the contract does not define: read (the body limit applies) and ignored,
    /// as vendor clients may send extras, but reported back so a typo is not silent.
    unknown: Vec<String>,
    /// Unknown fields beyond the first [`MAX_REPORTED_UNKNOWN`], counted, not kept.
    unknown_unlisted: usize,
}

/// At most this many ignored field names are reported, each at most this long.
const MAX_REPORTED_UNKNOWN: usize = 16;
const MAX_REPORTED_NAME: usize = 64;

/// Makes field names fit for the ignored-fields header: printable ASCII without commas, each
/// cut short, empty ones dropped, sorted, without repeats, at most a bounded number — and when
/// names are left out (`unlisted` more were seen beyond those given), a last entry says how
/// many, `(24 more)`, which no name can be mistaken for (names carry no spaces).
pub fn reportable_names(names: &mut Vec<String>, unlisted: usize) {
    for n in names.iter_mut() {
        *n = n
            .chars()
            .filter(|c| c.is_ascii_graphic() && *c != ',')
            .take(MAX_REPORTED_NAME)
            .collect();
    }
    names.retain(|n| !n.is_empty());
    names.sort();
    names.dedup();
    let left_out = names.len().saturating_sub(MAX_REPORTED_UNKNOWN) + unlisted;
    names.truncate(MAX_REPORTED_UNKNOWN);
    if left_out > 0 {
        names.push(format!("({left_out} more)"));
    }
}

impl Form {
    /// The fields this form carries that the route will not use: unknown names, and media parts
    /// of another route (`image1` sent to `/liveness`). Header-safe: printable ASCII only.
    pub fn ignored_fields(&self, route_media: &[&str]) -> Vec<String> {
        let mut out: Vec<String> = self
            .unknown
            .iter()
            .map(String::as_str)
            .chain(
                self.media
                    .keys()
                    .copied()
                    .filter(|m| !route_media.contains(m)),
            )
            .map(|n| n.to_owned())
            .collect();
        reportable_names(&mut out, self.unknown_unlisted);
        out
    }

    fn note_unknown(&mut self, name: &str) {
        if self.unknown.len() < MAX_REPORTED_UNKNOWN {
            self.unknown.push(name.to_owned());
        } else {
            self.unknown_unlisted += 1;
        }
    }
}

/// Reads the whole form within `timeout`, refusing early when `Content-Length` already exceeds
/// `limit`.
pub async fn read(req: Request, limit: usize, timeout: Duration) -> Result<Form, ApiError> {
    tokio::time::timeout(timeout, read_all(req, limit))
        .await
        .map_err(|_| ApiError::upload_timeout(timeout))?
}

async fn read_all(req: Request, limit: usize) -> Result<Form, ApiError> {
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::too_large(limit));
    }
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return read_urlencoded(req, limit).await;
    }
    if !content_type.starts_with("multipart/form-data") {
        return Err(ApiError::unsupported_body(&content_type));
    }
    let mut mp = Multipart::from_request(req, &())
        .await
        .map_err(|e| ApiError::bad_form(e.body_text()))?;
    let mut form = Form::default();
    let mut duplicates = Vec::new();
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(read_error(e, limit)),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if let Some(media) = MEDIA_FIELDS.iter().find(|m| **m == name) {
            let bytes = field.bytes().await.map_err(|e| read_error(e, limit))?;
            if form.media.insert(media, bytes.into()).is_some() {
                duplicates.push(name);
            }
        } else {
            let bytes = field.bytes().await.map_err(|e| read_error(e, limit))?;
            let Some(known) = known_text_field(&name) else {
                // Vendor clients may send extra fields; they are read (the body limit still
                // applies), ignored and named in the answer's `X-Livegate-Ignored-Fields`.
                form.note_unknown(&name);
                continue;
            };
            if bytes.len() > MAX_TEXT_FIELD {
                return Err(ApiError::invalid_fields(&[OptionError {
                    field: known,
                    message: format!("longer than {MAX_TEXT_FIELD} bytes"),
                }]));
            }
            let Ok(value) = String::from_utf8(bytes.to_vec()) else {
                return Err(ApiError::invalid_fields(&[OptionError {
                    field: known,
                    message: "not valid UTF-8".into(),
                }]));
            };
            if form.text.insert(name.clone(), value).is_some() {
                duplicates.push(name);
            }
        }
    }
    if let Some(name) = duplicates.first() {
        return Err(
            ApiError::bad_form(format!("field {name:?} sent more than once")).with_field(
                BODY,
                name,
                "sent more than once",
            ),
        );
    }
    Ok(form)
}

/// A URL-encoded form: what HTML forms and some HTTP clients send when no file is attached.
/// Media can only travel as text there, so `image_type` defaults to `base64`.
async fn read_urlencoded(req: Request, limit: usize) -> Result<Form, ApiError> {
    let body = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| ApiError::too_large(limit))?;
    let mut form = Form::default();
    for (name, value) in form_urlencoded::parse(&body) {
        let duplicate = if let Some(media) = MEDIA_FIELDS.iter().find(|m| **m == name) {
            form.media
                .insert(media, value.as_bytes().to_vec())
                .is_some()
        } else if let Some(known) = known_text_field(&name) {
            if value.len() > MAX_TEXT_FIELD {
                return Err(ApiError::invalid_fields(&[OptionError {
                    field: known,
                    message: format!("longer than {MAX_TEXT_FIELD} bytes"),
                }]));
            }
            form.text
                .insert(known.to_owned(), value.into_owned())
                .is_some()
        } else {
            form.note_unknown(&name);
            false
        };
        if duplicate {
            return Err(
                ApiError::bad_form(format!("field {name:?} sent more than once")).with_field(
                    BODY,
                    &name,
                    "sent more than once",
                ),
            );
        }
    }
    form.text
        .entry("image_type".to_owned())
        .or_insert_with(|| "base64".to_owned());
    Ok(form)
}

/// The text fields the contract defines, as the `&'static str` the error envelope keys on.
fn known_text_field(name: &str) -> Option<&'static str> {
    AnalysisOptions::FIELDS
        .iter()
        .chain(["unique_id", "challenge_id"].iter())
        .find(|f| **f == name)
        .copied()
}

fn read_error(e: MultipartError, limit: usize) -> ApiError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::too_large(limit)
    } else {
        ApiError::bad_form(e.body_text())
    }
}

/// The tuning fields served at their caps rather than as sent ([`AnalysisOptions::capped`]).
pub fn capped_fields(form: &Form) -> Vec<String> {
    AnalysisOptions::capped(|k| form.text.get(k).map(String::as_str))
}

/// The client's `unique_id` if it is acceptable, read before the rest of the form is validated
/// so that even a 422 answer and its log lines carry it.
pub fn valid_unique_id(form: &Form) -> Option<&str> {
    let uid = form.text.get("unique_id")?.trim();
    let ok =
        !uid.is_empty() && uid.chars().count() <= MAX_ID_LEN && !uid.chars().any(char::is_control);
    ok.then_some(uid)
}

/// The tuning options, with `unique_id` checked alongside; every problem reported at once.
fn options(form: &Form) -> Result<AnalysisOptions, ApiError> {
    let parsed = AnalysisOptions::from_fields(|k| form.text.get(k).map(String::as_str));
    let mut errors = parsed.as_ref().err().cloned().unwrap_or_default();
    let unique_id = form.text.get("unique_id").map(|s| s.trim().to_owned());
    if let Some(uid) = &unique_id {
        if uid.chars().count() > MAX_ID_LEN {
            errors.push(OptionError {
                field: "unique_id",
                message: format!("must be at most {MAX_ID_LEN} characters"),
            });
        } else if uid.chars().any(char::is_control) {
            errors.push(OptionError {
                field: "unique_id",
                message: "must not contain control characters".into(),
            });
        }
    }
    match parsed {
        Ok(o) if errors.is_empty() => Ok(o),
        _ => Err(ApiError::invalid_fields(&errors)),
    }
}

/// The media part `name` as raw bytes: `None` when absent, 400 when empty or undecodable.
fn media(
    form: &mut Form,
    name: &'static str,
    kind: ImageType,
) -> Result<Option<Vec<u8>>, ApiError> {
    let Some(raw) = form.media.remove(name) else {
        return Ok(None);
    };
    let bytes = match kind {
        ImageType::File if looks_like_base64(&raw) => {
            return Err(ApiError::bad_media(
                name,
                "this is base64 text, not a file's bytes: send image_type=base64 with it",
            ));
        }
        ImageType::File => raw,
        ImageType::Base64 => decode_base64(&raw).map_err(|m| ApiError::bad_media(name, m))?,
    };
    if bytes.is_empty() {
        return Err(ApiError::bad_media(name, "empty file"));
    }
    Ok(Some(bytes))
}

/// Text no image or video file can be: a `data:` URI, or nothing but base64 characters and
/// line breaks (every supported format has a binary signature in its first bytes).
fn looks_like_base64(raw: &[u8]) -> bool {
    raw.starts_with(b"data:")
        || (raw.len() >= 16
            && raw
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"+/-_=\r\n".contains(b)))
}

/// Base64 text, standard or URL-safe alphabet, padding optional, line breaks allowed, with an
/// optional `data:<mime>;base64,` prefix.
pub fn decode_base64(raw: &[u8]) -> Result<Vec<u8>, String> {
    let text = std::str::from_utf8(raw).map_err(|_| "base64 text is not valid UTF-8".to_owned())?;
    let mut text = text.trim();
    if let Some(rest) = text.strip_prefix("data:") {
        let (meta, payload) = rest
            .split_once(',')
            .ok_or_else(|| "data: URI without a comma".to_owned())?;
        if !meta.ends_with(";base64") {
            return Err("data: URI is not base64-encoded".to_owned());
        }
        text = payload;
    }
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let trimmed = compact.trim_end_matches('=');
    let engine = if trimmed.contains(['-', '_']) {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
    } else {
        base64::engine::general_purpose::STANDARD_NO_PAD
    };
    engine.decode(trimmed).map_err(|e| {
        use base64::DecodeError as E;
        // Offsets are into the text without line breaks, `data:` prefix or padding.
        let why = match e {
            E::InvalidByte(at, b) | E::InvalidLastSymbol(at, b) if !b.is_ascii_graphic() => {
                format!("byte 0x{b:02x} at character {at} is not a base64 character")
            }
            E::InvalidByte(at, b) => {
                format!(
                    "'{}' at character {at} is not a base64 character",
                    b as char
                )
            }
            E::InvalidLastSymbol(at, b) => {
                format!(
                    "the last character, '{}' at {at}, is not a possible end",
                    b as char
                )
            }
            E::InvalidLength(n) => format!("{n} characters cannot be whole bytes"),
            E::InvalidPadding => "the '=' padding is wrong".to_owned(),
        };
        format!("not valid base64: {why}")
    })
}

/// `POST /liveness` and `/v2/liveness`: the request, and the active challenge's id when one
/// was sent (resolved against the store by the route).
pub struct LivenessForm {
    pub request: AnalysisRequest,
    pub challenge: Option<ChallengeId>,
}

pub fn liveness(mut form: Form) -> Result<LivenessForm, ApiError> {
    let options = options(&form)?;
    let challenge = match form.text.get("challenge_id").map(|s| s.trim()) {
        None => None,
        // An empty id is a client's bug (or a blanked field), not a request to skip the
        // challenge: answered without one, it would read like a passed challenge.
        Some("") => {
            return Err(ApiError::invalid_fields(&[OptionError {
                field: "challenge_id",
                message: "empty: send the id from POST /v1/challenges, or leave the field out \
                          to be judged without a challenge"
                    .into(),
            }]));
        }
        Some(text) => Some(ChallengeId::parse(text).map_err(|m| {
            ApiError::invalid_fields(&[OptionError {
                field: "challenge_id",
                message: m.into(),
            }])
        })?),
    };
    let image = media(&mut form, "image", options.image_type)?;
    let video = media(&mut form, "video", ImageType::File)?;
    if image.is_none() && video.is_none() {
        return Err(missing_media());
    }
    if challenge.is_some() && video.is_none() {
        return Err(ApiError::invalid_fields(&[OptionError {
            field: "challenge_id",
            message: "a challenge is answered by a video: send one".into(),
        }]));
    }
    Ok(LivenessForm {
        request: AnalysisRequest {
            image,
            video,
            options,
            challenge: None,
        },
        challenge,
    })
}

/// `POST /facematch`: both stills are required.
pub struct FacematchForm {
    pub image1: Vec<u8>,
    pub image2: Vec<u8>,
    pub details: bool,
}

pub fn facematch(mut form: Form) -> Result<FacematchForm, ApiError> {
    let options = options(&form)?;
    let image1 = media(&mut form, "image1", options.image_type)?;
    let image2 = media(&mut form, "image2", options.image_type)?;
    match (image1, image2) {
        (Some(image1), Some(image2)) => Ok(FacematchForm {
            image1,
            image2,
            details: options.details,
        }),
        (a, b) => {
            let mut e = ApiError::bad_media(
                if a.is_none() { "image1" } else { "image2" },
                "field required",
            );
            if a.is_none() && b.is_none() {
                e = e.with_field(BODY, "image2", "field required");
            }
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{decode_base64, reportable_names};

    #[test]
    fn names_left_out_of_the_ignored_list_are_counted() {
        let mut names: Vec<String> = (1..=20).map(|i| format!("zz{i:02}")).collect();
        names.push("zz01".into());
        reportable_names(&mut names, 5);
        assert_eq!(names.len(), 17);
        assert_eq!((names[0].as_str(), names[15].as_str()), ("zz01", "zz16"));
        // Four distinct names cut here, five never kept by the reader.
        assert_eq!(names[16], "(9 more)");
        let mut few = vec!["b".to_owned(), "a\u{e9},".to_owned()];
        reportable_names(&mut few, 0);
        assert_eq!(few, ["a", "b"]);
    }

    #[test]
    fn base64_variants_decode_alike() {
        let want = b"\xff\xd8\xff\xe0hello?>".to_vec();
        for text in [
            "/9j/4GhlbGxvPz4=",
            "/9j/4GhlbGxvPz4",
            "_9j_4GhlbGxvPz4",
            "data:image/jpeg;base64,/9j/4GhlbGxvPz4=",
            "/9j/\n4Ghl\r\nbGxvPz4=\n",
        ] {
            assert_eq!(decode_base64(text.as_bytes()).unwrap(), want, "{text}");
        }
        assert_eq!(
            decode_base64(b"!!!").unwrap_err(),
            "not valid base64: '!' at character 0 is not a base64 character"
        );
        assert_eq!(
            decode_base64(b"QUJDR").unwrap_err(),
            "not valid base64: 5 characters cannot be whole bytes"
        );
        assert!(decode_base64(b"data:image/jpeg,abc").is_err());
    }
}
