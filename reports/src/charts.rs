//! Charts as data, drawn with `plotters` into SVG (or PNG): bars with 95% error bars, step and
//! line series (CDFs, resources over time), and Gantt charts of parts on nodes.
//!
//! Text is laid out with an embedded font (DejaVu Sans, `reports/assets/`) registered through
//! plotters' `ab_glyph` feature, never with the system's fonts, so a chart has the same bytes on
//! every machine. SVG text names the family `sans-serif`; PNG text is rasterised from the
//! embedded font itself.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// DejaVu Sans (Bitstream Vera licence, see `reports/assets/LICENSE-DejaVu`).
const FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

/// Tableau 10: distinct, colour-blind friendly, printable.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0x4e, 0x79, 0xa7),
    RGBColor(0xf2, 0x8e, 0x2b),
    RGBColor(0x59, 0xa1, 0x4f),
    RGBColor(0xb0, 0x7a, 0xa1),
    RGBColor(0x76, 0xb7, 0xb2),
    RGBColor(0xed, 0xc9, 0x48),
    RGBColor(0x9c, 0x75, 0x5f),
    RGBColor(0xff, 0x9d, 0xa7),
    RGBColor(0xba, 0xb0, 0xac),
    RGBColor(0xe1, 0x57, 0x59),
];
/// What marks a co-location violation: a red outline.
const SPLIT: RGBColor = RGBColor(0xd6, 0x27, 0x28);
const INK: RGBColor = RGBColor(0x33, 0x33, 0x33);
const GRID: RGBColor = RGBColor(0xe4, 0xe4, 0xe4);

pub fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// One bar: a policy's mean with its 95% interval.
#[derive(Clone, Debug, PartialEq)]
pub struct Bar {
    pub label: String,
    pub mean: f64,
    pub low: f64,
    pub high: f64,
    pub color: usize,
}

/// A named line; `step` draws it as a step function (the value holds until the next point).
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<(f64, f64)>,
    pub step: bool,
    pub color: usize,
}

/// One part on one node, from `start` to `end`.
#[derive(Clone, Debug, PartialEq)]
pub struct GanttBar {
    pub row: usize,
    pub start: f64,
    pub end: f64,
    pub label: String,
    pub color: usize,
    /// Drawn with a red outline: the part's pod or group is split across nodes.
    pub marked: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Plot {
    Bars {
        bars: Vec<Bar>,
    },
    Lines {
        series: Vec<Series>,
        x_max: f64,
        y_max: f64,
    },
    Gantt {
        rows: Vec<String>,
        bars: Vec<GanttBar>,
        x_max: f64,
        legend: Vec<(String, usize)>,
    },
    /// Lines through categories (a parameter grid's values): series' points at `(i + 0.5, y)`
    /// for category i, each drawn with a marker.
    Across {
        categories: Vec<String>,
        series: Vec<Series>,
    },
}

/// A chart: what it shows, its axes with units, and its data.
#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub plot: Plot,
}

#[derive(Debug, thiserror::Error)]
#[error("cannot draw the chart `{title}`: {message}")]
pub struct ChartError {
    title: String,
    message: String,
}

const WIDTH: u32 = 860;
const LEGEND_WIDTH: u32 = 230;

impl Chart {
    fn size(&self) -> (u32, u32) {
        match &self.plot {
            Plot::Gantt { rows, bars, .. } => (WIDTH, (120 + gantt_row_px(bars) * rows.len() as u32).clamp(260, 1800)),
            _ => (WIDTH, 440),
        }
    }

    pub fn to_svg(&self) -> Result<String, ChartError> {
        self.to_svg_width(WIDTH)
    }

    /// The chart as SVG `width` pixels wide (its height as [`Chart::to_svg`]'s), for a chart
    /// shown narrower than usual: its text stays readable.
    pub fn to_svg_width(&self, width: u32) -> Result<String, ChartError> {
        register_font();
        let mut svg = String::new();
        {
            let size = (width.max(LEGEND_WIDTH + 200), self.size().1);
            let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
            self.draw(&root).map_err(|e| self.error(e))?;
            root.present().map_err(|e| self.error(e))?;
        }
        Ok(svg)
    }

