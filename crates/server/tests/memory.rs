//! Four 10 000 × 10 000 PNGs at once (legal: exactly the pixel limit, 400 KB each on the wire)
//! through `/liveness` with four workers: the decode memory budget makes them queue, so the
//! peak resident set grows by about one decode, not four. Alone in its own test binary because
//! it reads the process's peak RSS.

mod common;

use common::*;
use std::time::Duration;
use testkit::procfs::{reset_peak_rss, status_kb};

fn huge_png() -> Vec<u8> {
    let side = 10_000u32;
    let img = image::RgbImage::from_pixel(side, side, image::Rgb([182, 140, 120]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn four_huge_stills_queue_for_memory_instead_of_multiplying_it() {
    if !std::path::Path::new("/proc/self/clear_refs").exists() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "no /proc: cannot measure RSS"
        );
        eprintln!("SKIPPED: no /proc/self/clear_refs on this system");
        return;
    }
    let Some(analyzer) = real_analyzer() else {
        return;
    };
    const BUDGET: u64 = 400 * 1024 * 1024;
    media::set_decode_budget(BUDGET);
    let png = huge_png();
    assert!(png.len() < 2 * 1024 * 1024, "{} bytes", png.len());
    let mut cfg = hs_config();
    cfg.workers = 4;
    cfg.queue_depth = 4;
    cfg.body_limit = 8 * 1024 * 1024;
    cfg.deadline = Duration::from_secs(300);
    let app = server::router(&cfg, analyzer, server::Extensions::default());
    // Warm the models so their one-off allocations are not counted.
    let warm = Form::new().file("image", "small.png", &small_png());
    assert_eq!(
        send(&app, warm.request("/liveness", Some(&good_token("w"))))
            .await
            .status,
        200
    );

    // Peak RSS from here on: "5" resets VmHWM to the current RSS.
    assert!(reset_peak_rss("self"));
    let before_kb = status_kb("self", "VmRSS:").unwrap();
    let mut running = Vec::new();
    for i in 0..4 {
        let app = app.clone();
        let form = Form::new().file("image", "huge.png", &png);
        let token = good_token(&format!("client{i}"));
        running.push(tokio::spawn(async move {
            send(&app, form.request("/liveness", Some(&token))).await
        }));
    }
    for r in running {
        let a = r.await.unwrap();
        // A blank image has no face: a verdict, not a server error.
        assert_eq!(a.status, 200, "{}", a.text);
    }
    let peak_kb = status_kb("self", "VmHWM:").unwrap();
    let grew_mb = peak_kb.saturating_sub(before_kb) / 1024;
    eprintln!(
        "peak RSS grew by {grew_mb} MiB for four 10000x10000 PNGs (budget {} MiB)",
        BUDGET >> 20
    );
    // One decode holds 300 MB of RGB; four unbudgeted ones would hold 1.2 GB at once.
    assert!(grew_mb < 700, "peak RSS grew by {grew_mb} MiB");
    assert_eq!(media::decode_budget_in_use(), 0, "a reservation leaked");
}

fn small_png() -> Vec<u8> {
    let img = image::RgbImage::from_pixel(64, 64, image::Rgb([120, 120, 120]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}
