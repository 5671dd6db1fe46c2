//! Every threshold and weight of the decision, in one place.
//!
//! Each value says where it was measured. "eval" means `livegate eval` over
//! `../shared/testdata/MANIFEST.tsv` (see the README's evaluation section for the numbers);
//! re-measure and update the comment whenever a model or a stage changes.

use crate::fusion::FusionWeights;
use vision::{EmbedderId, PadId};

/// Still decode: the analysis needs about this many pixels on the long side. Faces in selfies
/// are then 300-600 px wide, far above what the 128-px detector and 80-128-px PAD crops use.
pub const STILL_LONG_SIDE: u32 = 1280;
/// A JPEG larger than [`STILL_LONG_SIDE`] is decoded at the smallest DCT scale (1/8 steps)
/// whose long side is at least this, and not resized after: 2/8 for a 12 MP photo (1008 px)
/// instead of 3/8 and a resize to 1280. The networks read at most 192 px of the frame and
/// 80 px of the face, and video frames are analysed at this size too ([`VIDEO_LONG_SIDE`]);
/// [`MIN_FACE_PX`] is scaled to keep its meaning at 1280 px. `livegate eval` with the floors
/// (README, "Evaluation"), before and after: every verdict and figure the same, 3 of 2,893
/// scores moved by ≤ 0.005. Time saved on a 12 MP portrait: `docs/performance.md`.
pub const STILL_JPEG_MIN_LONG_SIDE: u32 = 640;
/// Video frames are scaled to this long side before analysis: the 720p/1080p selfie videos in
/// `videos/` keep faces of 200+ px at 640, enough for the 64-px iris crops.
pub const VIDEO_LONG_SIDE: u32 = 640;
/// FFmpeg decoder threads (0 = one per core). One: frame threading on two cores buys ~8 % of
/// decode wall time for ~45 % more CPU (`ffmpeg -threads 1` vs auto on the pipeline bench's
/// clip without B-frames: 0.53 vs 0.49 s wall, 0.52 vs 0.73 s CPU), and that CPU is what the
/// analysis on the other core needs. `video_times` example, same machine: image + video ÷
/// FFmpeg without B-frames 1.42 → 1.29 (median), with B-frames 1.14 → 1.08.
pub const VIDEO_DECODE_THREADS: u32 = 1;
/// H.264 is decoded without its in-loop deblocking filter: `ffmpeg -threads 1` on the pipeline
/// bench's clip without B-frames takes 0.41 instead of 0.53 s, and every picture of such a
/// stream must be decoded. The frames drift from the encoder's until the next keyframe (PSNR
/// against full decoding: median 39–49 dB, minimum 36–46 dB on the H.264 clips of the test
/// data). `livegate eval --loso extra --loso nuaa_train` before and after, 2,894 items: no
/// verdict changed, H.264 video scores moved by ≤ 0.026, one attack video's blink count 3 → 2,
/// every LOSO ACER the same. VP8 drifted more (one live score −0.046), so the skip is H.264's
/// only. `video_times` example: image + video ÷ FFmpeg without B-frames 1.23–1.26 → 1.00–1.04;
/// `pipeline` bench after: 1.03–1.10 without B-frames, 0.87–1.00 with (`docs/performance.md`).
pub const VIDEO_SKIP_H264_DEBLOCKING: bool = true;
/// A sampled frame's face is tracked from the previous sampled frame's (one detector run
/// around it) if that was at most this long ago; otherwise the whole frame is searched.
pub const TRACK_MAX_GAP_S: f64 = 1.0;
/// Decoded frames waiting for the analysis: enough to ride out a sampled frame's burst of
/// work without stalling the decoder (16 × ≤ 0.9 MB at 640 px; the pipeline bench's video
/// took 606 ms at 4, 576 ms at 16).
pub const VIDEO_FRAME_QUEUE: usize = 16;
/// Sampled frames waiting for their PAD and mesh on the side thread. Unbounded, they piled
/// up whenever PAD ran slower than the frame-by-frame work: 300 sampled frames of a 20-s
/// selfie video took the process from 223 to 465 MB peak.
pub const VIDEO_SIDE_QUEUE: usize = 4;
/// Face crops of the client's frames a video keeps (for facematch and the challenge's
/// same-face check), spread evenly over the frames past this many (`thinned`): twice
/// `MAX_FACEMATCH_FRAMES`, so that thinning never leaves fewer than a client may ask to
/// compare. One crop is up to 2.7 MB (a face filling a 1280-px frame); 300 sampled frames of a
/// 20-s selfie kept 300 and took the process from 223 to 427 MB peak.
pub const VIDEO_KEPT_FACES: usize = 2 * crate::options::MAX_FACEMATCH_FRAMES as usize;
/// Every this-many-th sampled frame searches the whole frame even while tracking works: its
/// face count catches another person stepping in. At the default sampling (every 15th frame
/// at 30 fps) that is once every 2 s. A whole-frame search costs 8.3 ms per 640-px frame, a
/// track 1.9 ms (`livegate check --details`, `stage_ms`).
pub const FULL_SEARCH_EVERY_SAMPLED: usize = 4;
/// The blink stream's target rate. Blinks last 100-300 ms; at ~15 fps a blink covers 2-4
/// samples, so its excursion has a peak with lower frames on both sides.
pub const DENSE_TARGET_FPS: f64 = 15.0;