    pub fn to_png(&self) -> Result<Vec<u8>, ChartError> {
        register_font();
        let (w, h) = self.size();
        let mut rgb = vec![0u8; w as usize * h as usize * 3];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            self.draw(&root).map_err(|e| self.error(e))?;
            root.present().map_err(|e| self.error(e))?;
        }
        let mut png_bytes = Vec::new();
        let mut encoder = png::Encoder::new(&mut png_bytes, w, h);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().map_err(|e| self.error(e))?;
        writer.write_image_data(&rgb).map_err(|e| self.error(e))?;
        writer.finish().map_err(|e| self.error(e))?;
        Ok(png_bytes)
    }

    fn error(&self, e: impl std::fmt::Display) -> ChartError {
        ChartError { title: self.title.clone(), message: e.to_string() }
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        root.fill(&WHITE)?;
        let legend: Vec<(String, RGBColor, Mark)> = match &self.plot {
            Plot::Bars { .. } => Vec::new(),
            Plot::Lines { series, .. } | Plot::Across { series, .. } => {
                series.iter().map(|s| (s.name.clone(), color(s.color), Mark::Line)).collect()
            }
            Plot::Gantt { legend, bars, .. } => {
                let mut entries: Vec<_> = legend.iter().map(|(n, c)| (n.clone(), color(*c), Mark::Box)).collect();
                if bars.iter().any(|b| b.marked) {
                    entries.push(("split across nodes".into(), SPLIT, Mark::Outline));
                    entries.rotate_right(1);
                }
                entries
            }
        };
        let (w, _) = root.dim_in_pixel();
        // About one x label per 90 px of plot, so narrow charts do not crowd their axis.
        let x_labels = (w.saturating_sub(if legend.is_empty() { 0 } else { LEGEND_WIDTH }) / 90).clamp(3, 10) as usize;
        let (plot_area, legend_area) = if legend.is_empty() {
            (root.clone(), None)
        } else {
            let (a, b) = root.split_horizontally(w - LEGEND_WIDTH);
            (a, Some(b))
        };
        let mut builder = ChartBuilder::on(&plot_area);
        builder
            .caption(&self.title, (FAMILY, 21).into_font().color(&INK))
            .margin(14)
            .x_label_area_size(52)
            .y_label_area_size(match &self.plot {
                // Room for the longest row name, at about 8 px a character.
                Plot::Gantt { rows, .. } => {
                    let longest = rows.iter().map(|r| r.chars().count()).max().unwrap_or(0) as u32;
                    (longest * 8 + 34).clamp(120, 260)
                }
                _ => 84,
            });
        let label_style = (FAMILY, 15).into_font().color(&INK);
        let desc_style = (FAMILY, 16).into_font().color(&INK);
        match &self.plot {
            Plot::Bars { bars } => self.draw_bars(builder, bars, label_style, desc_style)?,
            Plot::Lines { series, x_max, y_max } => {
                let mut chart = builder.build_cartesian_2d(0.0..x_max.max(1e-9), 0.0..y_max.max(1e-9))?;
                chart
                    .configure_mesh()
                    .x_labels(x_labels)
                    .light_line_style(WHITE)
                    .bold_line_style(GRID)
                    .x_desc(&self.x_label)
                    .y_desc(&self.y_label)
                    .x_label_formatter(&|v| axis_number(*v))
                    .y_label_formatter(&|v| axis_number(*v))
                    .label_style(label_style.clone())
                    .axis_desc_style(desc_style.clone())
                    .draw()?;
                // Earlier series are drawn wider, so a later one lying on top leaves both visible.
                let count = series.len() as u32;
                for (i, s) in series.iter().enumerate() {
                    let points = if s.step { steps(&s.points) } else { s.points.clone() };
                    let width = 2 + 2 * (count - 1 - i as u32).min(3);
                    chart.draw_series(LineSeries::new(points, color(s.color).stroke_width(width)))?;
                }
            }
            Plot::Across { categories, series } => {
                self.draw_across(builder, categories, series, label_style, desc_style)?
            }
            Plot::Gantt { rows, bars, x_max, .. } => {
                self.draw_gantt(builder, (rows, bars, *x_max), x_labels, label_style, desc_style)?;
            }
        }
        if let Some(area) = legend_area {
            draw_legend(&area, &legend)?;
        }
        Ok(())
    }

    /// A bar per policy with its 95% interval and its value above it.
    fn draw_bars<DB: DrawingBackend>(
        &self,
        mut builder: ChartBuilder<'_, '_, DB>,
        bars: &[Bar],
        label_style: TextStyle<'_>,
        desc_style: TextStyle<'_>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        // Categories on a float axis: bar i spans [i, i + 1], labelled at its centre.
        let n = bars.len().max(1);
        let top = bars.iter().map(|b| b.high.max(b.mean)).fold(0.0, f64::max);
        let x = Categories(n);
        let mut chart = builder.build_cartesian_2d(x, 0.0..nice_max(top))?;
        let x_fmt = |v: &f64| bars.get(v.floor() as usize).map_or(String::new(), |b| b.label.clone());
        self.category_mesh(&mut chart, &x_fmt, &label_style, &desc_style)?;
        // Bars at most 120 px wide, so one or two policies do not make slabs.
        let (plot_w, _) = chart.plotting_area().dim_in_pixel();
        let half = 0.32_f64.min(60.0 * n as f64 / plot_w.max(1) as f64);
        chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
            let c = i as f64 + 0.5;
            Rectangle::new([(c - half, 0.0), (c + half, b.mean)], color(b.color).filled())
        }))?;
        chart.draw_series(bars.iter().enumerate().filter(|(_, b)| b.high > b.low).map(|(i, b)| {
            ErrorBar::new_vertical(i as f64 + 0.5, b.low.max(0.0), b.mean, b.high, INK.stroke_width(2), 18)
        }))?;
        // The value above each bar, so the chart reads without the table.
        let value_style = (FAMILY, 15).into_font().color(&INK).pos(Pos::new(HPos::Center, VPos::Bottom));
        chart.draw_series(
            bars.iter().enumerate().map(|(i, b)| {
                Text::new(axis_number(b.mean), (i as f64 + 0.5, b.high.max(b.mean)), value_style.clone())
            }),
        )?;
        Ok(())
    }

    /// The mesh of a chart over categories (bars, or lines across a grid): no vertical grid
    /// lines, each category named by `x_fmt`, the values as axis numbers.
    fn category_mesh<DB: DrawingBackend>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<Categories, plotters::coord::types::RangedCoordf64>>,
        x_fmt: &dyn Fn(&f64) -> String,
        label_style: &TextStyle<'_>,
        desc_style: &TextStyle<'_>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_label_formatter(x_fmt)
            .y_label_formatter(&|v| axis_number(*v))
            .label_style(label_style.clone())
            .axis_desc_style(desc_style.clone())
            .draw()
    }

    /// Lines through categories, a marker at each point.
    fn draw_across<DB: DrawingBackend>(
        &self,
        mut builder: ChartBuilder<'_, '_, DB>,
        categories: &[String],
        series: &[Series],
        label_style: TextStyle<'_>,
        desc_style: TextStyle<'_>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        let n = categories.len().max(1);
        let top = series.iter().flat_map(|s| &s.points).map(|p| p.1).fold(0.0, f64::max);
        let mut chart = builder.build_cartesian_2d(Categories(n), 0.0..nice_max(top))?;
        let x_fmt = |v: &f64| categories.get(v.floor() as usize).cloned().unwrap_or_default();
        self.category_mesh(&mut chart, &x_fmt, &label_style, &desc_style)?;
        // Earlier series are drawn wider, so a later one lying on top leaves both visible.
        let count = series.len() as u32;
        for (i, s) in series.iter().enumerate() {
            let width = 2 + 2 * (count - 1 - i as u32).min(3);
            chart.draw_series(LineSeries::new(s.points.clone(), color(s.color).stroke_width(width)))?;
            let radius = 4 + width as i32;
            chart.draw_series(s.points.iter().map(|&p| Circle::new(p, radius, color(s.color).filled())))?;
        }
        Ok(())
    }

    /// Parts on rows (nodes), in lanes where they overlap; split parts outlined in red.
    fn draw_gantt<DB: DrawingBackend>(
        &self,
        mut builder: ChartBuilder<'_, '_, DB>,
        (rows, bars, x_max): (&[String], &[GanttBar], f64),
        x_labels: usize,
        label_style: TextStyle<'_>,
        desc_style: TextStyle<'_>,
    ) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
        // Row r (the first at the top) spans [n - 1 - r, n - r] on a float axis.
        let n = rows.len().max(1);
        let y = Categories(n);
        let mut chart = builder.build_cartesian_2d(0.0..x_max.max(1e-9), y)?;
        let y_fmt = |v: &f64| rows.get(n - 1 - (v.floor() as usize).min(n - 1)).cloned().unwrap_or_default();
        chart
            .configure_mesh()
            .x_labels(x_labels)
            .disable_y_mesh()
            .light_line_style(WHITE)
            .bold_line_style(GRID)
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_label_formatter(&|v| axis_number(*v))
            .y_label_formatter(&y_fmt)
            .label_style(label_style.clone())
            .axis_desc_style(desc_style.clone())
            .draw()?;
        let (_, plot_h) = chart.plotting_area().dim_in_pixel();
        let row_px = plot_h as f64 / n as f64;
        let text_style = (FAMILY, 11).into_font().color(&WHITE).pos(Pos::new(HPos::Center, VPos::Center));
        for (bar, (lane, count)) in bars.iter().zip(lanes(bars)) {
            let base = (n - 1 - bar.row.min(n - 1)) as f64;
            let lane_h = 0.84 / count.max(1) as f64;
            let top = base + 0.92 - lane as f64 * lane_h;
            let bottom = top - lane_h + 0.02;
            let corners = [(bar.start, bottom), (bar.end, top)];
            // A split part is outlined in red; in a lane too thin for an outline to
            // read, it is filled red instead.
            let thin = lane_h * row_px < 10.0;
            let fill = if bar.marked && thin { SPLIT } else { color(bar.color) };
            chart.plotting_area().draw(&Rectangle::new(corners, fill.mix(0.85).filled()))?;
            if !thin || !bar.marked {
                let outline = if bar.marked { SPLIT.stroke_width(3) } else { WHITE.stroke_width(1) };
                chart.plotting_area().draw(&Rectangle::new(corners, outline))?;
            }
            let (x0, _) = chart.backend_coord(&(bar.start, top));
            let (x1, _) = chart.backend_coord(&(bar.end, top));
            let fits =
                |label: &str| (x1 - x0) as f64 > label.chars().count() as f64 * 7.0 + 8.0 && lane_h * row_px >= 13.0;
            // The whole label, or else its last segment: a split part's container, so that
            // the story chart says which container went where.
            let short = bar.label.rsplit('/').next().unwrap_or_default();
            if let Some(label) = [bar.label.as_str(), short].into_iter().find(|l| fits(l)) {
                let at = ((bar.start + bar.end) / 2.0, (top + bottom) / 2.0);
                chart.plotting_area().draw(&Text::new(label.to_string(), at, text_style.clone()))?;
            }
        }
        Ok(())
    }
}

