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
                .y_label_formatter(&|v| num(*v))
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
