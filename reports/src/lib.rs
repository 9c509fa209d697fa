//! Everything measured about runs, from their records alone: pod and group outcomes, the
//! summary metrics, `expect:` verdicts, the files a run writes (with its Perfetto trace), and
//! comparisons over policies and seeds: results.csv, charts and report.html.

pub mod across;
pub mod charts;
pub mod comparison;
pub mod comparison_files;
pub mod control_plane;
pub mod expect;
pub mod headline;
pub mod html;
mod in_flight;
pub mod metrics;
pub mod out_dir;
pub mod outcome;
pub mod output;
pub mod percentiles;
pub mod scheduling;
pub mod series;
pub mod summary;
pub mod trace;
pub mod waits;
pub mod workloads;

pub use expect::{Verdict, check};
pub use outcome::Outcomes;
pub use summary::{RunInfo, Summary, Tally, needs_records, summarize};