/// Eye tracking between detections (see `eye_track`): the template search reaches this
/// fraction of the face width per dense frame (fast head turns move ~10 % of it per 1/15 s).
pub const EYE_TRACK_SEARCH_FRACTION: f32 = 0.15;
/// A dense frame anchors the eye track itself (face search + eye model) when the latest
/// anchor is this old: past the sampled stream's cap, or when sampling is sparser than this.
/// Sampled frames anchor every 0.5 s at the default sampling of a 30 fps video.
pub const EYE_ANCHOR_EVERY_S: f64 = 0.7;
/// An anchor whose eye chips differ from the open-eye reference by less than this (1 − NCC)
/// reuses the reference's eye aspect ratio instead of running the eye model. Blinks change
/// the chips by 0.3-0.6 (blink video); open eyes 0.5 s apart by 0.00-0.05.
pub const EYES_UNCHANGED_BELOW: f32 = 0.08;
/// Below this correlation with the anchor's face template the track is lost.
pub const EYE_TRACK_MIN_CORRELATION: f32 = 0.6;
/// A track is not followed further than this from its anchor (the face's scale and pose drift;
/// anchors come every 0.5 s at the default sampling).
pub const EYE_TRACK_MAX_AGE_S: f64 = 1.2;

/// The detector skips its small-face tiles beside a face whose box side is at least this
/// fraction of the image's long side. Any face it could then miss is under 1/12 of the side,
/// far below [`SECOND_FACE_AREA_RATIO`] of such a face, so the verdict cannot change; on a
/// 12 MP selfie it saves ~40 % of the detection (vision `models` bench: 41.6 ms with tiles).
pub const SKIP_TILES_BESIDE_FACE: f32 = 0.15;
/// The detector stops after its first pass (short range, whole frame) when that pass finds a
/// face wholly inside the frame whose box side is at least this fraction of the long side (and
/// at most [`SHORT_RANGE_MAX_FACE`] of the short side). The later passes (zoomed out, full
/// range, tiles) exist for small faces and faces cut by the frame's edge; beside such a face
/// anything they alone could add is below [`SECOND_FACE_AREA_RATIO`]. It saves two of the three
/// network runs on a typical selfie or webcam still (see README "Issue #15"); Livegate's PAD
/// model is trained on the boxes this produces (`training/`, crops from `livegate crops`).
pub const SHORT_RANGE_SUFFICES: f32 = 0.2;
/// See [`SHORT_RANGE_SUFFICES`]: a face wider than this fraction of the short side fills the
/// frame, where the zoomed-out pass places it better (the network learnt faces with margin).
pub const SHORT_RANGE_MAX_FACE: f32 = 0.7;
/// A face smaller than this (box width, px of the analysed image; for a big JPEG decoded below
/// [`STILL_LONG_SIDE`], scaled as if it were decoded at 1280 — ≥ 31 px at 1000, whose 2.7×
/// PAD crop still has more than the model's 80 px) is not usable: the PAD crops
/// become upsampled blur. Faces of the `negative/*tinyface*` images are below it, every
/// `faces/` portrait is far above it.
pub const MIN_FACE_PX: f32 = 40.0;
/// A second face counts as another person in the frame (`multiple_faces`) when its area is at
/// least this fraction of the dominant one; smaller faces are background people.
pub const SECOND_FACE_AREA_RATIO: f32 = 0.35;
/// Detector score below which a box is not treated as a face.
pub const MIN_DETECTION_SCORE: f32 = 0.6;
/// When two faces are of comparable size, a box counts as a face only if the face mesh's face
/// flag gives it at least this probability (MediaPipe's own default for the flag). Measured on
/// every still of `testdata` (2,900 stills, 2026-12-05): every detected face of a person — the
/// dominant faces of `faces/` and `negative/*multiface*`, and all 60 second faces of people —
/// scores 0.95–1.0, while the one false second face, the emblem behind
/// `faces/fr_obama_knn_test1.jpg` (detector score 0.71, 79 % of the portrait's area), scores
/// 0.0003.
pub const SECOND_OPINION_MIN_PRESENCE: f32 = 0.5;