/// An axis of `n` categories on floats: category i spans [i, i + 1], and the ticks (labels) are
/// at the centres. (plotters' segmented axes misdraw a single category.)
#[derive(Clone, Copy)]
struct Categories(usize);

impl Ranged for Categories {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let share = value / self.0.max(1) as f64;
        limit.0 + ((limit.1 - limit.0) as f64 * share).round() as i32
    }

    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, hint: H) -> Vec<f64> {
        // Only the bold (labelled) points: no light grid lines between categories.
        if hint.weight().allow_light_points() { Vec::new() } else { (0..self.0).map(|i| i as f64 + 0.5).collect() }
    }

    fn range(&self) -> std::ops::Range<f64> {
        0.0..self.0.max(1) as f64
    }
}

#[derive(Clone, Copy)]
enum Mark {
    Line,
    Box,
    Outline,
}

/// A legend in its own panel beside the plot, so it never hides data.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[(String, RGBColor, Mark)],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    const SHOWN: usize = 24;
    let style = (FAMILY, 15).into_font().color(&INK).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, (label, c, mark)) in entries.iter().take(SHOWN).enumerate() {
        let y = 60 + 24 * i as i32;
        match mark {
            Mark::Line => area.draw(&PathElement::new(vec![(4, y), (26, y)], c.stroke_width(3)))?,
            Mark::Box => area.draw(&Rectangle::new([(6, y - 6), (24, y + 6)], c.mix(0.85).filled()))?,
            Mark::Outline => area.draw(&Rectangle::new([(6, y - 6), (24, y + 6)], c.stroke_width(2)))?,
        }
        area.draw(&Text::new(shorten(label, 24), (32, y), style.clone()))?;
    }
    if entries.len() > SHOWN {
        let y = 60 + 24 * SHOWN as i32;
        area.draw(&Text::new(format!("… {} more", entries.len() - SHOWN), (32, y), style.clone()))?;
    }
    Ok(())
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max - 1).collect();
        s.push('…');
        s
    }
}

