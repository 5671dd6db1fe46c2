//! The still path: decode, find the dominant face, score it.

use crate::analysis::StillEvidence;
use crate::face_pick::{self, Picked};
use crate::findings::Finding;
use crate::models::Models;
use crate::pad::{self, PadScores};
use crate::policy;
use crate::{AnalysisError, MediaField};
use image::RgbImage;
use vision::{Embedding, Face};

pub struct StillOutcome {
    pub image: RgbImage,
    pub info: media::StillInfo,
    pub face: Option<Face>,
    pub face_count: usize,
    pub unusable: Option<Finding>,
    pub pad: Option<PadScores>,
    pub embedding: Option<Embedding>,
    pub quality: Option<vision::quality::FaceQuality>,
    pub findings: Vec<Finding>,
}

impl StillOutcome {
    pub fn usable(&self) -> bool {
        self.unusable.is_none() && self.pad.is_some()
    }

    pub fn live_score(&self) -> Option<f32> {
        self.usable()
            .then(|| self.pad.as_ref().map(|p| p.fused))
            .flatten()
    }

    /// The evidence, once the image and the embedding are no longer needed.
    pub fn into_evidence(self) -> StillEvidence {
        StillEvidence {
            usable: self.usable(),
            format: self.info.format,
            width: self.info.width,
            height: self.info.height,
            orientation: self.info.orientation,
            analysed_scale: self.info.scale,
            face: self.face,
            face_count: self.face_count,
            findings: self.findings,
            pad: self.pad,
            quality: self.quality,
        }
    }
}

pub fn decode(bytes: &[u8], field: MediaField) -> Result<media::Still, AnalysisError> {
    let opts = media::StillOptions {
        target_long_side: Some(policy::STILL_LONG_SIDE),
        jpeg_min_long_side: Some(policy::STILL_JPEG_MIN_LONG_SIDE),
        ..Default::default()
    };
    media::decode_still(bytes, &opts).map_err(|e| AnalysisError::media(field, e))
}

/// What a caller needs from the still beyond its face: the liveness path needs the PAD
/// score, facematch needs the embedding, image+video needs both.
#[derive(Debug, Clone, Copy)]
pub struct Want {
    pub pad: bool,
    pub embedding: bool,
}

pub fn analyse(
    models: &Models,
    still: media::Still,
    want: Want,
) -> Result<StillOutcome, AnalysisError> {
    let faces = models.detector.detect(&still.image).map_err(internal)?;
    let Picked {
        face,
        unusable,
        face_count,
    } = face_pick::pick_with(
        faces,
        min_face_px(&still),
        &mut face_pick::mesh_opinion(models, &still.image),
    );
    let mut findings: Vec<Finding> = unusable.into_iter().collect();
    if still.info.damaged {
        findings.push(Finding::DamagedData);
    }
    let (mut pad, mut embedding, mut quality) = (None, None, None);
    if let (Some(f), None) = (&face, unusable) {
        if want.pad {
            pad = Some(pad::score(models, &still.image, f, pad::Medium::Still).map_err(internal)?);
        }
        if want.embedding {
            embedding = Some(models.embedder.embed(&still.image, f).map_err(internal)?);
        }
        let q = vision::quality::assess(&still.image, f);
        findings.extend(quality_findings(&q));
        if low_resolution(&still.image, f) {
            findings.push(Finding::LowResolution);
        }
        if f.roll().abs() >= policy::ROTATED_FACE_MIN_ROLL_DEG {
            findings.push(Finding::FaceRotated);
        }
        quality = Some(q);
    }
    Ok(StillOutcome {
        image: still.image,
        info: still.info,
        face,
        face_count,
        unusable,
        pad,
        embedding,
        quality,
        findings,
    })
}

/// [`policy::MIN_FACE_PX`] holds at the [`policy::STILL_LONG_SIDE`] scale; a big JPEG decoded
/// smaller (see [`policy::STILL_JPEG_MIN_LONG_SIDE`]) gets the same face-size floor relative
/// to the photo.
pub fn min_face_px(still: &media::Still) -> f32 {
    let analysed = still.image.width().max(still.image.height()) as f32;
    let reference = still
        .info
        .width
        .max(still.info.height)
        .min(policy::STILL_LONG_SIDE) as f32;
    if analysed > 0.0 && reference > analysed {
        policy::MIN_FACE_PX * analysed / reference
    } else {
        policy::MIN_FACE_PX
    }
}

/// Quality problems are reported as evidence; they do not veto the verdict on their own
/// (the PAD models see blur and exposure too, and were measured with them).
pub fn quality_findings(q: &vision::quality::FaceQuality) -> Vec<Finding> {
    let mut out = Vec::new();
    if q.sharpness < policy::BLUR_SHARPNESS_BELOW {
        out.push(Finding::Blur);
    }
    if q.brightness < policy::UNDEREXPOSED_LUMA_BELOW {
        out.push(Finding::Underexposed);
    }
    if q.brightness > policy::OVEREXPOSED_LUMA_ABOVE {
        out.push(Finding::Overexposed);
    }
    out
}

/// The default PAD model's tightest crop covers fewer than [`policy::PAD_MIN_PICTURE_PX`]
/// picture pixels (on its shorter side), measured in the analysed image — what the network is
/// given, whatever the original's size.
fn low_resolution(image: &RgbImage, face: &Face) -> bool {
    let (_, tightest) = vision::pad::LivegatePad::INPUTS[0];
    let crop = vision::pad::context_crop(image.width(), image.height(), &face.bbox, tightest);
    crop.w.min(crop.h) < policy::PAD_MIN_PICTURE_PX
}

pub fn internal(e: vision::VisionError) -> AnalysisError {
    AnalysisError::Internal(e.to_string())
}