/// The rule that picks the face a still is judged on, in words, for the evidence: built from
/// the values above so the text cannot drift from what the code does.
pub fn face_rule() -> String {
    format!(
        "dominant face = largest box with detector score >= {MIN_DETECTION_SCORE}; unusable when \
         none (no_face), another face >= {:.0}% of its area (multiple_faces; of two such boxes, \
         one the face mesh gives a face probability below {SECOND_OPINION_MIN_PRESENCE} is \
         dropped), or narrower than {MIN_FACE_PX} px (face_too_small)",
        SECOND_FACE_AREA_RATIO * 100.0
    )
}

/// PAD weights by model, for stills. Livegate's own model (`training/`, see its model
/// card) alone decides: judged leave-one-source-out on the nine `extra/` sources and
/// `nuaa_train` (each source scored by a model trained without it, at a threshold chosen on the
/// others; `training/train.sh`, `livegate eval --loso`), it beats every stock network and the
/// old three-model ensemble (README, "Evaluation"), which therefore no longer run. An installed
/// MiniFASNet pair or `fr_liveness` costs nothing: models without a weight are not run.
/// Exhaustive on purpose: a new model does not compile until it is given a weight here.
pub fn pad_weight(model: PadId) -> f32 {
    match model {
        PadId::LivegatePad => 1.0,
        PadId::MinifasnetV2 | PadId::MinifasnetV1se | PadId::FrLiveness => 0.0,
    }
}

/// PAD weights for video frames: the same model as stills (it was trained on frames cut from
/// live and replayed videos among others).
pub fn video_pad_weight(model: PadId) -> f32 {
    pad_weight(model)
}

/// Live score at or above which a still is `real` (see [`pad_weight`]). Chosen by
/// `training/train.py` on the model's out-of-fold scores (every item of the nine `extra/`
/// sources and `nuaa_train` scored by a layer trained without its source, on the boxes of the
/// one-pass detector, [`SHORT_RANGE_SUFFICES`]) as the threshold with the lowest
/// source-balanced ACER: 0.435 for the model standardised over the chip re-cuts too (0.434 for
/// the one before it); at 0.43 that ACER is 10.72 % against 10.68 % at the minimum, so the
/// constant stays. In `livegate eval --loso`, each held-out source's threshold is instead chosen
/// the same way on the other sources alone; they land at 0.429-0.451
/// (`training/MODEL_CARD.md`, 2026-11-28).
pub const IMAGE_REAL_THRESHOLD: f32 = 0.43;

/// A still whose live score lies within this of the threshold it was judged at is flagged
/// near the threshold (`details.review`, `/v2`'s `image.near_threshold`, Bulk results' column,
/// the review band of `livegate eval`): the verdicts worth a person's look. Measured on the
/// out-of-fold scores, each source at its LOSO threshold
/// (`training/experiments/local_calibration/review_band.py`, 2026-12-06; 11.9 % of the stills
/// wrong in all): ±0.05 holds 4.3 % of the stills and 17 % of the errors, ±0.1 8.4 % and 29 %,
/// ±0.2 17 % and 49 %. 0.1 keeps a person's queue under a tenth of the stills for nearly a third
/// of the errors; the rest are 9.2 % wrong, and half of all errors are confident ones, which no
/// band catches (through the product: `livegate eval --loso`, 8.2 % and 29.1 %).
pub const REVIEW_MARGIN: f32 = 0.1;