/// Points of a step function: each value holds until the next point's time.
fn steps(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2);
    for (i, &(x, y)) in points.iter().enumerate() {
        if i > 0 {
            out.push((x, points[i - 1].1));
        }
        out.push((x, y));
    }
    out
}

/// The height of a Gantt row: room for every lane of the busiest row at 6 px a lane.
pub fn gantt_row_px(bars: &[GanttBar]) -> u32 {
    let most = lanes(bars).into_iter().map(|(_, count)| count).max().unwrap_or(1);
    (6 * most as u32 + 10).max(26)
}

/// Assigns each bar of a row a lane so that overlapping bars sit one above the other: greedy
/// interval partitioning in start order, the fewest lanes possible. Returns (lane, lanes in row).
pub fn lanes(bars: &[GanttBar]) -> Vec<(usize, usize)> {
    let mut order: Vec<usize> = (0..bars.len()).collect();
    order.sort_by(|&a, &b| bars[a].row.cmp(&bars[b].row).then(bars[a].start.total_cmp(&bars[b].start)).then(a.cmp(&b)));
    let mut lane_of = vec![0usize; bars.len()];
    let rows = bars.iter().map(|b| b.row + 1).max().unwrap_or(0);
    let mut lane_ends: Vec<Vec<f64>> = vec![Vec::new(); rows];
    for i in order {
        let ends = &mut lane_ends[bars[i].row];
        match ends.iter().position(|&end| end <= bars[i].start) {
            Some(l) => {
                ends[l] = bars[i].end;
                lane_of[i] = l;
            }
            None => {
                ends.push(bars[i].end);
                lane_of[i] = ends.len() - 1;
            }
        }
    }
    (0..bars.len()).map(|i| (lane_of[i], lane_ends[bars[i].row].len())).collect()
}

