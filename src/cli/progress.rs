//! `podlab run`'s progress on a terminal: how far each run has got in simulated time (a day
//! of a Google-sized cell takes half a minute), fed each record beside the reports' fold (on the
//! records' own thread in a big run).

use std::io::IsTerminal as _;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cluster::scenario::Scenario;
use crate::cluster::{RecordSink, SimDuration, Stamped};

/// The bar is moved once per this many records: a check per record, a redraw rarely.
const RECORDS_PER_UPDATE: u64 = 1 << 16;

pub struct RunProgress {
    bar: ProgressBar,
    records: u64,
}

impl RunProgress {
    /// A bar for one policy's run: to the scenario's `duration` in simulated seconds, or a
    /// spinner with the simulated time when it has none. Hidden unless stderr is a terminal.
    pub fn new(policy: &str, duration: Option<SimDuration>) -> RunProgress {
        if !std::io::stderr().is_terminal() {
            return RunProgress { bar: ProgressBar::hidden(), records: 0 };
        }
        let bar = match duration {
            Some(d) => {
                let bar = ProgressBar::new(d.as_nanos() / 1_000_000_000);
                if let Ok(style) =
                    ProgressStyle::with_template("{prefix} [{bar:40}] {msg} of simulated time, {elapsed_precise}")
                {
                    bar.set_style(style.progress_chars("=> "));
                }
                bar
            }
            None => {
                let bar = ProgressBar::new_spinner();
                if let Ok(style) = ProgressStyle::with_template("{prefix} {spinner} {msg} simulated, {elapsed_precise}")
                {
                    bar.set_style(style);
                }
                bar
            }
        };
        bar.set_prefix(policy.to_string());
        RunProgress { bar, records: 0 }
    }

    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

impl RecordSink for RunProgress {
    fn observe(&mut self, _: &Scenario, stamped: &Stamped) {
        self.records += 1;
        if self.records % RECORDS_PER_UPDATE == 0 && !self.bar.is_hidden() {
            let seconds = stamped.time.as_nanos() / 1_000_000_000;
            self.bar.set_position(seconds);
            self.bar.set_message(SimDuration::from_secs(seconds).to_string());
        }
    }
}