/// Fewest labelled stills of each class (bona fide and attack) on which `livegate eval
/// --calibrate` sets a deployment's own operating point ([`crate::operating_point`]). Measured
/// with each source's out-of-fold scores, the threshold chosen on n consecutive stills of each
/// class of that source (one stretch of capture) and judged on the rest
/// (`training/experiments/local_calibration/`, 2026-12-06, 200 draws): pooled ACER 11.8 → 13.1 %
/// at n = 5 (worse than not calibrating), 12.1 → 11.7 % at 10, 12.3 → 11.4 % at 20, 11.9 →
/// 10.7 % at 40.
pub const OPERATING_POINT_MIN_PER_CLASS: usize = 20;
/// Fused score at or above which a video's verdict is `real`: a frame PAD of exactly the still
/// threshold with neither a blink nor depth in the motion fuses to
/// 0.75 × 0.43 + 0.15 × 0.5 + 0.1 × 0.5 = 0.4475. The manifest's 5 live videos fuse to
/// 0.68-0.97, its 4 replays to 0.21-0.34 (`livegate eval --loso extra --loso-models …`: the
/// `extra/` videos scored by the fold model of their source; the model standardised over the
/// chip re-cuts, 2026-11-28).
pub const RESULT_REAL_THRESHOLD: f32 = result_real_threshold(IMAGE_REAL_THRESHOLD);

/// The video threshold that goes with a still threshold: the fused score of frames at exactly
/// that PAD score with neither a blink nor depth in the motion. A deployment's own operating
/// point ([`crate::operating_point`]) moves both together.
pub const fn result_real_threshold(image_real_threshold: f32) -> f32 {
    W_VIDEO_PAD * image_real_threshold
        + W_BLINK * BLINK_ABSENT_SCORE
        + W_MOTION * MOTION_ABSENT_SCORE
}

/// Fusion weights for the video path: the mean per-frame PAD score dominates; blink and
/// motion are supporting evidence, never required (a still, unblinking live person passes
/// on PAD alone).
pub const W_VIDEO_PAD: f32 = 0.75;
pub const W_BLINK: f32 = 0.15;
/// Depth in the face's motion (see [`MOTION_RESIDUAL_LOW`]): what a photo cannot show. It
/// cannot tell a replayed video of a turning head from the head itself (PAD's job).
pub const W_MOTION: f32 = 0.1;
/// With a still as well as a video, the still's PAD score takes this share of the PAD part.
pub const W_IMAGE_IN_VIDEO_MODE: f32 = 0.3;
/// The fusion's weights and thresholds as one value (what [`crate::decide::decide`] applies).
pub const FUSION: FusionWeights = fusion_at(IMAGE_REAL_THRESHOLD);

/// The policy's fusion with the still threshold moved to `image_real_threshold` (a
/// deployment's own operating point) and the video threshold with it.
pub const fn fusion_at(image_real_threshold: f32) -> FusionWeights {
    FusionWeights {
        video_pad: W_VIDEO_PAD,
        blink: W_BLINK,
        motion: W_MOTION,
        image_in_video: W_IMAGE_IN_VIDEO_MODE,
        image_real_threshold,
        result_real_threshold: result_real_threshold(image_real_threshold),
        image_attack_below: IMAGE_ATTACK_BELOW,
    }
}

/// With a video as well, a still whose live score is below this vetoes the verdict
/// (`attack_in_image`): otherwise a replayed or printed still rides on a live video, whose
/// frames outweigh it (a still at 0.02 beside frames at 0.9 fused to `real`, found by an
/// outside review on 2026-12-07). On the model's out-of-fold scores (`training/loso.json`: each
/// of 2,720 stills scored by a layer trained without its source) 0 of 1,340 live stills score
/// below 0.05 and 39 % of the 1,380 attacks do; at 0.08 one live still, at 0.1 four (0.3 %).
/// No still of `faces/` (never trained on) scores below 0.08. 0.05 keeps the veto to what no
/// live face of any source reached.
pub const IMAGE_ATTACK_BELOW: f32 = 0.05;

