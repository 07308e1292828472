//! Pictures of results, as SVG (text is left to the viewer's fonts).

use std::collections::BTreeMap;
use std::fmt;

use plotters::prelude::*;

use super::text::num;
use super::tune::TunedRule;
use crate::tune::Setting;

/// A picture that could not be drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlotError(String);

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot draw the plot: {}", self.0)
    }
}

impl std::error::Error for PlotError {}

fn failed<E: fmt::Display>(e: E) -> PlotError {
    PlotError(e.to_string())
}

/// Line colours, told apart also by people with the common colour-vision
/// deficiencies (Okabe and Ito's palette, without its yellow).
const COLORS: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(230, 159, 0),
    RGBColor(0, 0, 0),
];

const WIDTH: u32 = 1000;
const LEGEND_WIDTH: u32 = 170;
const HEIGHT_PER_RULE: u32 = 420;

/// The lines of one rule's chart: for each setting apart from the
/// threshold, (threshold, episodes per day) in threshold order.
fn lines(rule: &TunedRule) -> Vec<(String, Vec<(f64, f64)>)> {
    let key = |s: &Setting| (s.period_s, s.evaluation_periods, s.datapoints_to_alarm, s.treat_missing.aws_name());
    let mut by: BTreeMap<_, Vec<(f64, f64)>> = BTreeMap::new();
    for row in &rule.rows {
        let o = &row.outcome;
        by.entry(key(&o.setting)).or_default().push((o.setting.threshold, o.episodes_per_day));
    }
    let varies = |f: &dyn Fn(&Setting) -> String| {
        let mut seen = rule.rows.iter().map(|r| f(&r.outcome.setting));
        let first = seen.next();
        seen.any(|v| Some(v) != first)
    };
    let m_of_n = varies(&|s| format!("{}/{}", s.datapoints_to_alarm, s.evaluation_periods));
    let missing = varies(&|s| s.treat_missing.aws_name().to_string());
    by.into_iter()
        .map(|((period_s, n, m, treat), mut points)| {
            points.sort_by(|a, b| a.0.total_cmp(&b.0));
            let mut label = period_label(period_s);
            if m_of_n {
                label.push_str(&format!(", {m} of {n}"));
            }
            if missing {
                label.push_str(&format!(", {treat}"));
            }
            (label, points)
        })
        .collect()
}

fn period_label(s: i64) -> String {
    match s {
        s if s % 3600 == 0 => format!("{} h", s / 3600),
        s => format!("{} min", s / 60),
    }
}

/// ALARM episodes per day against threshold, one line per period (and per
/// M of N and missing-data treatment when the grid varies them), one chart
/// per rule.
pub fn tune_svg(rules: &[TunedRule]) -> Result<String, PlotError> {
    let mut svg = String::new();
    {
        let height = HEIGHT_PER_RULE * rules.len().max(1) as u32;
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        let areas = root.split_evenly((rules.len().max(1), 1));
        for (area, rule) in areas.iter().zip(rules) {
            let lines = lines(rule);
            let xs = lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.0));
            let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
            let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
            let pad = if hi > lo { (hi - lo) * 0.04 } else { 1.0 };
            let top = lines.iter().flat_map(|(_, p)| p.iter().map(|q| q.1)).fold(0.0, f64::max);
            let top = if top > 0.0 { top * 1.1 } else { 1.0 };
            let (left, legend) = area.split_horizontally(WIDTH - LEGEND_WIDTH);
            let mut chart = ChartBuilder::on(&left)
                .caption(&rule.name, ("sans-serif", 18))
                .margin(12)
                .x_label_area_size(40)
                .y_label_area_size(60)
                .build_cartesian_2d((lo - pad)..(hi + pad), 0.0..top)
                .map_err(failed)?;
            chart
                .configure_mesh()
                .light_line_style(WHITE)
                .x_label_formatter(&|v| num(*v))
                .y_label_formatter(&|v| tick(*v))
                .x_desc("threshold")
                .y_desc("ALARM episodes per day")
                .draw()
                .map_err(failed)?;
            for (k, (label, points)) in lines.into_iter().enumerate() {
                let color = COLORS[k % COLORS.len()];
                chart.draw_series(LineSeries::new(points.iter().copied(), color.stroke_width(2))).map_err(failed)?;
                chart.draw_series(points.iter().map(|&p| Circle::new(p, 3, color.filled()))).map_err(failed)?;
                let y = 50 + 20 * k as i32;
                legend.draw(&PathElement::new(vec![(0, y), (24, y)], color.stroke_width(2))).map_err(failed)?;
                legend.draw(&Text::new(label, (32, y - 7), ("sans-serif", 13))).map_err(failed)?;
            }
        }
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

/// Points drawn per rule at most: windows beyond are drawn by the largest
/// value of each run of neighbours (the peaks stay visible).
const MAX_POINTS: usize = 3000;

/// Colour of ALARM episodes (shaded), of the threshold line and of hours
/// without any log file (shaded).
const EPISODE: RGBColor = RGBColor(213, 94, 0);
const THRESHOLD: RGBColor = RGBColor(0, 0, 0);
const GAP: RGBColor = RGBColor(128, 128, 128);

