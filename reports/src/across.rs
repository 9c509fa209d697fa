//! Each metric across a parameter grid (`compare --grid KEY=V1,V2,…`): the variants of one
//! scenario side by side, a line per policy through the grid's values, for the headline rows
//! of any variant. The report shows these first; `charts/<scenario>/across-*.svg` keeps them.

use crate::charts::{Chart, Plot, Series};
use crate::comparison::{Comparison, ScenarioInfo};
use crate::headline::HeadlineRow;

/// A chart across a grid: the scenario it is about (its name without grid values), its file
/// stem, and the chart.
pub struct AcrossChart {
    pub base: String,
    pub stem: String,
    pub chart: Chart,
}

impl Comparison {
    /// For each scenario run over a grid of two or more variants, each headline metric across
    /// the grid: a line per policy, a point per variant (the mean over seeds).
    pub fn across_charts(&self) -> Vec<AcrossChart> {
        let mut bases: Vec<&str> = Vec::new();
        for s in self.scenarios.iter().filter(|s| !s.grid.is_empty()) {
            if !bases.contains(&s.base_name()) {
                bases.push(s.base_name());
            }
        }
        let mut out = Vec::new();
        for base in bases {
            let variants: Vec<&ScenarioInfo> =
                self.scenarios.iter().filter(|s| !s.grid.is_empty() && s.base_name() == base).collect();
            if variants.len() < 2 {
                continue;
            }
            let mut policies: Vec<&str> = Vec::new();
            for p in variants.iter().flat_map(|s| &s.policies) {
                if !policies.contains(&p.as_str()) {
                    policies.push(p);
                }
            }
            let mut rows: Vec<HeadlineRow> = Vec::new();
            for v in &variants {
                for (h, _) in self.headline(v) {
                    if !rows.iter().any(|r| r.metric == h.metric) {
                        rows.push(h);
                    }
                }
            }
            let keys: Vec<&str> = variants[0].grid.iter().map(|(k, _)| k.as_str()).collect();
            let categories: Vec<String> = variants
                .iter()
                .map(|v| match &v.grid[..] {
                    [(_, value)] => value.clone(),
                    grid => grid.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", "),
                })
                .collect();
            for row in rows {
                let chart = self.across_chart(&variants, &policies, &row, &keys, &categories);
                // A metric the grid does not move, under any policy, needs no chart (policies
                // that differ at every value alike are the variants' own tables' to show).
                let Plot::Across { series, .. } = &chart.plot else { continue };
                if series.iter().all(|s| s.points.windows(2).all(|w| w[0].1 == w[1].1)) {
                    continue;
                }
                let stem = format!("across-{}", row.metric.replace(['.', '_'], "-"));
                out.push(AcrossChart { base: base.to_string(), stem, chart });
            }
        }
        out
    }

    fn across_chart(
        &self,
        variants: &[&ScenarioInfo],
        policies: &[&str],
        row: &HeadlineRow,
        keys: &[&str],
        categories: &[String],
    ) -> Chart {
        let scale = row.unit.scale();
        let series = policies
            .iter()
            .enumerate()
            .map(|(color, policy)| {
                let points = variants
                    .iter()
                    .enumerate()
                    .filter_map(|(i, v)| {
                        let p = v.policies.iter().position(|p| p == policy)?;
                        let metric = self.metric_rows(v).into_iter().find(|m| m.metric == row.metric)?;
                        Some((i as f64 + 0.5, metric.per_policy[p]?.mean * scale))
                    })
                    .collect();
                Series { name: policy.to_string(), points, step: false, color }
            })
            .collect();
        let seeds = variants[0].seeds.len();
        let over = if seeds > 1 { format!("mean over {seeds} seeds") } else { "one seed".to_string() };
        let label = row.label.trim();
        let mut first = label.chars();
        let label: String = first.next().map_or(String::new(), |c| c.to_uppercase().chain(first).collect());
        Chart {
            title: format!("{label} — {over}"),
            x_label: keys.join(", "),
            y_label: row.unit.axis().to_string(),
            plot: Plot::Across { categories: categories.to_vec(), series },
        }
    }
}