/// Without a blink, the blink term contributes this neutral value (a live person who does
/// not blink can still pass on PAD and motion).
pub const BLINK_ABSENT_SCORE: f32 = 0.5;

/// Blink: an eye-aspect-ratio dip below this fraction of the video's open-eye baseline
/// (its 80th percentile) counts as closed.
pub const BLINK_CLOSED_RATIO: f32 = 0.65;
/// An excursion of the eye-change signal longer than this is not a blink (eyes shut,
/// looking down, a new expression).
pub const BLINK_MAX_SECONDS: f64 = 0.7;
/// The eye-change signal's local level is its median over this window.
pub const BLINK_LEVEL_WINDOW_S: f64 = 1.4;
/// An excursion must rise this far above the local level for the eye model to look at it.
/// Blinks caught mid-closure rise 0.25-0.6; a 100 ms blink that falls between two dense frames
/// (10.0 s of the blink video, both frames half shut) only 0.07, which 0.1 missed. Gaze shifts
/// and tracking slips also pass; the eye model and [`BLINK_MAX_CHECKS`] bound their cost.
pub const BLINK_MIN_CHANGE_EXCESS: f32 = 0.06;
/// At most this many excursions per video go to the eye model (4.6 ms each): the largest.
pub const BLINK_MAX_CHECKS: usize = 16;
/// Every this many dense frames (about a quarter second at 15 fps) the excursions so far are
/// listed and the settled ones looked at during decoding ([`crate::blink::settled_peaks`]);
/// a listing costs ~0.06 ms at 150 frames.
pub const BLINK_LOOK_AHEAD_EVERY: usize = 4;
/// An anchor's eyes serve as the open-eye reference when their aspect ratio is at least this
/// fraction of the median so far.
pub const BLINK_REOPEN_RATIO: f32 = 0.85;
/// Fewest anchored frames with an eye aspect ratio for an open-eye baseline.
pub const BLINK_MIN_ANCHORS: usize = 2;

/// Motion: the face mesh (468 points) of every this-many-th sampled frame — 1 s apart at the
/// default sampling of a 30 fps video — on the side thread (3.5 ms a frame).
pub const MOTION_MESH_EVERY_SAMPLED: usize = 2;
/// Which mesh pairs are compared and how they are summarised: frames 0.3-3 s apart; a pair
/// counts as moving when the best similarity transform leaves ≥ 0.02 inter-ocular distances
/// of residual; the summary is the 90th percentile of the moving pairs' homography residuals.
pub fn motion_pairs() -> crate::planarity::PlanarityConfig {
    crate::planarity::PlanarityConfig {
        min_gap_s: 0.3,
        max_gap_s: 3.0,
        min_deformation: 0.02,
        quantile: 0.9,
    }
}
/// Motion evidence: the homography residual (inter-ocular units) of the mesh between frames
/// starts counting at LOW and is full at HIGH. A plane moves by a homography whatever it does;
/// a head that turns does not. Measured with the meshes 1 s apart
/// (`cargo run --release -p liveness --example planarity_eval -- --crop detector --every 30`):
/// 30 synthetic flat-photo videos (zoom, rotation, shift and both perspective tilts of 6
/// photos) at most 0.059 (a blurred, upscaled 280-px photo; the others ≤ 0.030); live selfie
/// turning its head 0.241, its screen replay 0.260, the cartoon 0.189; the still live selfies
/// show no moving pair at all (no evidence either way).
pub const MOTION_RESIDUAL_LOW: f32 = 0.08;
pub const MOTION_RESIDUAL_HIGH: f32 = 0.16;
/// Without depth in the motion, the motion term contributes this neutral value.
pub const MOTION_ABSENT_SCORE: f32 = 0.5;

