//! Videos through FFmpeg (Debian's libav* 5.1 via `ffmpeg-next`): MP4/MOV (H.264, HEVC),
//! WebM/Matroska (VP8, VP9, AV1), AVI (MPEG-4 part 2).
//!
//! Shape of the work, as measured (see the team's shared `stack-notes.md`): decode every
//! frame straight through (seeking to every Nth frame is slower unless GOPs are tiny, and
//! frames must be counted anyway) on a thread of its own, and colour-convert + scale only the
//! frames a stream asks for, on the caller's thread. Once no stream needs more frames, stop
//! decoding and count the remaining packets (one packet is one frame in these containers), so
//! a long video with a small sample cap is cheap.
//!
//! Hostile input: the bytes never touch the disk (custom AVIO over memory); only the `mov`,
//! `matroska` and `avi` demuxers may open them (no playlist demuxer can reach for other files or
//! URLs); only a short list of codecs is decoded; frame size, frame count and duration are
//! checked against [`VideoLimits`]; a deadline is polled by FFmpeg's interrupt callback inside
//! the demuxer and by the decode loop, so nothing runs past [`VideoLimits::time_budget`].
//! FFmpeg's own logging is silenced.

use std::ops::ControlFlow;
use std::sync::{Once, mpsc};
use std::time::{Duration, Instant};

use ff::codec::Id;
use ff::format::context::Input;
use ffmpeg_next as ff;
use image::{GrayImage, RgbImage};
use serde::Serialize;

use crate::MediaError;
use crate::resize::fit_long_side;
use crate::skip::NonRefSkip;
use crate::sniff::{Container, Kind, StillFormat, sniff};

/// Hard limits for one video.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoLimits {
    /// Size of the encoded file.
    pub max_bytes: usize,
    /// Frames counted (decoded or demuxed); past this the video is refused as too long.
    pub max_frames: u64,
    /// Duration announced by the header; a longer video is refused before decoding.
    pub max_duration_s: f64,
    /// Width × height of one coded frame.
    pub max_pixels_per_frame: u64,
    /// Wall-clock time for the whole call, opening included.
    pub time_budget: Duration,
}

impl Default for VideoLimits {
    /// 100 MiB, 3600 frames, 60 s, 4K UHD (3840×2160) frames, 20 s of decoding.
    fn default() -> Self {
        Self {
            max_bytes: 100 * 1024 * 1024,
            max_frames: 3600,
            max_duration_s: 60.0,
            max_pixels_per_frame: 3840 * 2160,
            time_budget: Duration::from_secs(20),
        }
    }
}

/// Which frames to deliver and how.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoPlan {
    /// The sampled stream: frames 0, N, 2N, … (N ≥ 1; 0 is taken as 1).
    pub every_nth: u32,
    /// Cap on frames in the sampled stream.
    pub max_sampled: u32,
    /// A second, denser stream (frames 0, D, 2D, …) for stages that need temporal detail,
    /// such as blink detection. Not capped; the callback can stop it with `Break`.
    pub dense_every: Option<u32>,
    /// A dense stream at about this many frames a second instead: the step is rounded from the
    /// stream's declared frame rate (every 2nd frame when it declares none). Overrides
    /// `dense_every`.
    pub dense_fps: Option<f64>,
    /// Scale delivered frames so their long side is at most this (never upscales; 0 = no
    /// scaling).
    pub max_long_side: u32,
    /// Decoder threads: 0 = one per core (FFmpeg's "auto"), 1 = single-threaded.
    pub decode_threads: u32,
    /// Decode H.264 without its in-loop deblocking filter (FFmpeg's `skip_loop_filter`): about
    /// a quarter less decoding work, for frames that drift from the encoder's by a few dB PSNR
    /// until the next keyframe (blockier edges, same content). Other codecs are unaffected.
    pub skip_h264_deblocking: bool,
    /// Deliver frames that are only in the dense stream as luma (8-bit grey) rather than RGB:
    /// cheaper to convert and to hold, for stages that follow brightness only. Frames of the
    /// sampled stream are always RGB.
    pub dense_luma: bool,
    /// Sampled frames that only need a smaller colour picture; `None`: every sampled frame at
    /// `max_long_side`.
    pub reduced: Option<ReducedSampling>,
    pub limits: VideoLimits,
}

/// Which sampled frames come at full size: the sampled stream's frames 0, `full_every`,
/// 2·`full_every`, …, the first `full_max` of those; the others come as
/// [`FrameImage::Reduced`], their colour at `long_side`. For a stage that reads more frames
/// than the rest of the analysis but needs less of each (a face's position, not its texture):
/// colour conversion is the per-frame cost it can save.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReducedSampling {
    pub full_every: u32,
    pub full_max: u32,
    pub long_side: u32,
}

impl ReducedSampling {
    /// Whether the sampled frame at `slot` (its position in the sampled stream) is full-size.
    pub fn full(&self, slot: u64) -> bool {
        let every = self.full_every.max(1) as u64;
        slot.is_multiple_of(every) && slot / every < self.full_max as u64
    }
}

impl Default for VideoPlan {
    /// Every 15th frame, at most 20, no dense stream, 1280 px, automatic threads, full
    /// decoding.
    fn default() -> Self {
        Self {
            every_nth: 15,
            max_sampled: 20,
            dense_every: None,
            dense_fps: None,
            max_long_side: 1280,
            decode_threads: 0,
            skip_h264_deblocking: false,
            dense_luma: false,
            reduced: None,
            limits: VideoLimits::default(),
        }
    }
}

/// One delivered frame.
#[derive(Debug, Clone)]
pub struct SampledFrame {
    /// Position among all decoded frames, from 0, in display order.
    pub index: u64,
    /// Presentation time relative to the first frame, seconds.
    pub time_s: f64,
    /// Rotation applied, scaled to the plan's `max_long_side`.
    pub image: FrameImage,
    /// In the every-Nth stream.
    pub sampled: bool,
    /// In the dense stream.
    pub dense: bool,
}

