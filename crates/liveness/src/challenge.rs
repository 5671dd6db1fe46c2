//! Active liveness: a random sequence of head movements and blinks the client is asked to
//! perform while recording, and the check that the video performs them, in order, each inside
//! its time window. A recording made before the challenge was issued (a replay, a pre-generated
//! deepfake) cannot know the sequence.
//!
//! Pure: the pose series comes from the frames the video stage already analysed (the
//! detector's six keypoints), blinks from the blink stream. Thresholds are in [`policy`].

use crate::blink::BlinkReport;
use crate::policy;
use crate::video::FrameObservation;
use serde::{Deserialize, Serialize};
use vision::face::kp;

/// One instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// The person turns their head to their left (the nose moves to the image's right in an
    /// unmirrored recording).
    TurnLeft,
    TurnRight,
    LookUp,
    LookDown,
    Blink,
    /// The face grows in the frame.
    MoveCloser,
}

impl Step {
    pub const ALL: [Step; 6] = [
        Step::TurnLeft,
        Step::TurnRight,
        Step::LookUp,
        Step::LookDown,
        Step::Blink,
        Step::MoveCloser,
    ];

    /// What the client shows the person.
    pub fn instruction(self) -> &'static str {
        match self {
            Step::TurnLeft => "Turn your head to your left",
            Step::TurnRight => "Turn your head to your right",
            Step::LookUp => "Look up",
            Step::LookDown => "Look down",
            Step::Blink => "Blink",
            Step::MoveCloser => "Move closer to the camera",
        }
    }
}

/// A step and the part of the video (seconds from its first frame) in which it must be seen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct StepWindow {
    pub step: Step,
    pub start_s: f64,
    pub end_s: f64,
}

/// A random sequence of 2–4 steps, no step twice in a row, in back-to-back windows after a
/// neutral lead-in. `draw(n)` returns a uniform integer in `0..n` (the caller's CSPRNG).
pub fn plan(mut draw: impl FnMut(usize) -> usize) -> Vec<StepWindow> {
    let count = policy::CHALLENGE_MIN_STEPS
        + draw(policy::CHALLENGE_MAX_STEPS - policy::CHALLENGE_MIN_STEPS + 1);
    let mut steps: Vec<Step> = Vec::with_capacity(count);
    while steps.len() < count {
        let candidates: Vec<Step> = Step::ALL
            .into_iter()
            .filter(|s| steps.last() != Some(s))
            .collect();
        steps.push(candidates[draw(candidates.len())]);
    }
    steps
        .into_iter()
        .enumerate()
        .map(|(i, step)| {
            let start_s = policy::CHALLENGE_LEAD_IN_S + i as f64 * policy::CHALLENGE_STEP_S;
            StepWindow {
                step,
                start_s,
                end_s: start_s + policy::CHALLENGE_STEP_S,
            }
        })
        .collect()
}

/// The head's pose in one analysed frame, from the detector's keypoints. `yaw` is the nose's
/// horizontal offset from the eyes' midpoint in inter-ocular distances (positive: towards the
/// image's right). `pitch` is where the nose sits between the eyes and the mouth, measured
/// across the eye line: the nose's offset from the eyes' midpoint over the mouth's (larger:
/// looking down). Both offsets are heights on the face, so a head that turns leaves `pitch` as
/// it is; over the inter-ocular distance, which shrinks as the head turns, a turn read as
/// looking down (0.66 → 0.87 on the turning selfie, as much as a real look down). `scale` is
/// the face box width in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pose {
    pub time_s: f64,
    pub yaw: f32,
    pub pitch: f32,
    pub scale: f32,
}

pub fn poses(frames: &[FrameObservation]) -> Vec<Pose> {
    frames.iter().filter_map(pose_of).collect()
}