/// Facematch: embedding distance below which two faces are the same person, on each
/// embedder's own scale (see `vision::embedder` for the measured same/different distributions).
pub fn facematch_max_distance(embedder: EmbedderId) -> f32 {
    match embedder {
        // dlib's own threshold for its Euclidean distance; the shared models.md measured same-person
        // max 0.518 and different-person min 0.700 on 15 faces of 6 people.
        EmbedderId::DlibResnet => 0.6,
        // Cosine distance (1 - cosine similarity) of the 512-d Faceplugin model, the default.
        // vision/tests/embedder.rs over 78 faces of 14 people in `faces/` (319 same-person,
        // 2684 different-person pairs): same-person max 0.503, different-person min 0.667;
        // the threshold sits between them.
        EmbedderId::FacepluginFrFeature => 0.58,
    }
}

/// Quality findings (evidence only). Variance of the Laplacian on the face crop below this is
/// reported as blur; mean face luma outside the band as under/over-exposure.
pub const BLUR_SHARPNESS_BELOW: f32 = 20.0;
pub const UNDEREXPOSED_LUMA_BELOW: f32 = 50.0;
pub const OVEREXPOSED_LUMA_ABOVE: f32 = 215.0;
/// Quality finding `low_resolution` (evidence only, like blur): the shorter side of the PAD
/// model's tightest context crop (2.7× the face, shrunk and slid to fit the picture) covers
/// fewer picture pixels than this, so the network's 80-px input is an enlargement of a tiny
/// picture. Measured 2026-12-06 (`training/experiments/zoom/`): every labelled still of
/// `extra/`, `nuaa_train/` and `faces/`, shrunk to half and scored through the product by the
/// fold models — below 60 px 49 % of 141 answered live faces were refused (20–22 % at 60–100 px,
/// 2–7 % above); at full size 10 of the 22 attacks below 60 px (`AksultanMukhanbet` files 46–67
/// px wide) were accepted. Below it the verdict is a guess either way: ask for a nearer or
/// sharper picture. It does not veto: the training stills include such pictures, and the
/// verdict's figures are quoted with them.
pub const PAD_MIN_PICTURE_PX: f32 = 60.0;

/// A still's face whose roll ([`vision::Face::roll`]: eyes-to-mouth line against straight
/// down) is at least this many degrees either way is flagged `face_rotated`: nearer a face on
/// its side than an upright one. Some phones and web views save a portrait capture on its
/// side without an orientation tag, and the PAD model reads the face as it lies. In
/// `testdata` (2026-12-06) 36 stills are beyond it, all live faces of `AksultanMukhanbet`
/// (48–96°); its fold model refuses 17 of them. Every other face is within 45° (2,465 of 2,823
/// within 10°). Evidence only: turning such stills upright before judging them, with the
/// model retrained on upright crops, made the figures worse on every bona fide set
/// (`training/experiments/turned/`), so the verdict stays the model's and the client can ask
/// for an upright picture.
pub const ROTATED_FACE_MIN_ROLL_DEG: f32 = 45.0;

/// `/facematch` confidence: 1 at distance 0, 0.5 at the match threshold, 0 at twice it — a
/// monotone map so clients can rank, with the verdict boundary at 0.5.
pub fn facematch_confidence(distance: f32, max_distance: f32) -> f32 {
    if distance <= max_distance {
        1.0 - 0.5 * distance / max_distance
    } else {
        (0.5 * (2.0 - distance / max_distance)).max(0.0)
    }
}