/// A delivered frame's pixels. Under [`VideoPlan::dense_luma`] dense-only frames are luma
/// and sampled frames carry both, so every frame's luma is the same decoded Y plane (an RGB →
/// grey conversion would weigh the colours differently).
#[derive(Debug, Clone)]
pub enum FrameImage {
    Rgb(RgbImage),
    Luma(GrayImage),
    Both {
        rgb: RgbImage,
        luma: GrayImage,
    },
    /// A sampled frame outside [`VideoPlan::reduced`]'s full-size ones: colour at the reduced
    /// size; `full` is the size the plan's other frames come at (what coordinates found in
    /// `rgb` scale to); the full-size luma when the frame is also in the dense stream.
    Reduced {
        rgb: RgbImage,
        full: (u32, u32),
        luma: Option<GrayImage>,
    },
}

impl FrameImage {
    /// The frame's size in the plan's scale (a reduced frame's full size).
    pub fn dimensions(&self) -> (u32, u32) {
        match self {
            FrameImage::Rgb(i) | FrameImage::Both { rgb: i, .. } => i.dimensions(),
            FrameImage::Luma(i) => i.dimensions(),
            FrameImage::Reduced { full, .. } => *full,
        }
    }

    /// The colour picture (smaller than [`FrameImage::dimensions`] for a reduced frame).
    pub fn rgb(&self) -> Option<&RgbImage> {
        match self {
            FrameImage::Rgb(i) | FrameImage::Both { rgb: i, .. } => Some(i),
            FrameImage::Reduced { rgb, .. } => Some(rgb),
            FrameImage::Luma(_) => None,
        }
    }

    /// The luma plane; converted from RGB (Rec. 709 weights) when the frame has no other
    /// (a reduced frame's at its reduced size).
    pub fn luma(&self) -> std::borrow::Cow<'_, GrayImage> {
        match self {
            FrameImage::Rgb(i)
            | FrameImage::Reduced {
                rgb: i, luma: None, ..
            } => std::borrow::Cow::Owned(image::imageops::grayscale(i)),
            FrameImage::Luma(i)
            | FrameImage::Both { luma: i, .. }
            | FrameImage::Reduced { luma: Some(i), .. } => std::borrow::Cow::Borrowed(i),
        }
    }
}

/// What the video is.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VideoInfo {
    /// `mp4`, `mov`, `webm`, `matroska` or `avi`: from the bytes, not the name.
    pub container: String,
    /// FFmpeg's codec name: `h264`, `hevc`, `vp8`, `vp9`, `av1`, `mpeg4`.
    pub codec: String,
    /// Codec profile when the stream declares one (`High`, `Main`, `Constrained Baseline`, …).
    pub profile: Option<String>,
    /// Displayed size: after rotation.
    pub width: u32,
    pub height: u32,
    /// Size as coded in the stream, before rotation.
    pub coded_width: u32,
    pub coded_height: u32,
    /// Rotation from the display matrix, degrees counter-clockwise as ffprobe prints it
    /// (0, 90, -90 or 180; a phone held upright usually records -90). Already applied to
    /// delivered frames.
    pub rotation: i32,
    /// Average frame rate measured from the timestamps, else the header's.
    pub fps: f64,
    /// The video stream's duration from the header, else measured from timestamps
    /// (MediaRecorder WebM files have none in the header). `None` when neither is known.
    pub duration_s: Option<f64>,
    /// Frames in the video: decoded, or demuxed packets once nothing needed decoding any more.
    pub total_frames: u64,
    /// Frames actually decoded.
    pub frames_decoded: u64,
    /// Packets the decoder rejected (tolerated while they are few).
    pub decode_errors: u64,
}