fn pose_of(f: &FrameObservation) -> Option<Pose> {
    if f.finding.is_some() {
        return None;
    }
    let face = f.face.as_ref()?;
    let k = &face.keypoints;
    let (re, le, nose, mouth) = (k[kp::RIGHT_EYE], k[kp::LEFT_EYE], k[kp::NOSE], k[kp::MOUTH]);
    let iod = ((re.x - le.x).powi(2) + (re.y - le.y).powi(2)).sqrt();
    if iod <= 1.0 {
        return None;
    }
    let (mx, my) = ((re.x + le.x) / 2.0, (re.y + le.y) / 2.0);
    // Down the face: across the eye line, towards the mouth, so a tilted head measures alike.
    let (ux, uy) = ((le.x - re.x) / iod, (le.y - re.y) / iod);
    let down = |x: f32, y: f32| {
        let d = (x - mx) * -uy + (y - my) * ux;
        if (mouth.x - mx) * -uy + (mouth.y - my) * ux < 0.0 {
            -d
        } else {
            d
        }
    };
    let mouth_depth = down(mouth.x, mouth.y);
    (mouth_depth > 1.0).then(|| Pose {
        time_s: f.time_s,
        yaw: (nose.x - mx) / iod,
        pitch: down(nose.x, nose.y) / mouth_depth,
        scale: face.bbox.w,
    })
}

/// What the front end hands the analysis about a challenge it resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum ChallengeInput {
    /// The steps of a challenge issued to this client, unexpired and not answered before.
    Steps(Vec<StepWindow>),
    /// A well-formed challenge that cannot be answered: the verdict is `fake` whatever the
    /// video shows.
    Refused(Failure),
}

/// Why a challenge did not pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Failure {
    /// A step was not seen inside its window.
    StepsNotSeen,
    Expired,
    /// Answered before: a challenge is single-use.
    Reused,
    /// Issued to another client.
    Foreign,
    /// Not issued by this deployment: its signature does not verify (edited, forged, or
    /// signed with a key this store no longer has).
    Invalid,
    /// The steps were performed, but not all by the same face (a swap mid-video).
    FaceChanged,
}

impl Failure {
    /// The reason code (`X-Livegate-Reason`, `/v2` `overall.reason`, batch results).
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::StepsNotSeen => "challenge_failed",
            Failure::Expired => "challenge_expired",
            Failure::Reused => "challenge_reused",
            Failure::Foreign => "challenge_foreign",
            Failure::Invalid => "challenge_invalid",
            Failure::FaceChanged => "challenge_face_changed",
        }
    }
}

/// The challenge's part of the evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChallengeEvidence {
    pub passed: bool,
    pub failure: Option<Failure>,
    /// Every step's result (absent when the challenge was refused before the video was looked
    /// at).
    pub check: Option<ChallengeCheck>,
    /// The pose series the steps were judged on (the Playground draws it).
    pub poses: Vec<Pose>,
    /// One face throughout: the first analysed face against one frame of each window.
    pub same_face: Option<SameFace>,
}

/// Embedding distances from the video's first usable face to faces of each step's window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SameFace {
    pub distances: Vec<f32>,
    /// The step window (0-based) of each distance.
    pub windows: Vec<usize>,
    /// Windows with no face to compare: the check cannot vouch for them, so it fails.
    pub unchecked_windows: Vec<usize>,
    pub max_distance: f32,
    pub same: bool,
}

impl ChallengeEvidence {
    /// Judges `input` on the video's frames and blinks.
    pub fn judge(
        input: &ChallengeInput,
        frames: &[FrameObservation],
        blinks: &BlinkReport,
    ) -> Self {
        match input {
            ChallengeInput::Refused(failure) => ChallengeEvidence {
                passed: false,
                failure: Some(*failure),
                check: None,
                poses: Vec::new(),
                same_face: None,
            },
            ChallengeInput::Steps(windows) => {
                let poses = poses(frames);
                let c = check(windows, &poses, blinks);
                ChallengeEvidence {
                    passed: c.passed,
                    failure: (!c.passed).then_some(Failure::StepsNotSeen),
                    check: Some(c),
                    poses,
                    same_face: None,
                }
            }
        }
    }