/// Active challenges (`challenge.rs`). Measured with `livegate check --details
/// --frame-sampling-rate 5` on the test data's videos: the head-turning selfie
/// (`videos/tranvanluyt_real.mp4`) turns to a yaw of +0.60…+0.86 and −0.37…−0.42 inter-ocular
/// distances from its neutral +0.02; the still selfies (`lestari15_real`,
/// `blinkdetector_selfie_blinks`) stay within ±0.05 yaw of theirs, their face width within ±4 %.
/// Pitch, in eye-to-mouth heights (`challenge::Pose`; re-measured 2026-12-07 with `cargo run
/// --release -p livegate --example challenge_poses`, after an outside review's finding that a
/// turn passed "look down"): the turning selfie's neutral 0.575,
/// looking down 0.70–0.80 (+0.13…+0.22), looking up 0.13–0.27 (−0.30…−0.45); its turns move it
/// by +0.02 and −0.09 at most, and frames turned past `CHALLENGE_YAW` do not count for a pitch
/// step at all; the still selfies stay within ±0.045 of theirs. Each threshold sits well above
/// the still heads' jitter and below the smallest deliberate movement seen.
pub const CHALLENGE_YAW: f32 = 0.2;
pub const CHALLENGE_PITCH_UP: f32 = 0.2;
pub const CHALLENGE_PITCH_DOWN: f32 = 0.10;
/// Face width relative to the neutral pose's for "move closer". The test data has no recording
/// of someone stepping closer, so the frontal selfie (`blinkdetector_selfie_blinks`) was zoomed
/// in with FFmpeg's `zoompan` (the server test `moving_closer_is_measured_on_a_real_recording`):
/// zooms of 1.0 / 1.1 / 1.4 measure 1.02 / 1.13 / 1.43. The still heads' ±4 % and looking down's
/// +15 % bound it from below.
pub const CHALLENGE_CLOSER_RATIO: f32 = 1.2;
/// Steps per challenge, seconds of neutral lead-in before the first, seconds per step window
/// (the turns above take 0.5–1 s to reach their peak), and how many lead-in frames make a
/// neutral pose of their own (fewer: the median over the whole video).
pub const CHALLENGE_MIN_STEPS: usize = 2;
pub const CHALLENGE_MAX_STEPS: usize = 4;
pub const CHALLENGE_LEAD_IN_S: f64 = 1.0;
pub const CHALLENGE_STEP_S: f64 = 3.0;
pub const CHALLENGE_MIN_NEUTRAL_FRAMES: usize = 3;
/// With a challenge, at least every 5th frame (6 fps at 30 fps: a head turn spans several) is
/// analysed for the face and its pose, up to 120 (20 s at 30 fps, more than 4 steps need);
/// PAD, the mesh and the eye anchors still run at about the client's `frame_sampling_rate`
/// (`VideoWork`), and the whole-frame search keeps its period in time, so the extra frames cost
/// one tracking run each (`pipeline` bench `video_10s`, same run, loaded machine: with / without
/// a challenge 1.70 × before, 1.35 × after).
pub const CHALLENGE_SAMPLE_EVERY: u32 = 5;
pub const CHALLENGE_MAX_SAMPLED: u32 = 120;
/// Frames sampled only for a challenge's pose come in colour at this long side instead of
/// [`VIDEO_LONG_SIDE`]: the tracker reads a 128-px window of 2.2 face widths, which at 320 px
/// still holds 128 px of frame for faces of 58 px and more (116 px at 640; the selfie videos'
/// faces are 200+ px there), and the full-size colour conversion was a large part of each extra
/// frame's cost (perf on the `pipeline` bench). Against the same frames tracked at 640 (`cargo run --release -p livegate
/// --example pose_reduced`): yaw within 0.07 and pitch within 0.03 on the turning selfie,
/// yaw and pitch within 0.04 and face width within 2 % on the two still ones; the turning
/// selfie's extremes moved from −0.42…+0.86 yaw and 0.08–0.90 pitch to −0.40…+0.88 and
/// 0.09–0.89. The thresholds above keep their margins on both sides.
pub const POSE_LONG_SIDE: u32 = 320;
/// The same-face check of a challenge: where no client frame was kept for this long, a
/// pose-only frame's face is kept instead (at most two a second), and in each step's window up
/// to this many near-frontal faces (pose within the step thresholds of the neutral one: a
/// turned head embeds further from a frontal one, up to 0.66 on the turning selfie, past the
/// facematch distance) are compared with the first face; where a window has none, its most
/// frontal face. An outside review (2026-12-07) swapped another person into the first window
/// and passed: one face a window, shared boundary frames and the client's frames ending at
/// 10 s let the swap go uncompared.
pub const CHALLENGE_IDENTITY_EVERY_S: f64 = 0.5;
pub const CHALLENGE_IDENTITY_PER_WINDOW: usize = 3;
/// How long an issued challenge can be answered.
pub const CHALLENGE_TTL_S: u64 = 60;