/// Decodes the whole video (frames are counted) and calls `on_frame` for each frame in either
/// stream, in order. `Break` from the callback ends delivery; counting goes on, cheaply.
///
/// Decoding runs on a thread of its own and hands the wanted frames over as decoded; scaling
/// and colour conversion run on the calling thread, with the callback. A single-threaded
/// decoder (`decode_threads: 1`) then keeps one core to itself while conversion and the
/// caller's analysis share the other (pipeline bench: `docs/performance.md`).
pub fn decode_video(
    bytes: &[u8],
    plan: &VideoPlan,
    on_frame: &mut dyn FnMut(SampledFrame) -> ControlFlow<()>,
) -> Result<VideoInfo, MediaError> {
    let session = Session::open(bytes, plan)?;
    // The decoder's pictures live in FFmpeg's allocations, out of sight of any Rust bound:
    // held against the process's decode budget, a few 4K videos at once queue as huge stills do.
    let (w, h) = session.coded;
    let _memory = crate::budget::reserve(u64::from(w) * u64::from(h) * DECODER_BYTES_PER_PIXEL);
    let mut conv = Converter::new(plan.max_long_side, session.rotation);
    let (tx, rx) = mpsc::sync_channel::<Decoded>(CONVERT_QUEUE);
    std::thread::scope(|scope| {
        let decoding = scope.spawn(move || {
            session.run(plan, &mut |frame| match tx.send(frame) {
                Ok(()) => ControlFlow::Continue(()),
                // Delivery ended (the callback's `Break`, or a conversion failed).
                Err(_) => ControlFlow::Break(()),
            })
        });
        let mut failed = None;
        for decoded in rx.iter() {
            match decoded.convert(&mut conv, plan.dense_luma) {
                Ok(frame) => {
                    if on_frame(frame).is_break() {
                        break;
                    }
                }
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        // The decoder sees the closed channel and goes on counting only.
        drop(rx);
        let info = decoding
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        match failed {
            Some(e) => Err(e),
            None => info,
        }
    })
}

/// Decoded frames waiting for conversion: a few, to ride out a slow callback without holding
/// many full-size pictures (a 4K frame is 12 MB decoded).
const CONVERT_QUEUE: usize = 3;

/// What decoding a video holds per pixel of its coded frame: reference pictures, the frames
/// queued for conversion and their converted copies. Measured (2026-12-08, `livegate check`
/// peak RSS): a 2160×3840 H.264 selfie took 120 MB more than the same video at 368×656, about
/// 14.5 bytes a pixel, or ten 4:2:0 frames.
const DECODER_BYTES_PER_PIXEL: u64 = 15;

/// A frame one of the streams wants, as decoded (before scaling and colour conversion).
struct Decoded {
    frame: ff::frame::Video,
    index: u64,
    time_s: f64,
    sampled: bool,
    dense: bool,
    /// Set for a sampled frame that comes reduced.
    reduced: Option<ReducedSampling>,
}

impl Decoded {
    fn convert(self, conv: &mut Converter, dense_luma: bool) -> Result<SampledFrame, MediaError> {
        let Decoded {
            frame,
            index,
            time_s,
            sampled,
            dense,
            reduced,
        } = self;
        let image = match (sampled, dense_luma) {
            _ if reduced.is_some() => FrameImage::Reduced {
                rgb: conv.convert_at(&frame, reduced.map_or(0, |r| r.long_side))?,
                full: conv.size(&frame),
                luma: dense.then(|| conv.convert_luma(&frame)).transpose()?,
            },
            (false, true) => FrameImage::Luma(conv.convert_luma(&frame)?),
            (true, true) => FrameImage::Both {
                rgb: conv.convert(&frame)?,
                luma: conv.convert_luma(&frame)?,
            },
            (_, false) => FrameImage::Rgb(conv.convert(&frame)?),
        };
        Ok(SampledFrame {
            index,
            time_s,
            image,
            sampled,
            dense,
        })
    }
}

/// Reads the header, decodes the first frame (so a file that cannot be decoded is reported
/// here) and counts the frames by demuxing, without decoding the rest. Default limits.
pub fn probe_video(bytes: &[u8]) -> Result<VideoInfo, MediaError> {
    probe_video_with(bytes, &VideoLimits::default())
}

/// [`probe_video`] with explicit limits (a diagnostic tool may allow longer videos).
pub fn probe_video_with(bytes: &[u8], limits: &VideoLimits) -> Result<VideoInfo, MediaError> {
    let plan = VideoPlan {
        every_nth: 1,
        max_sampled: 0,
        dense_every: None,
        dense_fps: None,
        decode_threads: 1,
        skip_h264_deblocking: false,
        max_long_side: 0,
        dense_luma: false,
        reduced: None,
        limits: *limits,
    };
    Session::open(bytes, &plan)?.run(&plan, &mut |_| ControlFlow::Continue(()))
}

/// Codecs decoded. Anything else in a supported container is refused by name.
const CODECS: &[Id] = &[Id::H264, Id::HEVC, Id::VP8, Id::VP9, Id::AV1, Id::MPEG4];
/// Demuxers allowed to parse the bytes (FFmpeg matches these against its demuxer name lists).
const DEMUXERS: &str = "mov,matroska,avi";
/// Consecutive unreadable packets after which the file is declared corrupt.
const MAX_BAD_PACKETS_IN_A_ROW: u32 = 1000;

fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = ff::init();
        ff::util::log::set_level(ff::util::log::Level::Quiet);
    });
}

/// An opened input with its chosen video stream and decoder.
struct Session {
    input: Input,
    decoder: ff::decoder::Video,
    container: Container,
    stream_index: usize,
    time_base: f64,
    /// The header's average frame rate and FFmpeg's guess of the base rate.
    header_fps: (Option<f64>, Option<f64>),
    header_frames: u64,
    stream_duration_s: Option<f64>,
    rotation: i32,
    codec: String,
    profile: Option<String>,
    coded: (u32, u32),
    limits: VideoLimits,
    deadline: Instant,
    /// Leaves unwanted non-reference pictures out of the decoder (H.264 only).
    skip: Option<NonRefSkip>,
}