    /// Adds the identity check: a different face in any window fails the challenge.
    pub fn with_same_face(mut self, same_face: SameFace) -> Self {
        if !same_face.same && self.passed {
            self.passed = false;
            self.failure = Some(Failure::FaceChanged);
        }
        self.same_face = Some(same_face);
        self
    }
}

/// Which kept faces the identity check compares with the first one, window by window:
/// positions in `candidates` (indices into `frames` of kept crops, in time order, the
/// reference left out). In each window up to [`policy::CHALLENGE_IDENTITY_PER_WINDOW`]
/// near-frontal faces spread over it (a turned head embeds further from a frontal one,
/// measured up to 0.66 on the turning selfie, above the facematch distance), else its most
/// frontal face; none when the window holds no face. Windows are half-open (a frame on a
/// boundary belongs to the later one, the last window keeps its end), so two windows never
/// settle for one shared frame.
pub fn identity_frames(
    windows: &[StepWindow],
    frames: &[FrameObservation],
    candidates: &[usize],
    neutral: Option<&Pose>,
) -> Vec<Vec<usize>> {
    let pose = |f: usize| pose_of(&frames[f]);
    let away = |f: usize| match (pose(f), neutral) {
        (Some(p), Some(n)) => (p.yaw - n.yaw).abs() + (p.pitch - n.pitch).abs(),
        _ => f32::INFINITY,
    };
    let frontal = |f: usize| match (pose(f), neutral) {
        (Some(p), Some(n)) => {
            (p.yaw - n.yaw).abs() < policy::CHALLENGE_YAW
                && p.pitch - n.pitch < policy::CHALLENGE_PITCH_DOWN
                && n.pitch - p.pitch < policy::CHALLENGE_PITCH_UP
        }
        _ => false,
    };
    windows
        .iter()
        .enumerate()
        .map(|(wi, w)| {
            let last = wi + 1 == windows.len();
            let inside: Vec<usize> = (0..candidates.len())
                .filter(|&i| {
                    let t = frames[candidates[i]].time_s;
                    t >= w.start_s && (t < w.end_s || (last && t <= w.end_s))
                })
                .collect();
            let near: Vec<usize> = inside
                .iter()
                .copied()
                .filter(|&i| frontal(candidates[i]))
                .collect();
            if near.is_empty() {
                inside
                    .iter()
                    .copied()
                    .min_by(|&a, &b| away(candidates[a]).total_cmp(&away(candidates[b])))
                    .into_iter()
                    .collect()
            } else {
                crate::facematch::spread(near.len(), policy::CHALLENGE_IDENTITY_PER_WINDOW)
                    .into_iter()
                    .map(|k| near[k])
                    .collect()
            }
        })
        .collect()
}

/// How one step went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepResult {
    #[serde(flatten)]
    pub window: StepWindow,
    pub passed: bool,
    /// When it was seen (the first frame past the threshold, or the blink's start).
    pub seen_at_s: Option<f64>,
    /// The strongest movement inside the window, relative to the neutral pose, in the step's
    /// own unit (inter-ocular distances; the scale ratio for `move_closer`; 1 per blink).
    pub peak: f32,
    /// Frames with a usable face inside the window.
    pub frames: usize,
}

/// Every step's result and the neutral pose they were measured against.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChallengeCheck {
    pub passed: bool,
    pub steps: Vec<StepResult>,
    pub neutral: Option<Pose>,
}

/// The neutral pose: the median over the frames before the first window (the lead-in), or
/// over all frames when the lead-in has too few.
fn neutral(poses: &[Pose], first_start: f64) -> Option<Pose> {
    let lead: Vec<&Pose> = poses.iter().filter(|p| p.time_s < first_start).collect();
    let pool: Vec<&Pose> = if lead.len() >= policy::CHALLENGE_MIN_NEUTRAL_FRAMES {
        lead
    } else {
        poses.iter().collect()
    };
    if pool.is_empty() {
        return None;
    }
    let median = |f: fn(&Pose) -> f32| {
        let mut v: Vec<f32> = pool.iter().map(|p| f(p)).collect();
        v.sort_by(f32::total_cmp);
        v[v.len() / 2]
    };
    Some(Pose {
        time_s: 0.0,
        yaw: median(|p| p.yaw),
        pitch: median(|p| p.pitch),
        scale: median(|p| p.scale),
    })
}

