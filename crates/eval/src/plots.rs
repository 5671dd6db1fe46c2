//! DET curve and score histograms as PNG.

use crate::manifest::Class;
use crate::metrics;
use crate::runner::Outcome;
use plotters::prelude::*;
use std::path::Path;

const FONT_CANDIDATES: [&str; 3] = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
];

/// plotters draws text only with a registered font; without one the plots go unlabelled.
fn register_font() -> bool {
    static ONCE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ONCE.get_or_init(|| {
        for p in FONT_CANDIDATES {
            if let Ok(bytes) = std::fs::read(p) {
                // plotters keeps the font for the process lifetime.
                let leaked: &'static [u8] = Box::leak(bytes.into_boxed_slice());
                if plotters::style::register_font("sans-serif", FontStyle::Normal, leaked).is_ok() {
                    return true;
                }
            }
        }
        false
    })
}

fn scores(outcomes: &[Outcome], c: Class) -> Vec<f32> {
    outcomes
        .iter()
        .filter(|o| o.item.class == Some(c) && o.error.is_none())
        .map(|o| o.score.unwrap_or(0.0))
        .collect()
}

type PlotResult = Result<(), Box<dyn std::error::Error>>;

pub fn det(outcomes: &[Outcome], path: &Path) -> PlotResult {
    let (bona, attack) = (
        scores(outcomes, Class::BonaFide),
        scores(outcomes, Class::Attack),
    );
    let labels = register_font();
    let root = BitMapBackend::new(path, (800, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut b = ChartBuilder::on(&root);
    b.margin(20).x_label_area_size(40).y_label_area_size(50);
    if labels {
        b.caption(
            "DET: APCER vs BPCER over all thresholds",
            ("sans-serif", 22),
        );
    }
    let mut chart = b.build_cartesian_2d(0f32..1f32, 0f32..1f32)?;
    if labels {
        chart
            .configure_mesh()
            .x_desc("APCER")
            .y_desc("BPCER")
            .draw()?;
    } else {
        chart
            .configure_mesh()
            .disable_x_mesh()
            .disable_y_mesh()
            .x_labels(0)
            .y_labels(0)
            .draw()?;
    }
    let pts = metrics::det_curve(&bona, &attack);
    chart.draw_series(LineSeries::new(pts, &BLUE))?;
    root.present()?;
    Ok(())
}

pub fn histogram(outcomes: &[Outcome], path: &Path) -> PlotResult {
    const BINS: usize = 20;
    let labels = register_font();
    let count = |c: Class| {
        let mut h = [0u32; BINS];
        for s in scores(outcomes, c) {
            h[((s.clamp(0.0, 1.0) * BINS as f32) as usize).min(BINS - 1)] += 1;
        }
        h
    };
    let (hb, ha) = (count(Class::BonaFide), count(Class::Attack));
    let ymax = hb
        .iter()
        .chain(ha.iter())
        .copied()
        .max()
        .unwrap_or(1)
        .max(1);
    let root = BitMapBackend::new(path, (800, 600)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut b = ChartBuilder::on(&root);
    b.margin(20).x_label_area_size(40).y_label_area_size(50);
    if labels {
        b.caption(
            "live score: bona fide (green) vs attack (red)",
            ("sans-serif", 22),
        );
    }
    let mut chart = b.build_cartesian_2d(0f32..1f32, 0u32..ymax + 1)?;
    if labels {
        chart
            .configure_mesh()
            .x_desc("live score")
            .y_desc("items")
            .draw()?;
    }
    let w = 1.0 / BINS as f32;
    for (h, color, off) in [(hb, GREEN.mix(0.6), 0.0), (ha, RED.mix(0.6), w / 2.0)] {
        chart.draw_series(h.iter().enumerate().map(|(i, &n)| {
            let x0 = i as f32 * w + off;
            Rectangle::new([(x0, 0), (x0 + w / 2.0, n)], color.filled())
        }))?;
    }
    root.present()?;
    Ok(())
}
