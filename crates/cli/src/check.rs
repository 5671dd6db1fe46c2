//! `livegate check`: the API's JSON for local files, without a server.

use liveness::{Analyse, AnalysisOptions, AnalysisRequest};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct CheckArgs {
    /// The still selfie.
    #[arg(long)]
    image: Option<PathBuf>,
    /// The selfie video.
    #[arg(long)]
    video: Option<PathBuf>,
    /// Add the `details` evidence.
    #[arg(long)]
    details: bool,
    /// `False` for the legacy path (still PAD + blink).
    #[arg(long, default_value_t = AnalysisOptions::default().enhanced_detection.to_string())]
    enhanced_detection: String,
    /// Image+video: video frames compared with the still (≥ 1; above 50 served at 50).
    #[arg(long, default_value_t = AnalysisOptions::default().facematch_frames.to_string())]
    facematch_frames: String,
    /// Image+video: fraction of the compared frames that must match the still (0..=1).
    #[arg(long, default_value_t = AnalysisOptions::default().facematch_threshold.to_string())]
    facematch_threshold: String,
    /// Enhanced video: analyse every Nth frame (≥ 1; above 1000 served at 1000).
    #[arg(long, default_value_t = AnalysisOptions::default().frame_sampling_rate.to_string())]
    frame_sampling_rate: String,
    /// Enhanced video: at most this many frames analysed (≥ 1; above 300 served at 300).
    #[arg(long, default_value_t = AnalysisOptions::default().max_frames_to_analyze.to_string())]
    max_frames_to_analyze: String,
}

pub fn run(args: CheckArgs) -> anyhow::Result<()> {
    if args.image.is_none() && args.video.is_none() {
        anyhow::bail!("give --image, --video or both");
    }
    let fields = [
        ("enhanced_detection", args.enhanced_detection.as_str()),
        ("facematch_frames", args.facematch_frames.as_str()),
        ("facematch_threshold", args.facematch_threshold.as_str()),
        ("frame_sampling_rate", args.frame_sampling_rate.as_str()),
        ("max_frames_to_analyze", args.max_frames_to_analyze.as_str()),
    ];
    let mut options =
        AnalysisOptions::from_fields(|k| fields.iter().find(|(n, _)| *n == k).map(|(_, v)| *v))
            .map_err(|errs| {
                let list: Vec<String> = errs
                    .iter()
                    .map(|e| format!("--{}: {}", e.field.replace('_', "-"), e.message))
                    .collect();
                anyhow::anyhow!("invalid options:\n  {}", list.join("\n  "))
            })?;
    options.details = args.details;
    // The API's X-Livegate-Capped-Fields: a work size above its cap is served at the cap.
    let capped = AnalysisOptions::capped(|k| fields.iter().find(|(n, _)| *n == k).map(|(_, v)| *v));
    if !capped.is_empty() {
        eprintln!("capped: {}", capped.join(", "));
    }
    let read = |p: &Option<PathBuf>, limit: usize, what: &str| {
        p.as_ref()
            .map(|p| crate::read_media::read_at_most(p, limit, what))
            .transpose()
    };
    let request = AnalysisRequest {
        image: read(
            &args.image,
            media::StillLimits::default().max_bytes,
            "image",
        )?,
        video: read(
            &args.video,
            media::VideoLimits::default().max_bytes,
            "video",
        )?,
        options,
        challenge: None,
    };
    let analyzer = livegate::load::analyzer()?;
    let analysis = analyzer
        .analyse(&request)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let report = liveness::LivenessReport::from(&analysis);
    println!("{}", serde_json::to_string_pretty(&report)?);
    // The API's X-Livegate-Reason: a rule, not a score, made the verdict fake. Stdout stays the
    // contract's JSON alone.
    if let Some(reason) = analysis.reason {
        eprintln!("reason: {}", reason.as_str());
    }
    Ok(())
}