impl Session {
    fn open(bytes: &[u8], plan: &VideoPlan) -> Result<Self, MediaError> {
        let limits = &plan.limits;
        let started = Instant::now();
        if bytes.is_empty() {
            return Err(MediaError::Empty { what: "video" });
        }
        if bytes.len() > limits.max_bytes {
            return Err(MediaError::TooLarge {
                what: "video",
                size: bytes.len(),
                limit: limits.max_bytes,
            });
        }
        let container = match sniff(bytes) {
            Kind::Video(c) => c,
            // An animated GIF moves, but it is not a camera's recording: named as a format,
            // not called a still.
            Kind::Still(StillFormat::Gif) => {
                return Err(MediaError::UnsupportedFormat(
                    "GIF is not a supported video format (MP4, MOV, WebM, Matroska or AVI are)"
                        .into(),
                ));
            }
            Kind::Still(f) => {
                return Err(MediaError::UnsupportedFormat(format!(
                    "{f} is a still image, not a video"
                )));
            }
            Kind::Other(n) => {
                return Err(MediaError::UnsupportedFormat(format!(
                    "{n} is not a supported video format"
                )));
            }
            Kind::Unknown => {
                return Err(MediaError::UnsupportedFormat(
                    "unrecognised video data (expected MP4, MOV, WebM, Matroska or AVI)".into(),
                ));
            }
        };
        if matches!(container, Container::WebM | Container::Matroska)
            && let Some(end) = crate::ebml::declared_end(bytes)
            && end > bytes.len() as u64
        {
            return Err(MediaError::Corrupt(format!(
                "truncated {container}: the header gives the file {end} bytes, only {} arrived",
                bytes.len()
            )));
        }
        init();
        let deadline = started + limits.time_budget;
        let input = open_input(bytes, container, deadline)?;

        let (
            stream_index,
            params,
            time_base,
            header_fps,
            header_frames,
            stream_duration_s,
            rotation,
        ) = {
            let stream = input
                .streams()
                .best(ff::media::Type::Video)
                .filter(|s| {
                    !s.disposition()
                        .contains(ff::format::stream::Disposition::ATTACHED_PIC)
                })
                .ok_or(MediaError::NoVideoStream)?;
            let tb = f64::from(stream.time_base());
            let valid = |r: ff::Rational| {
                let f = f64::from(r);
                (f.is_finite() && f > 0.0 && f <= 1000.0).then_some(f)
            };
            let fps = (valid(stream.avg_frame_rate()), valid(stream.rate()));
            let dur = (stream.duration() > 0 && tb > 0.0).then(|| stream.duration() as f64 * tb);
            (
                stream.index(),
                stream.parameters(),
                tb,
                fps,
                stream.frames().max(0) as u64,
                dur,
                display_rotation(&stream),
            )
        };
        let id = params.id();
        if !CODECS.contains(&id) {
            return Err(MediaError::UnsupportedFormat(format!(
                "video codec {} in {container}",
                id.name()
            )));
        }
        // SAFETY: `params` borrows the stream's codec parameters, which `input` owns and keeps
        // alive for this whole function; the field reads copy plain integers.
        let raw_profile = unsafe { (*params.as_ptr()).profile };
        // SAFETY: as above; FFmpeg guarantees `extradata` points to `extradata_size` readable
        // bytes when non-null, and the slice is copied before `params` goes away.
        let extradata = unsafe {
            let p = params.as_ptr();
            match ((*p).extradata, usize::try_from((*p).extradata_size)) {
                (data, Ok(len)) if !data.is_null() && len > 0 => {
                    std::slice::from_raw_parts(data, len).to_vec()
                }
                _ => Vec::new(),
            }
        };
        let skip = NonRefSkip::for_stream(id == Id::H264, &extradata);
        let profile = profile_name(id, raw_profile);
        if let Some(d) = stream_duration_s.or_else(|| container_duration(&input))
            && d > limits.max_duration_s
        {
            return Err(MediaError::TooLong(format!(
                "{d:.1} s, over the limit of {} s",
                limits.max_duration_s
            )));
        }

        let mut ctx = ff::codec::context::Context::from_parameters(params)
            .map_err(|e| MediaError::Corrupt(format!("{container}: codec parameters: {e}")))?;
        ctx.set_threading(ff::codec::threading::Config {
            kind: ff::codec::threading::Type::Frame,
            count: plan.decode_threads as usize,
            ..Default::default()
        });
        if plan.skip_h264_deblocking && id == Id::H264 {
            // SAFETY: `ctx` owns a valid, not yet opened codec context; the decoder reads this
            // plain enum field when it opens and at every slice.
            unsafe { (*ctx.as_mut_ptr()).skip_loop_filter = ff::ffi::AVDiscard::AVDISCARD_ALL };
        }
        let decoder = ctx.decoder().video().map_err(|e| match e {
            ff::Error::DecoderNotFound => {
                MediaError::UnsupportedFormat(format!("no decoder for video codec {}", id.name()))
            }
            e => MediaError::Corrupt(format!(
                "{container}: cannot open the {} decoder: {e}",
                id.name()
            )),
        })?;
        let coded = (decoder.width(), decoder.height());
        check_frame_size(coded.0, coded.1, limits)?;
        Ok(Self {
            input,
            decoder,
            container,
            stream_index,
            time_base,
            header_fps,
            header_frames,
            stream_duration_s,
            rotation,
            codec: id.name().to_string(),
            profile,
            coded,
            limits: *limits,
            deadline,
            skip,
        })
    }

    fn run(
        mut self,
        plan: &VideoPlan,
        on_frame: &mut dyn FnMut(Decoded) -> ControlFlow<()>,
    ) -> Result<VideoInfo, MediaError> {
        let resolved;
        let plan = match plan.dense_fps {
            Some(target) if target > 0.0 => {
                let fps = self.fps_hint();
                let step = if fps > 0.0 {
                    (fps / target).round().clamp(1.0, 1e6) as u32
                } else {
                    2
                };
                resolved = VideoPlan {
                    dense_every: Some(step),
                    ..*plan
                };
                &resolved
            }
            _ => plan,
        };
        let mut st = Progress::new(plan);
        let mut packet = ff::Packet::empty();
        let mut frame = ff::frame::Video::empty();
        let mut bad_in_a_row = 0u32;
        let mut read_error = None;
        loop {
            self.check_deadline("reading the video")?;
            match packet.read(&mut self.input) {
                Ok(()) => bad_in_a_row = 0,
                Err(ff::Error::Eof) => break,
                Err(ff::Error::Exit) => return Err(self.over_budget("reading the video")),
                Err(ff::Error::InvalidData) => {
                    bad_in_a_row += 1;
                    st.decode_errors += 1;
                    if bad_in_a_row > MAX_BAD_PACKETS_IN_A_ROW {
                        return Err(MediaError::Corrupt(format!(
                            "{}: unreadable data",
                            self.container
                        )));
                    }
                    continue;
                }
                Err(e) => {
                    read_error = Some(e);
                    break;
                }
            }
            if packet.stream() != self.stream_index {
                continue;
            }
            // `Packet::flags()` truncates to the flags ffmpeg-next names; DISCARD is not one.
            // SAFETY: `packet` is a live, owned AVPacket for this loop iteration; reading its
            // integer `flags` field has no other requirement.
            let discard = unsafe { (*ff::packet::Ref::as_ptr(&packet)).flags }
                & ff::ffi::AV_PKT_FLAG_DISCARD
                != 0;
            st.on_packet(packet.pts(), discard);
            if st.packets > self.limits.max_frames {
                return Err(self.too_many_frames(st.packets));
            }
            if st.counting_only {
                continue;
            }
            // A non-reference picture no stream needs stays out of the decoder: not sampled,
            // and the dense stream has a decoded frame within its step before it (so its
            // frames stay at most two steps apart).
            if let Some(skip) = self.skip.as_mut().filter(|_| !discard)
                && let Some(index) = skip.note(packet.pts())
            {
                let dense_covered = st
                    .dense_every
                    .is_none_or(|d| skip.decoded_within(index, d.saturating_sub(1)));
                if !st.wants_sampled(index)
                    && dense_covered
                    && skip.is_non_reference(packet.data().unwrap_or_default())
                {
                    skip.skipped += 1;
                    continue;
                }
                skip.mark_decoded(index);
            }
            if self.decoder.send_packet(&packet).is_err() {
                st.decode_errors += 1;
            }
            self.drain(&mut frame, &mut st, on_frame)?;
        }
        if !st.counting_only {
            let _ = self.decoder.send_eof();
            self.drain(&mut frame, &mut st, on_frame)?;
        }
        self.finish(st, read_error)
    }