/// The step's movement in a frame relative to `n`, signed so that larger is "more done", and
/// the threshold it must reach. `None`: the frame cannot show this step.
fn movement(step: Step, p: &Pose, n: &Pose) -> Option<(f32, f32)> {
    // A head turned away reads as neither looking up nor down: one recorded turn must not
    // answer a pitch step.
    let turned = (p.yaw - n.yaw).abs() >= policy::CHALLENGE_YAW;
    if turned && matches!(step, Step::LookUp | Step::LookDown) {
        return None;
    }
    Some(match step {
        Step::TurnLeft => (p.yaw - n.yaw, policy::CHALLENGE_YAW),
        Step::TurnRight => (n.yaw - p.yaw, policy::CHALLENGE_YAW),
        Step::LookDown => (p.pitch - n.pitch, policy::CHALLENGE_PITCH_DOWN),
        Step::LookUp => (n.pitch - p.pitch, policy::CHALLENGE_PITCH_UP),
        Step::MoveCloser => (p.scale / n.scale.max(1.0), policy::CHALLENGE_CLOSER_RATIO),
        // Blinks come from the blink stream, not the pose.
        Step::Blink => (0.0, f32::INFINITY),
    })
}

/// Checks `windows` against the video's pose series and blinks. Every step must be seen inside
/// its own window (windows follow each other, so this also checks the order).
pub fn check(windows: &[StepWindow], poses: &[Pose], blinks: &BlinkReport) -> ChallengeCheck {
    let first_start = windows.first().map_or(0.0, |w| w.start_s);
    let neutral = neutral(poses, first_start);
    let steps: Vec<StepResult> = windows
        .iter()
        .map(|w| {
            let inside: Vec<&Pose> = poses
                .iter()
                .filter(|p| p.time_s >= w.start_s && p.time_s <= w.end_s)
                .collect();
            if w.step == Step::Blink {
                let seen = blinks
                    .blinks
                    .iter()
                    .find(|b| b.start_s >= w.start_s && b.start_s <= w.end_s)
                    .map(|b| b.start_s);
                return StepResult {
                    window: *w,
                    passed: seen.is_some(),
                    seen_at_s: seen,
                    peak: if seen.is_some() { 1.0 } else { 0.0 },
                    frames: inside.len(),
                };
            }
            let Some(n) = &neutral else {
                return StepResult {
                    window: *w,
                    passed: false,
                    seen_at_s: None,
                    peak: 0.0,
                    frames: inside.len(),
                };
            };
            let mut peak = f32::NEG_INFINITY;
            let mut seen = None;
            for p in &inside {
                let Some((m, threshold)) = movement(w.step, p, n) else {
                    continue;
                };
                peak = peak.max(m);
                if seen.is_none() && m >= threshold {
                    seen = Some(p.time_s);
                }
            }
            StepResult {
                window: *w,
                passed: seen.is_some(),
                seen_at_s: seen,
                peak: if peak.is_finite() { peak } else { 0.0 },
                frames: inside.len(),
            }
        })
        .collect();
    ChallengeCheck {
        passed: !steps.is_empty() && steps.iter().all(|s| s.passed),
        steps,
        neutral,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blink::Blink;

    /// A head that looks ahead, then follows `script` (start, end, yaw, pitch, scale) at 5 fps.
    fn series(script: &[(f64, f64, f32, f32, f32)], until: f64) -> Vec<Pose> {
        let mut out = Vec::new();
        let mut t = 0.0;
        while t <= until {
            let (yaw, pitch, scale) = script
                .iter()
                .find(|(a, b, ..)| t >= *a && t <= *b)
                .map_or((0.02, 0.6, 200.0), |(_, _, y, p, s)| (*y, *p, *s));
            out.push(Pose {
                time_s: t,
                yaw,
                pitch,
                scale,
            });
            t += 0.2;
        }
        out
    }

    fn windows(steps: &[Step]) -> Vec<StepWindow> {
        steps
            .iter()
            .enumerate()
            .map(|(i, s)| StepWindow {
                step: *s,
                start_s: 1.0 + 2.0 * i as f64,
                end_s: 3.0 + 2.0 * i as f64,
            })
            .collect()
    }

    fn blinks_at(times: &[f64]) -> BlinkReport {
        BlinkReport {
            blinks: times
                .iter()
                .map(|t| Blink {
                    start_s: *t,
                    end_s: t + 0.2,
                    min_ear: 0.1,
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn steps_done_in_order_inside_their_windows_pass() {
        // Turn left at 1.4-2.4 s, look up at 3.6-4.4 s, blink at 5.5 s.
        let poses = series(
            &[(1.4, 2.4, 0.6, 0.6, 200.0), (3.6, 4.4, 0.02, 0.2, 200.0)],
            7.0,
        );
        let c = check(
            &windows(&[Step::TurnLeft, Step::LookUp, Step::Blink]),
            &poses,
            &blinks_at(&[5.5]),
        );
        assert!(c.passed, "{c:#?}");
        assert!(c.steps[0].peak > 0.5 && c.steps[1].peak > 0.3);
    }

    #[test]
    fn the_opposite_direction_fails() {
        let poses = series(&[(1.4, 2.4, 0.6, 0.6, 200.0)], 4.0);
        let c = check(&windows(&[Step::TurnRight]), &poses, &blinks_at(&[]));
        assert!(!c.passed);
        assert!(c.steps[0].peak <= 0.0, "{c:#?}");
    }

    #[test]
    fn steps_out_of_order_or_too_late_fail() {
        // The person looks up first and turns afterwards: both happen, each in the wrong window.
        let poses = series(
            &[(1.4, 2.4, 0.02, 0.2, 200.0), (3.6, 4.4, 0.6, 0.6, 200.0)],
            6.0,
        );
        let c = check(
            &windows(&[Step::TurnLeft, Step::LookUp]),
            &poses,
            &blinks_at(&[]),
        );
        assert!(!c.passed);
        assert!(!c.steps[0].passed && !c.steps[1].passed, "{c:#?}");
        // A blink after its window closed does not count.
        let c = check(&windows(&[Step::Blink]), &poses, &blinks_at(&[3.5]));
        assert!(!c.passed);
    }

    #[test]
    fn a_still_head_or_no_face_passes_nothing() {
        let still = series(&[], 9.0);
        let all = windows(&[Step::TurnLeft, Step::LookDown, Step::MoveCloser]);
        let c = check(&all, &still, &blinks_at(&[]));
        assert!(c.steps.iter().all(|s| !s.passed), "{c:#?}");
        let c = check(&all, &[], &blinks_at(&[]));
        assert!(!c.passed && c.neutral.is_none());
    }

    #[test]
    fn moving_closer_is_a_growing_face() {
        let poses = series(&[(1.5, 2.5, 0.02, 0.6, 260.0)], 4.0);
        assert!(check(&windows(&[Step::MoveCloser]), &poses, &blinks_at(&[])).passed);
    }

    #[test]
    fn plans_have_two_to_four_steps_never_twice_in_a_row() {
        let mut state = 7u64;
        let mut draw = |n: usize| {
            // A fixed LCG: the test needs variety, not secrecy.
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as usize) % n
        };
        let mut lengths = std::collections::BTreeSet::new();
        for _ in 0..200 {
            let p = plan(&mut draw);
            lengths.insert(p.len());
            assert!((2..=4).contains(&p.len()));
            for pair in p.windows(2) {
                assert_ne!(pair[0].step, pair[1].step);
                assert!((pair[1].start_s - pair[0].end_s).abs() < 1e-9);
            }
        }
        assert_eq!(lengths.len(), 3, "{lengths:?}");
    }
}
