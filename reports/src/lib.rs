//! Everything measured about runs, from their records alone: pod and group outcomes, the
//! summary metrics, `expect:` verdicts, and the files a run writes.

pub mod expect;
pub mod outcome;
pub mod output;
pub mod scheduling;
pub mod summary;

pub use expect::{Verdict, check};
pub use outcome::Outcomes;
pub use summary::{RunInfo, Summary, summarize};