    /// Receives every frame the decoder has ready.
    fn drain(
        &mut self,
        frame: &mut ff::frame::Video,
        st: &mut Progress,
        on_frame: &mut dyn FnMut(Decoded) -> ControlFlow<()>,
    ) -> Result<(), MediaError> {
        while !st.counting_only && self.decoder.receive_frame(frame).is_ok() {
            self.check_deadline("decoding the video")?;
            check_frame_size(frame.width(), frame.height(), &self.limits)?;
            // Skipped pictures keep their place in the numbering.
            let index = match &self.skip {
                Some(s) if s.skipped > 0 => {
                    s.index_of(frame.pts()).unwrap_or(st.decoded + s.skipped)
                }
                _ => st.decoded,
            };
            st.decoded += 1;
            st.first_size.get_or_insert((frame.width(), frame.height()));
            if st.decoded > self.limits.max_frames {
                return Err(self.too_many_frames(st.decoded));
            }
            let ts = frame.timestamp().or(frame.pts());
            let first = *st.first_ts.get_or_insert(ts.unwrap_or(0));
            let (sampled, dense) = st.wanted(index);
            if sampled || dense {
                let time_s = match ts {
                    Some(t) if self.time_base > 0.0 => (t - first) as f64 * self.time_base,
                    _ if self.fps_hint() > 0.0 => index as f64 / self.fps_hint(),
                    _ => 0.0,
                };
                let reduced = st.reduced.filter(|r| sampled && !r.full(st.sampled));
                if sampled {
                    st.sampled += 1;
                }
                if dense {
                    st.took_dense(index);
                }
                // The picture goes as decoded (its buffers are reference-counted); the
                // decoder gets a fresh frame to fill.
                let frame = std::mem::replace(frame, ff::frame::Video::empty());
                if on_frame(Decoded {
                    frame,
                    index,
                    time_s,
                    sampled,
                    dense,
                    reduced,
                })
                .is_break()
                {
                    st.stopped = true;
                }
            }
            st.update_mode();
        }
        Ok(())
    }

    fn finish(self, st: Progress, read_error: Option<ff::Error>) -> Result<VideoInfo, MediaError> {
        let c = self.container;
        if st.packets_all == 0 {
            return Err(match read_error {
                Some(e) => MediaError::Corrupt(format!("{c}: no video data could be read: {e}")),
                None => MediaError::Corrupt(format!("{c}: the video stream has no frames")),
            });
        }
        if st.decoded == 0 {
            return Err(MediaError::Corrupt(format!(
                "{c}: no frame of the {} stream could be decoded",
                self.codec
            )));
        }
        if let Some(e) = read_error {
            return Err(MediaError::Corrupt(format!(
                "{c}: reading stopped after {} frames: {e}",
                st.packets
            )));
        }
        // MP4/MOV list every sample in the header: fewer on disk means the file was cut.
        if matches!(c, Container::Mp4 | Container::Mov)
            && self.header_frames > 0
            && st.packets_all < self.header_frames
        {
            return Err(MediaError::Corrupt(format!(
                "truncated {c}: the header lists {} frames, only {} are present",
                self.header_frames, st.packets_all
            )));
        }
        if !st.counting_only && st.decode_errors * 10 > st.packets.max(10) {
            return Err(MediaError::Corrupt(format!(
                "{c}: {} of {} packets could not be decoded",
                st.decode_errors, st.packets
            )));
        }
        let total_frames = if st.counting_only {
            st.packets
        } else {
            st.decoded + self.skip.as_ref().map_or(0, |s| s.skipped)
        };
        let measured_fps = match (st.min_pts, st.max_pts) {
            (Some(lo), Some(hi)) if hi > lo && st.packets >= 2 && self.time_base > 0.0 => {
                Some((st.packets - 1) as f64 / ((hi - lo) as f64 * self.time_base))
            }
            _ => None,
        };
        // MP4/MOV/AVI: the header's average (frames / duration); AVI timestamps have gaps
        // where frames were dropped. WebM/Matroska: measured over the whole file, since
        // MediaRecorder writes no rate and FFmpeg's estimate covers only the first seconds.
        let measured_fps = measured_fps.filter(|f| f.is_finite() && *f > 0.0);
        let (avg, base) = self.header_fps;
        let fps = match c {
            Container::WebM | Container::Matroska => measured_fps.or(avg),
            _ => avg.or(measured_fps),
        }
        .or(base)
        .unwrap_or(0.0);
        let measured_duration = match (st.min_pts, st.max_pts) {
            (Some(lo), Some(hi)) if hi >= lo && self.time_base > 0.0 && fps > 0.0 => {
                Some((hi - lo) as f64 * self.time_base + 1.0 / fps)
            }
            _ => None,
        };
        let duration_s = self
            .stream_duration_s
            .or(measured_duration)
            .or_else(|| container_duration(&self.input));
        let (cw, ch) = st.first_size.unwrap_or(self.coded);
        let (width, height) = if self.rotation.abs() == 90 {
            (ch, cw)
        } else {
            (cw, ch)
        };
        Ok(VideoInfo {
            container: c.as_str().to_string(),
            codec: self.codec,
            profile: self.profile,
            width,
            height,
            coded_width: cw,
            coded_height: ch,
            rotation: self.rotation,
            fps,
            duration_s,
            total_frames,
            frames_decoded: st.decoded,
            decode_errors: st.decode_errors,
        })
    }