/// An axis value as people write it: `0.6`, not the `0.6000000000000001`
/// that stepping by 0.2 gives.
fn tick(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

fn time_label(ms: i64) -> String {
    let t = crate::record::time::format_rfc3339(ms);
    // `MM-DD HH:MM`: a tick may fall on any day of a long replay.
    format!("{} {}", t.get(5..10).unwrap_or(""), t.get(11..16).unwrap_or(""))
}

/// The metric of each alarm per period over the whole replay (the value of
/// each window with data), its threshold as a line, its ALARM episodes
/// shaded, and the hours without any log file shaded grey; one chart per
/// alarm, time in UTC.
pub fn timeline_svg(doc: &super::model::Document<'_>) -> Result<String, PlotError> {
    use crate::alarm::alarm_episodes;
    let mut svg = String::new();
    {
        let n = doc.alarms.len().max(1);
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 300 * n as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(failed)?;
        for (area, a) in root.split_evenly((n, 1)).iter().zip(&doc.alarms) {
            // (start, end, value) of each window with data.
            let mut windows: Vec<(i64, i64, f64)> = a.windows.iter().map(|w| (w.start, w.end, w.value)).collect();
            if windows.len() > MAX_POINTS {
                let per = windows.len().div_ceil(MAX_POINTS);
                windows = windows
                    .chunks(per)
                    .map(|c| {
                        let peak = c.iter().map(|w| w.2).fold(f64::NEG_INFINITY, f64::max);
                        (c[0].0, c[c.len() - 1].1, peak)
                    })
                    .collect();
            }
            // Steps, broken where periods have no data (missing, not zero).
            let mut runs: Vec<Vec<(i64, f64)>> = Vec::new();
            for &(s, e, v) in &windows {
                match runs.last_mut() {
                    Some(run) if run.last().is_some_and(|p| p.0 >= s) => run.extend([(s, v), (e, v)]),
                    _ => runs.push(vec![(s, v), (e, v)]),
                }
            }
            let points: Vec<(i64, f64)> = runs.iter().flatten().copied().collect();
            let transitions: Vec<_> = a.transitions.iter().collect();
            let end = points.last().map_or(0, |p| p.0);
            let (mut episodes, open) = alarm_episodes(transitions.iter().map(|t| (t.at, t.to)), None);
            let last = transitions.last().map_or(end, |t| t.at.max(end));
            if let Some(s) = open {
                episodes.push((s, last));
            }
            let lo = points.first().map(|p| p.0).into_iter().chain(episodes.first().map(|e| e.0)).min().unwrap_or(0);
            let hi = last.max(lo + 60_000);
            let top = points.iter().map(|p| p.1).fold(a.threshold, f64::max);
            let bottom = points.iter().map(|p| p.1).fold(0.0f64, f64::min);
            let top = if top > bottom { top + (top - bottom) * 0.1 } else { bottom + 1.0 };
            let caption = format!(
                "{}: {} per {} min, threshold {}",
                a.name,
                a.statistic,
                a.period_s / 60,
                super::text::num(a.threshold)
            );
            let mut chart = ChartBuilder::on(area)
                .caption(caption, ("sans-serif", 15))
                .margin(12)
                .x_label_area_size(35)
                .y_label_area_size(60)
                .build_cartesian_2d(lo..hi, bottom..top)
                .map_err(failed)?;
            chart
                .configure_mesh()
                .light_line_style(WHITE)
                .x_labels(8)
                .x_label_formatter(&|t| time_label(*t))
                .y_label_formatter(&|v| tick(*v))
                .x_desc("UTC")
                .y_desc("value per period")
                .draw()
                .map_err(failed)?;
            // Hours without any log file, grey: the metric there is unknown.
            let gaps = doc.inputs.delivery_gaps.iter().filter(|g| g.start < hi && lo < g.end);
            chart
                .draw_series(
                    gaps.map(|g| {
                        Rectangle::new([(g.start.max(lo), bottom), (g.end.min(hi), top)], GAP.mix(0.3).filled())
                    }),
                )
                .map_err(failed)?;
            chart
                .draw_series(
                    episodes
                        .iter()
                        .map(|&(s, e)| Rectangle::new([(s, bottom), (e.max(s + 1), top)], EPISODE.mix(0.2).filled())),
                )
                .map_err(failed)?;
            for run in runs {
                chart.draw_series(LineSeries::new(run, COLORS[0].stroke_width(1))).map_err(failed)?;
            }
            chart
                .draw_series(LineSeries::new([(lo, a.threshold), (hi, a.threshold)], THRESHOLD.stroke_width(2)))
                .map_err(failed)?;
        }
        root.present().map_err(failed)?;
    }
    Ok(svg)
}

/// A plot made by this module, rasterised to PNG with the fonts in `fonts`
/// (without any, the picture has no text).
pub fn png(svg: &str, fonts: std::sync::Arc<resvg::usvg::fontdb::Database>) -> Result<Vec<u8>, PlotError> {
    use resvg::{tiny_skia, usvg};
    let opts = usvg::Options { fontdb: fonts, ..usvg::Options::default() };
    let tree = usvg::Tree::from_str(svg, &opts).map_err(failed)?;
    let size = tree.size().to_int_size();
    let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).ok_or_else(|| failed("an empty picture"))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
    pixmap.encode_png().map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_written_short() {
        assert_eq!(tick(0.6000000000000001), "0.6");
        assert_eq!(tick(8.0), "8");
        assert_eq!(tick(-0.0000001), "0");
        assert_eq!(tick(1234.5), "1234.5");
    }
}
