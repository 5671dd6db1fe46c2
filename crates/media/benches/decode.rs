//! `cargo bench -p media --bench decode`
//!
//! Still: a 12 MP (4032x3024) JPEG decoded at full size vs. reduced to 1280 px (DCT scaling in
//! libjpeg-turbo, then a small resize), with the `image` crate's decode + resize as a baseline.
//! Video: a 10 s 720p H.264 High clip (B-frames) decoded through `decode_video` single-threaded
//! and with automatic threads, against `ffmpeg -threads 1 -i X -f null -` and `ffmpeg -i X -f
//! null -`. The fixtures are made with the ffmpeg CLI in a temporary folder at start; the ratios
//! are printed at the end from medians of a few extra runs, as wall time and as CPU time (the
//! CPU figures stay meaningful when other work shares the machine; the threading speed-up
//! needs an otherwise idle machine). `cargo bench -p media --bench decode -- --summary-only`
//! skips the criterion groups. Under `cargo test --all-targets` each benchmark runs once.

use std::hint::black_box;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};
use media::{StillOptions, VideoPlan, decode_still, decode_video};

struct Fixtures {
    jpeg: PathBuf,
    video: PathBuf,
}

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y"])
        .args(args)
        .output()
        .expect("the ffmpeg CLI is needed to make the bench fixtures");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fixtures() -> &'static Fixtures {
    static F: std::sync::OnceLock<Fixtures> = std::sync::OnceLock::new();
    F.get_or_init(|| {
        // Cargo's scratch folder for benches: reused by later runs, nothing left in /tmp.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("media-bench-v1");
        std::fs::create_dir_all(&dir).unwrap();
        let jpeg = dir.join("12mp.jpg");
        let video = dir.join("720p_high_10s.mp4");
        // A photo-like 12 MP JPEG: a real group photo from the test data upscaled with some
        // sensor-like grain (about 2.8 MB, like a phone's); without the test data, a test
        // pattern with grain.
        let testdata = std::env::var_os("LIVEGATE_TESTDATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata")
            });
        let photo = testdata.join("negative/dlib_bald_guys_multiface.jpg");
        let jpeg_str = jpeg.to_str().unwrap();
        if photo.exists() {
            let p = photo.to_str().unwrap();
            let vf = "scale=4032:3024:flags=lanczos,noise=alls=10:allf=t";
            ffmpeg(&[
                "-i", p, "-vf", vf, "-q:v", "3", "-pix_fmt", "yuvj420p", jpeg_str,
            ]);
        } else {
            let src = "testsrc2=size=4032x3024";
            let vf = "noise=alls=6:allf=t";
            ffmpeg(&[
                "-f",
                "lavfi",
                "-i",
                src,
                "-vf",
                vf,
                "-frames:v",
                "1",
                "-q:v",
                "3",
                jpeg_str,
            ]);
        }
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1280x720:rate=30:duration=10",
            "-vf",
            "noise=alls=8:allf=t",
            "-c:v",
            "libx264",
            "-profile:v",
            "high",
            "-bf",
            "3",
            "-crf",
            "23",
            "-preset",
            "veryfast",
            "-pix_fmt",
            "yuv420p",
            video.to_str().unwrap(),
        ]);
        Fixtures { jpeg, video }
    })
}

fn decode_all(bytes: &[u8], threads: u32) -> u64 {
    // Every frame decoded and counted; every 15th converted (the product's default sampling),
    // no cap so decoding runs to the end like `ffmpeg -f null`.
    let plan = VideoPlan {
        every_nth: 15,
        max_sampled: u32::MAX,
        decode_threads: threads,
        ..VideoPlan::default()
    };
    let mut n = 0;
    let info = decode_video(bytes, &plan, &mut |f| {
        n += black_box(f.image.dimensions().0) as u64;
        ControlFlow::Continue(())
    })
    .expect("decode");
    assert_eq!(info.total_frames, 300);
    n
}

fn ffmpeg_null(path: &Path, threads: Option<u32>) {
    let mut c = Command::new("ffmpeg");
    c.args(["-hide_banner", "-loglevel", "error", "-nostdin"]);
    if let Some(t) = threads {
        c.args(["-threads", &t.to_string()]);
    }
    let st = c
        .arg("-i")
        .arg(path)
        .args(["-f", "null", "-"])
        .status()
        .expect("ffmpeg");
    assert!(st.success());
}

fn still(c: &mut Criterion) {
    let f = fixtures();
    let bytes = std::fs::read(&f.jpeg).unwrap();
    let mut g = c.benchmark_group("still_12mp_jpeg");
    g.sample_size(20);
    g.bench_function("full_size", |b| {
        let o = StillOptions {
            target_long_side: None,
            ..Default::default()
        };
        b.iter(|| decode_still(black_box(&bytes), &o).unwrap())
    });
    g.bench_function("reduced_1280", |b| {
        let o = StillOptions::default();
        b.iter(|| decode_still(black_box(&bytes), &o).unwrap())
    });
    g.bench_function("image_crate_decode_then_resize_1280", |b| {
        b.iter(|| {
            let img = image::load_from_memory(black_box(&bytes))
                .unwrap()
                .into_rgb8();
            image::imageops::resize(&img, 1280, 960, image::imageops::FilterType::Triangle)
        })
    });
    g.finish();
}