    fn fps_hint(&self) -> f64 {
        self.header_fps.0.or(self.header_fps.1).unwrap_or(0.0)
    }

    fn check_deadline(&self, doing: &str) -> Result<(), MediaError> {
        if Instant::now() >= self.deadline {
            Err(self.over_budget(doing))
        } else {
            Ok(())
        }
    }

    fn over_budget(&self, doing: &str) -> MediaError {
        MediaError::BudgetExceeded(format!(
            "{doing} exceeded the budget of {:.1} s",
            self.limits.time_budget.as_secs_f64()
        ))
    }

    fn too_many_frames(&self, n: u64) -> MediaError {
        MediaError::TooLong(format!(
            "more than {} frames (counted {n})",
            self.limits.max_frames.min(n.saturating_sub(1))
        ))
    }
}

/// Frame counters and the decision of which frames go to which stream.
struct Progress {
    every_nth: u64,
    max_sampled: u64,
    dense_every: Option<u64>,
    /// The dense stream's next grid point (see [`Progress::wanted`]).
    next_dense: u64,
    reduced: Option<ReducedSampling>,
    /// Video packets demuxed, discarded ones included (to compare with the MP4 index).
    packets_all: u64,
    /// Video packets that show a frame (not flagged "discard" by an edit list).
    packets: u64,
    decoded: u64,
    sampled: u64,
    decode_errors: u64,
    stopped: bool,
    counting_only: bool,
    first_ts: Option<i64>,
    /// Size of the first decoded frame (some streams only declare it there).
    first_size: Option<(u32, u32)>,
    min_pts: Option<i64>,
    max_pts: Option<i64>,
}

impl Progress {
    fn new(plan: &VideoPlan) -> Self {
        Self {
            every_nth: plan.every_nth.max(1) as u64,
            max_sampled: plan.max_sampled as u64,
            dense_every: plan.dense_every.map(|d| d.max(1) as u64),
            next_dense: 0,
            reduced: plan.reduced,
            packets_all: 0,
            packets: 0,
            decoded: 0,
            sampled: 0,
            decode_errors: 0,
            stopped: false,
            counting_only: false,
            first_ts: None,
            first_size: None,
            min_pts: None,
            max_pts: None,
        }
    }

    fn on_packet(&mut self, pts: Option<i64>, discard: bool) {
        self.packets_all += 1;
        if discard {
            // Before an edit list's start: decoded for reference, never shown or counted.
            return;
        }
        self.packets += 1;
        if let Some(p) = pts {
            self.min_pts = Some(self.min_pts.map_or(p, |m| m.min(p)));
            self.max_pts = Some(self.max_pts.map_or(p, |m| m.max(p)));
        }
    }

    /// (in the sampled stream, in the dense stream) for the frame at `index`, in display
    /// order. The dense stream keeps to a grid of one frame every D: the first decoded frame
    /// from D/2 before each grid point on. With every frame decoded that is every Dth frame;
    /// where non-reference frames were left out it is the nearest decoded one, so the stream
    /// keeps its rate.
    fn wanted(&self, index: u64) -> (bool, bool) {
        if self.stopped {
            return (false, false);
        }
        let sampled = self.wants_sampled(index);
        let dense = self
            .dense_every
            .is_some_and(|d| index + d / 2 >= self.next_dense);
        (sampled, dense)
    }

    /// Moves the dense grid past a frame the dense stream took.
    fn took_dense(&mut self, index: u64) {
        let d = self.dense_every.unwrap_or(1);
        self.next_dense += d;
        while self.next_dense - (d / 2).min(self.next_dense) <= index {
            self.next_dense += d;
        }
    }

    fn wants_sampled(&self, index: u64) -> bool {
        !self.stopped && self.sampled < self.max_sampled && index.is_multiple_of(self.every_nth)
    }

    /// Once no stream can want another frame (and one frame proved the stream decodable),
    /// stop decoding and only count packets.
    fn update_mode(&mut self) {
        let sampled_done = self.sampled >= self.max_sampled;
        let dense_done = self.dense_every.is_none();
        if self.decoded > 0 && (self.stopped || (sampled_done && dense_done)) {
            self.counting_only = true;
        }
    }
}

/// Colour conversion + scaling (swscale) + rotation, for the frames that are delivered.
struct Converter {
    max_long_side: u32,
    rotation: i32,
    /// One scaler per output format and size in use (RGB, luma, reduced RGB), rebuilt when
    /// the input changes.
    scalers: Vec<(ScalerKey, ff::software::scaling::Context, ff::frame::Video)>,
}

#[derive(PartialEq, Eq, Clone, Copy)]
struct ScalerKey {
    format: ff::format::Pixel,
    w: u32,
    h: u32,
    space: ff::color::Space,
    range: ff::color::Range,
    out: ff::format::Pixel,
    long_side: u32,
}

impl Converter {
    fn new(max_long_side: u32, rotation: i32) -> Self {
        Self {
            max_long_side,
            rotation,
            scalers: Vec::with_capacity(3),
        }
    }

    fn convert(&mut self, frame: &ff::frame::Video) -> Result<RgbImage, MediaError> {
        self.convert_at(frame, self.max_long_side)
    }

    /// RGB with the long side at most `long_side` and the plan's `max_long_side` (0: no
    /// limit).
    fn convert_at(
        &mut self,
        frame: &ff::frame::Video,
        long_side: u32,
    ) -> Result<RgbImage, MediaError> {
        let long_side = match (self.max_long_side, long_side) {
            (0, l) | (l, 0) => l,
            (m, l) => m.min(l),
        };
        let (w, h, bytes) = self.scale(frame, ff::format::Pixel::RGB24, 3, long_side)?;
        let img = RgbImage::from_raw(w, h, bytes)
            .ok_or_else(|| MediaError::Internal("frame buffer size".into()))?;
        Ok(self.rotate(img))
    }