/// The axis top: a little headroom above the largest value, at a round number.
pub fn nice_max(top: f64) -> f64 {
    if top.is_nan() || top <= 0.0 {
        return 1.0;
    }
    let target = top * 1.12;
    let mut step = 1.0;
    while step * 10.0 <= target {
        step *= 10.0;
    }
    while step > target {
        step /= 10.0;
    }
    for m in [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0] {
        if step * m >= target {
            return step * m;
        }
    }
    step * 10.0
}

/// A number for an axis or a label: few digits, no float noise (`0.30000000000000004` → `0.3`).
pub fn axis_number(v: f64) -> String {
    let a = v.abs();
    let text = if a == 0.0 {
        "0".to_string()
    } else if !(1e-3..1e6).contains(&a) {
        format!("{v:.2e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    };
    if text.contains('.') && !text.contains('e') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is part of the binary: failing to parse it is a build defect, not input.
        if plotters::style::register_font(FAMILY, FontStyle::Normal, FONT_BYTES).is_err() {
            panic!("the embedded DejaVu Sans font does not parse");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Chart> {
        vec![
            Chart {
                title: "Co-location violations".into(),
                x_label: "policy".into(),
                y_label: "violations per run".into(),
                plot: Plot::Bars {
                    bars: vec![
                        Bar { label: "per-container".into(), mean: 1.0, low: 0.5, high: 1.5, color: 0 },
                        Bar { label: "kubernetes".into(), mean: 0.0, low: 0.0, high: 0.0, color: 1 },
                    ],
                },
            },
            Chart {
                title: "Time to schedule".into(),
                x_label: "seconds".into(),
                y_label: "share of pods".into(),
                plot: Plot::Lines {
                    series: vec![Series {
                        name: "kubernetes".into(),
                        points: vec![(0.0, 0.5), (2.0, 1.0)],
                        step: true,
                        color: 1,
                    }],
                    x_max: 2.0,
                    y_max: 1.0,
                },
            },
            Chart {
                title: "Pods on nodes".into(),
                x_label: "time (s)".into(),
                y_label: "node".into(),
                plot: Plot::Gantt {
                    rows: vec!["node-a".into(), "node-b".into()],
                    bars: vec![
                        GanttBar { row: 0, start: 0.0, end: 10.0, label: "app".into(), color: 0, marked: true },
                        GanttBar { row: 1, start: 0.0, end: 10.0, label: "log".into(), color: 0, marked: true },
                        GanttBar { row: 1, start: 5.0, end: 8.0, label: "other".into(), color: 1, marked: false },
                    ],
                    x_max: 10.0,
                    legend: vec![("app-with-logs".into(), 0), ("other".into(), 1)],
                },
            },
        ]
    }

    /// Every kind of chart draws to SVG and PNG, with its title and labels in the SVG, and the
    /// same chart gives the same bytes twice.
    #[test]
    fn charts_render_deterministically() {
        for chart in sample() {
            let svg = chart.to_svg().unwrap();
            assert!(svg.starts_with("<svg"), "{}", &svg[..100.min(svg.len())]);
            assert!(svg.contains(&chart.title) && svg.contains(&chart.y_label), "{svg}");
            assert_eq!(svg, chart.to_svg().unwrap());
            let png = chart.to_png().unwrap();
            assert_eq!(&png[1..4], b"PNG");
            assert!(png.len() > 2_000, "{}", png.len());
            assert_eq!(png, chart.to_png().unwrap());
        }
    }

    /// Overlapping bars of a row get separate lanes; disjoint ones share a lane.
    #[test]
    fn overlapping_bars_get_lanes() {
        let bar = |row, start, end| GanttBar { row, start, end, label: String::new(), color: 0, marked: false };
        let bars = [bar(0, 0.0, 10.0), bar(0, 5.0, 8.0), bar(0, 10.0, 12.0), bar(1, 0.0, 1.0)];
        assert_eq!(lanes(&bars), vec![(0, 2), (1, 2), (0, 2), (0, 1)]);
    }

    /// Axis numbers are short and round.
    #[test]
    fn numbers_are_short() {
        assert_eq!(axis_number(0.1 + 0.2), "0.3");
        assert_eq!(axis_number(600.0), "600");
        assert_eq!(axis_number(12.25), "12.2");
        assert_eq!(nice_max(1.0), 1.2);
        assert_eq!(nice_max(0.9), 1.2);
        assert_eq!(nice_max(450.0), 600.0);
        assert_eq!(nice_max(0.0), 1.0);
    }
}