fn video(c: &mut Criterion) {
    let f = fixtures();
    let bytes = std::fs::read(&f.video).unwrap();
    let mut g = c.benchmark_group("video_720p_h264_high_10s");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("decode_video_1_thread", |b| {
        b.iter(|| decode_all(&bytes, 1))
    });
    g.bench_function("decode_video_auto_threads", |b| {
        b.iter(|| decode_all(&bytes, 0))
    });
    g.bench_function("ffmpeg_cli_threads_1_null", |b| {
        b.iter(|| ffmpeg_null(&f.video, Some(1)))
    });
    g.bench_function("ffmpeg_cli_default_threads_null", |b| {
        b.iter(|| ffmpeg_null(&f.video, None))
    });
    g.finish();
}

/// CPU time of this process (all threads) and of its finished children.
fn cpu_now() -> Duration {
    fn tv(t: libc::timeval) -> Duration {
        Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000)
    }
    let mut total = Duration::ZERO;
    for who in [libc::RUSAGE_SELF, libc::RUSAGE_CHILDREN] {
        let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
        unsafe { libc::getrusage(who, &mut ru) };
        total += tv(ru.ru_utime) + tv(ru.ru_stime);
    }
    total
}

/// Medians of wall time and CPU time (ms) over `runs`, after one warm-up.
fn median_ms(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    f();
    let mut wall = vec![];
    let mut cpu = vec![];
    for _ in 0..runs {
        let (w, c) = (Instant::now(), cpu_now());
        f();
        wall.push(w.elapsed().as_secs_f64() * 1e3);
        cpu.push((cpu_now() - c).as_secs_f64() * 1e3);
    }
    wall.sort_by(f64::total_cmp);
    cpu.sort_by(f64::total_cmp);
    (wall[runs / 2], cpu[runs / 2])
}

fn summary() {
    let f = fixtures();
    let jpeg = std::fs::read(&f.jpeg).unwrap();
    let video = std::fs::read(&f.video).unwrap();
    let full_opts = StillOptions {
        target_long_side: None,
        ..Default::default()
    };
    let full = median_ms(15, || drop(decode_still(&jpeg, &full_opts).unwrap()));
    let reduced = median_ms(15, || {
        drop(decode_still(&jpeg, &StillOptions::default()).unwrap())
    });
    let ours_1 = median_ms(5, || {
        black_box(decode_all(&video, 1));
    });
    let ours_auto = median_ms(5, || {
        black_box(decode_all(&video, 0));
    });
    let cli_1 = median_ms(5, || ffmpeg_null(&f.video, Some(1)));
    let cli_auto = median_ms(5, || ffmpeg_null(&f.video, None));
    let mut load = [0f64; 3];
    unsafe { libc::getloadavg(load.as_mut_ptr(), 3) };
    println!(
        "\n=== summary: medians, ms as wall / CPU (load average {:.1}) ===",
        load[0]
    );
    println!(
        "still 12 MP JPEG ({} KiB): full {:.1} / {:.1}, reduced to 1280 px {:.1} / {:.1}: \
         reduced is {:.2}x faster (wall), {:.2}x (CPU)",
        jpeg.len() / 1024,
        full.0,
        full.1,
        reduced.0,
        reduced.1,
        full.0 / reduced.0,
        full.1 / reduced.1
    );
    println!(
        "video 10 s 720p H.264 High ({} KiB, 300 frames): decode_video 1 thread {:.0} / {:.0}, \
         auto threads {:.0} / {:.0}; ffmpeg -threads 1 -f null {:.0} / {:.0}, \
         ffmpeg default threads {:.0} / {:.0}",
        video.len() / 1024,
        ours_1.0,
        ours_1.1,
        ours_auto.0,
        ours_auto.1,
        cli_1.0,
        cli_1.1,
        cli_auto.0,
        cli_auto.1
    );
    println!(
        "ratios (wall): ours/ffmpeg 1 thread {:.2}, ours/ffmpeg default threads {:.2}; \
         threading speed-up: ours {:.2}x, ffmpeg {:.2}x; ours/ffmpeg 1 thread by CPU time {:.2}",
        ours_1.0 / cli_1.0,
        ours_auto.0 / cli_auto.0,
        ours_1.0 / ours_auto.0,
        cli_1.0 / cli_auto.0,
        ours_1.1 / cli_1.1
    );
}

criterion_group!(benches, still, video);

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` does not, and then criterion only
    // runs each benchmark once as a smoke test: skip the timed summary there.
    let bench_mode = std::env::args().any(|a| a == "--bench");
    if !std::env::args().any(|a| a == "--summary-only") {
        benches();
        Criterion::default().configure_from_args().final_summary();
    }
    if bench_mode {
        summary();
    }
}