    /// The size [`Converter::convert`] delivers `frame` at, after rotation.
    fn size(&self, frame: &ff::frame::Video) -> (u32, u32) {
        let target = (self.max_long_side > 0).then_some(self.max_long_side);
        let (w, h) = fit_long_side(frame.width(), frame.height(), target);
        if self.rotation.abs() == 90 {
            (h, w)
        } else {
            (w, h)
        }
    }

    fn convert_luma(&mut self, frame: &ff::frame::Video) -> Result<GrayImage, MediaError> {
        if let Some(img) = self.box_luma(frame) {
            return Ok(self.rotate(img));
        }
        let (w, h, bytes) = self.scale(frame, ff::format::Pixel::GRAY8, 1, self.max_long_side)?;
        let img = GrayImage::from_raw(w, h, bytes)
            .ok_or_else(|| MediaError::Internal("frame buffer size".into()))?;
        Ok(self.rotate(img))
    }

    /// The Y plane averaged over k×k blocks, when the target size is the frame's divided by a
    /// whole k (720p → 640 is k = 2, 1080p → k = 3) and the format is 8-bit planar YUV:
    /// a quarter of swscale's cost for the same grey picture, limited range expanded to full.
    fn box_luma(&self, frame: &ff::frame::Video) -> Option<GrayImage> {
        use ff::format::Pixel as P;
        let full_range = match frame.format() {
            P::YUV420P | P::YUV422P | P::YUV444P | P::NV12 | P::NV21 => {
                frame.color_range() == ff::color::Range::JPEG
            }
            P::YUVJ420P | P::YUVJ422P | P::YUVJ444P => true,
            _ => return None,
        };
        let (w, h) = (frame.width() as usize, frame.height() as usize);
        let target = (self.max_long_side > 0).then_some(self.max_long_side);
        let (dw, dh) = fit_long_side(w as u32, h as u32, target);
        let (dw, dh) = (dw as usize, dh as usize);
        let k = w / dw.max(1);
        if k == 0 || k > 4 || dw * k != w || dh * k != h {
            return None;
        }
        let stride = frame.stride(0);
        let plane = frame.data(0);
        if plane.len() < stride * (h - 1) + w {
            return None;
        }
        // Block sum → 8-bit in fixed point (16 fractional bits): the mean of the k×k block,
        // limited range (16-235) stretched to full as swscale does for RGB. Sums stay within
        // 16 × 255 and the products within i32.
        let area = (k * k) as f64;
        let (scale, offset): (f64, f64) = if full_range {
            (1.0, 0.0)
        } else {
            (255.0 / 219.0, -16.0 * 255.0 / 219.0)
        };
        let mul = (65536.0 * scale / area).round() as i32;
        let add = (65536.0 * offset).round() as i32 + (1 << 15);
        let to_u8 = |sum: u16| ((sum as i32 * mul + add) >> 16).clamp(0, 255) as u8;
        // Rows summed into a u16 line, then k neighbours of it: plain slice loops.
        let mut out = vec![0u8; dw * dh];
        let mut acc = vec![0u16; w];
        for (oy, out_row) in out.chunks_exact_mut(dw).enumerate() {
            acc.fill(0);
            for row in 0..k {
                let line = &plane[(oy * k + row) * stride..][..w];
                for (a, &v) in acc.iter_mut().zip(line) {
                    *a += v as u16;
                }
            }
            match k {
                1 => out_row
                    .iter_mut()
                    .zip(&acc)
                    .for_each(|(o, &a)| *o = to_u8(a)),
                2 => out_row
                    .iter_mut()
                    .zip(acc.chunks_exact(2))
                    .for_each(|(o, c)| *o = to_u8(c[0] + c[1])),
                _ => out_row
                    .iter_mut()
                    .zip(acc.chunks_exact(k))
                    .for_each(|(o, c)| *o = to_u8(c.iter().sum())),
            }
        }
        GrayImage::from_raw(dw as u32, dh as u32, out)
    }

    fn rotate<P: image::Pixel + 'static>(
        &self,
        img: image::ImageBuffer<P, Vec<P::Subpixel>>,
    ) -> image::ImageBuffer<P, Vec<P::Subpixel>> {
        match self.rotation {
            90 => image::imageops::rotate270(&img),
            -90 => image::imageops::rotate90(&img),
            180 => image::imageops::rotate180(&img),
            _ => img,
        }
    }

    /// Scales into `out` (packed, `channels` bytes per pixel); returns the size and the rows
    /// without stride padding.
    fn scale(
        &mut self,
        frame: &ff::frame::Video,
        out: ff::format::Pixel,
        channels: usize,
        long_side: u32,
    ) -> Result<(u32, u32, Vec<u8>), MediaError> {
        let key = ScalerKey {
            format: frame.format(),
            w: frame.width(),
            h: frame.height(),
            space: frame.color_space(),
            range: frame.color_range(),
            out,
            long_side,
        };
        let target = (long_side > 0).then_some(long_side);
        let (dw, dh) = fit_long_side(key.w, key.h, target);
        let slot = match self
            .scalers
            .iter()
            .position(|(k, _, _)| k.out == out && k.long_side == long_side)
        {
            Some(i) if self.scalers[i].0 == key => i,
            found => {
                let mut ctx = ff::software::scaling::Context::get(
                    key.format,
                    key.w,
                    key.h,
                    out,
                    dw,
                    dh,
                    // Luma feeds only cheap trackers (see `VideoPlan::dense_luma`): swscale's fast
                    // path costs about half of its exact bilinear filter.
                    if out == ff::format::Pixel::GRAY8 {
                        ff::software::scaling::Flags::FAST_BILINEAR
                    } else {
                        ff::software::scaling::Flags::BILINEAR
                    },
                )
                .map_err(|e| {
                    MediaError::Corrupt(format!("cannot convert {:?} frames: {e}", key.format))
                })?;
                set_colorspace(&mut ctx, &key);
                let entry = (key, ctx, ff::frame::Video::empty());
                match found {
                    Some(i) => {
                        self.scalers[i] = entry;
                        i
                    }
                    None => {
                        self.scalers.push(entry);
                        self.scalers.len() - 1
                    }
                }
            }
        };
        let (_, ctx, scaled) = &mut self.scalers[slot];
        ctx.run(frame, scaled)
            .map_err(|e| MediaError::Corrupt(format!("frame conversion: {e}")))?;
        let stride = scaled.stride(0);
        let data = scaled.data(0);
        let row = dw as usize * channels;
        let mut bytes = Vec::with_capacity(row * dh as usize);
        for y in 0..dh as usize {
            bytes.extend_from_slice(&data[y * stride..y * stride + row]);
        }
        Ok((dw, dh, bytes))
    }
}

