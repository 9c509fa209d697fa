//! The files a comparison writes — `results.csv`, the charts and `report.html` — and writing
//! them. `podlab compare` and `podlab sweep merge` both write through [`Comparison::write`].

use std::path::{Path, PathBuf};

use crate::charts::ChartError;
use crate::comparison::{Comparison, STORY_STEM};

/// The story chart's width in pixels.
const STORY_WIDTH: u32 = 680;
use crate::html;
use crate::out_dir::OutDir;
use crate::output::{create_dir_all, write_atomic};

/// A file of the comparison, by its path under the output directory.
pub struct OutputFile {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
}

impl Comparison {
    /// Every file of the comparison: `results.csv`, the charts (`charts/<scenario>/*.svg`, and
    /// `.png` too when asked) and `report.html`. Paths are relative to the output directory.
    pub fn files(&self, png: bool) -> Result<Vec<OutputFile>, ChartError> {
        let mut files = vec![OutputFile { path: "results.csv".into(), bytes: self.results_csv().into_bytes() }];
        let mut rendered: Vec<(usize, String, String, String)> = Vec::new();
        for (si, stem, chart) in self.charts() {
            // The story is shown beside the headline table: drawn narrower, its text stays
            // readable there.
            let svg = if stem == STORY_STEM { chart.to_svg_width(STORY_WIDTH)? } else { chart.to_svg()? };
            let dir = Path::new("charts").join(&self.scenarios[si].name);
            if png {
                files.push(OutputFile { path: dir.join(format!("{stem}.png")), bytes: chart.to_png()? });
            }
            files.push(OutputFile { path: dir.join(format!("{stem}.svg")), bytes: svg.clone().into_bytes() });
            rendered.push((si, stem, chart.title.clone(), svg));
        }
        // Each metric across a parameter grid, under the scenario's own name.
        let mut across: Vec<(String, String, String, String)> = Vec::new();
        for a in self.across_charts() {
            let svg = a.chart.to_svg()?;
            let dir = Path::new("charts").join(&a.base);
            if png {
                files.push(OutputFile { path: dir.join(format!("{}.png", a.stem)), bytes: a.chart.to_png()? });
            }
            files.push(OutputFile { path: dir.join(format!("{}.svg", a.stem)), bytes: svg.clone().into_bytes() });
            across.push((a.base, a.stem, a.chart.title.clone(), svg));
        }
        files.push(OutputFile {
            path: "report.html".into(),
            bytes: html::report(self, &rendered, &across).into_bytes(),
        });
        Ok(files)
    }

    /// Writes [`Comparison::files`] under `out`, each atomically. Each path is checked to stay
    /// under `out` first: a chart's folder is named after its scenario.
    pub fn write(&self, out: &Path, png: bool) -> std::io::Result<Vec<PathBuf>> {
        let files = self.files(png).map_err(std::io::Error::other)?;
        let out = OutDir::new(out)?;
        let paths = files.iter().map(|f| out.join_relative(&f.path)).collect::<std::io::Result<Vec<_>>>()?;
        let mut written = Vec::new();
        for (f, path) in files.into_iter().zip(paths) {
            if let Some(parent) = path.parent() {
                create_dir_all(parent)?;
            }
            write_atomic(&path, &f.bytes)?;
            written.push(f.path);
        }
        Ok(written)
    }
}