/// YUV→RGB with the matrix and range the stream declares (swscale assumes BT.601 limited
/// range otherwise). Unspecified HD streams are taken as BT.709, as browsers do.
fn set_colorspace(ctx: &mut ff::software::scaling::Context, key: &ScalerKey) {
    use ff::color::{Range, Space};
    use ff::ffi;
    let cs = match key.space {
        Space::BT709 => ffi::SWS_CS_ITU709,
        Space::FCC => ffi::SWS_CS_FCC,
        Space::SMPTE240M => ffi::SWS_CS_SMPTE240M,
        Space::BT2020NCL | Space::BT2020CL => ffi::SWS_CS_BT2020,
        Space::BT470BG | Space::SMPTE170M => ffi::SWS_CS_ITU601,
        _ if key.h >= 720 => ffi::SWS_CS_ITU709,
        _ => ffi::SWS_CS_ITU601,
    };
    let full_range_format = matches!(
        key.format,
        ff::format::Pixel::YUVJ420P
            | ff::format::Pixel::YUVJ422P
            | ff::format::Pixel::YUVJ444P
            | ff::format::Pixel::YUVJ440P
    );
    let src_full = (key.range == Range::JPEG || full_range_format) as i32;
    // SAFETY: `ctx` is a valid, exclusively borrowed SwsContext; `sws_getCoefficients` returns
    // a pointer to a static table FFmpeg owns, valid for the call.
    unsafe {
        let table = ffi::sws_getCoefficients(cs);
        // Returns -1 for RGB sources, where there is nothing to set: ignored.
        ffi::sws_setColorspaceDetails(
            ctx.as_mut_ptr(),
            table,
            src_full,
            table,
            1,
            0,
            1 << 16,
            1 << 16,
        );
    }
}

fn open_input(bytes: &[u8], container: Container, deadline: Instant) -> Result<Input, MediaError> {
    let io = ff::format::context::StreamIo::from_read_seek(std::io::Cursor::new(bytes.to_vec()))
        .map_err(|e| MediaError::Internal(format!("avio: {e}")))?;
    let mut opts = ff::Dictionary::new();
    opts.set("format_whitelist", DEMUXERS);
    opts.set("enable_drefs", "0");
    ff::format::input_from_stream_with_interrupt(io, None, Some(opts), move || {
        Instant::now() >= deadline
    })
    .map_err(|e| match e {
        ff::Error::Exit => {
            MediaError::BudgetExceeded("opening the video exceeded the time budget".into())
        }
        e => MediaError::Corrupt(format!(
            "the {container} file cannot be opened (truncated or damaged?): {e}"
        )),
    })
}

fn check_frame_size(w: u32, h: u32, limits: &VideoLimits) -> Result<(), MediaError> {
    if (w as u64) * (h as u64) > limits.max_pixels_per_frame {
        return Err(MediaError::TooManyPixels {
            what: "video frame",
            width: w,
            height: h,
            max_pixels: limits.max_pixels_per_frame,
            max_dimension: u32::MAX,
        });
    }
    Ok(())
}

fn container_duration(input: &Input) -> Option<f64> {
    let d = input.duration();
    (d > 0).then(|| d as f64 / f64::from(ff::ffi::AV_TIME_BASE))
}

/// The display matrix's rotation (ffprobe's convention: counter-clockwise degrees), snapped to
/// 0, 90, -90 or 180.
fn display_rotation(stream: &ff::format::stream::Stream) -> i32 {
    for sd in stream.side_data() {
        if sd.kind() != ff::codec::packet::side_data::Type::DisplayMatrix || sd.data().len() < 36 {
            continue;
        }
        let mut m = [0i32; 9];
        for (i, c) in sd.data()[..36].chunks_exact(4).enumerate() {
            m[i] = i32::from_ne_bytes([c[0], c[1], c[2], c[3]]);
        }
        // SAFETY: `m` is a local array of the 9 i32 the function reads.
        let theta = unsafe { ff::ffi::av_display_rotation_get(m.as_ptr()) };
        if !theta.is_finite() {
            return 0;
        }
        let snapped = ((theta / 90.0).round() as i32).rem_euclid(4);
        return match snapped {
            1 => 90,
            2 => 180,
            3 => -90,
            _ => 0,
        };
    }
    0
}

fn profile_name(id: Id, profile: i32) -> Option<String> {
    if profile < 0 {
        return None;
    }
    // SAFETY: a pure lookup by value; it returns null or a pointer to a static C string.
    let p = unsafe { ff::ffi::avcodec_profile_name(id.into(), profile) };
    if p.is_null() {
        return None;
    }
    Some(
        // SAFETY: `p` is non-null (checked above) and points to a static NUL-terminated string.
        unsafe { std::ffi::CStr::from_ptr(p) }
            .to_string_lossy()
            .into_owned(),
    )
}
