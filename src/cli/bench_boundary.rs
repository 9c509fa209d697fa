//! `podlab bench`'s figures across the boundary of a policy of one's own, on the 1k-node ×
//! 10k-pod run: a first fit in Rust entered in the registry (against a built-in's time), the
//! same rule over the exec protocol from another process, and the Python package's
//! (in-process, over the protocol, the Gymnasium environment) by running
//! `python/benchmarks/throughput.py`. A figure that cannot be taken here (no Python package,
//! a client that fails) says why and how to get it, and is never a made-up number.
//!
//! Wall clock: as `bench_command`, this module times runs and nothing it reads reaches one.
#![allow(clippy::disallowed_types)]

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::RunError;
use crate::bench::first_fit::{FIRST_FIT, registry_with_first_fit};
use crate::bench::scale_scenario_text;

/// A figure's value, how it was taken, and why it was not (when it was not).
pub type Measured = (Option<f64>, String, Option<String>);

/// The built-in the registry's first fit is timed against: the default policy, the one the
/// end-to-end figures run.
pub const REFERENCE: &str = "kubernetes";

/// The script the Python figures run, from the repository's root.
pub const PYTHON_SCRIPT: &str = "python/benchmarks/throughput.py";

/// The run's nodes and pods: the target's 1k × 10k, or `--quick`'s 100 × 1k.
pub fn sizes(quick: bool) -> (usize, usize) {
    if quick { (100, 1_000) } else { (1_000, 10_000) }
}

/// Runs of the exec client: the best of 5 (1 with `--quick`). A run's wall time is mostly
/// the two processes waking each other, which a busy machine delays: the best run is the one
/// least delayed.
fn runs(quick: bool) -> usize {
    if quick { 1 } else { 5 }
}

/// The registry's first fit against `REFERENCE`, the same scenario and seed, keeping no
/// records: runs interleaved (15 each, quick 1: a run takes tens of milliseconds, so a busy
/// machine's pauses weigh on few of them), the best of each; the figure is the ratio.
pub fn registry_first_fit(quick: bool) -> anyhow::Result<Measured> {
    let (nodes, pods) = sizes(quick);
    let scenario = crate::load_str("boundary.yaml", &scale_scenario_text(nodes, pods))?;
    let registry = registry_with_first_fit();
    let rounds = if quick { 1 } else { 15 };
    let mut best = [f64::INFINITY; 2];
    for _ in 0..rounds {
        for (i, policy) in [REFERENCE, FIRST_FIT].into_iter().enumerate() {
            let start = Instant::now();
            let run = crate::run_policy_in(&registry, &scenario, policy, scenario.seed, FOLDED, &mut ())?;
            best[i] = best[i].min(start.elapsed().as_secs_f64());
            anyhow::ensure!(
                run.summary.pods.scheduled == pods as u64,
                "{policy} bound {} of the {pods} pods",
                run.summary.pods.scheduled
            );
        }
    }
    let method = format!(
        "{FIRST_FIT} {:.1} ms ÷ {REFERENCE} {:.1} ms: best of {rounds} interleaved runs each, \
         {nodes} nodes × {pods} pods, no records",
        best[1] * 1e3,
        best[0] * 1e3
    );
    Ok((Some(best[1] / best[0]), method, None))
}

/// The runs measured keep no records, as `podlab run` without `--out`.
const FOLDED: crate::RunOptions = crate::RunOptions {
    check_invariants: false,
    keep_records: false,
    record_thread: crate::RecordThread::Auto,
    budgets: crate::sim::Budgets::DEFAULT,
};

/// `client` quoted for `sh -c`: in single quotes, each of its own closed and escaped.
fn shell_quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// The command of the exec figure's client: `client` as given (`--exec-client`), else this
/// very binary serving `podlab_exec::first_fit` (`podlab bench --child exec-first-fit`), the
/// code `podlab-exec-first-fit` serves, so the figure needs nothing built beside podlab.
fn client_command(client: Option<&str>) -> anyhow::Result<(String, String)> {
    if let Some(command) = client {
        return Ok((command.to_string(), format!("client `{command}`")));
    }
    let exe = std::env::current_exe()?;
    let command = format!("{} bench --child exec-first-fit", shell_quote(&exe.to_string_lossy()));
    Ok((command, "client: podlab-exec-first-fit's code, served by this binary".into()))
}

/// Decisions a second over the exec protocol: pods bound ÷ the run's wall time (the client's
/// start included), the best of [`runs`], keeping no records.
pub fn exec_first_fit(quick: bool, client: Option<&str>) -> anyhow::Result<Measured> {
    let (nodes, pods) = sizes(quick);
    let scenario = crate::load_str("boundary.yaml", &scale_scenario_text(nodes, pods))?;
    let (command, who) = client_command(client)?;
    let policy = format!("exec:{FIRST_FIT}={command}");
    let runs = runs(quick);
    let method = format!("pods bound ÷ wall time, best of {runs} run(s), {nodes} nodes × {pods} pods; {who}");
    let mut best: Option<(f64, u64)> = None;
    for _ in 0..runs {
        let start = Instant::now();
        let run = match crate::run_policy_with(&scenario, &policy, scenario.seed, FOLDED) {
            Ok(run) => run,
            Err(RunError::Exec(error)) => {
                let first = error.to_string().lines().next().unwrap_or_default().to_string();
                return Ok((None, method, Some(format!("not measured: {first} (see --exec-client)"))));
            }
            Err(other) => return Err(other.into()),
        };
        let took = start.elapsed().as_secs_f64();
        let bound = run.summary.pods.scheduled;
        if best.is_none_or(|(t, _)| took < t) {
            best = Some((took, bound));
        }
    }
    let (took, bound) = best.expect("at least one run");
    Ok((Some(bound as f64 / took), method, None))
}

/// `podlab bench --child exec-first-fit`: serves the first fit over stdin and stdout.
pub fn serve_first_fit() -> anyhow::Result<()> {
    podlab_exec::client::serve(&mut podlab_exec::first_fit::FirstFit::default())?;
    Ok(())
}

/// The three Python figures, taken by one run of [`PYTHON_SCRIPT`].
pub struct PythonFigures {
    pub in_process: Measured,
    pub exec: Measured,
    pub gym: Measured,
}

impl PythonFigures {
    /// All three not measured, for one reason.
    fn not_measured(method: &str, why: &str) -> PythonFigures {
        let row = || (None, method.to_string(), Some(format!("not measured: {why}")));
        PythonFigures { in_process: row(), exec: row(), gym: row() }
    }
}

/// Runs [`PYTHON_SCRIPT`] with `python`, from the current folder, and reads its JSON.
pub fn python_figures(python: &str, quick: bool) -> PythonFigures {
    let (nodes, pods) = sizes(quick);
    let method = format!("{PYTHON_SCRIPT} with `{python}`, {nodes} nodes × {pods} pods");
    if !Path::new(PYTHON_SCRIPT).is_file() {
        return PythonFigures::not_measured(
            &method,
            &format!("no {PYTHON_SCRIPT} here (run from podlab's repository)"),
        );
    }
    let output = Command::new(python).args([PYTHON_SCRIPT, "--json", &nodes.to_string(), &pods.to_string()]).output();
    let output = match output {
        Ok(output) => output,
        Err(e) => return PythonFigures::not_measured(&method, &format!("cannot run `{python}`: {e} (see --python)")),
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        let why = if stderr.contains("No module named 'podlab'") {
            format!("`{python}` cannot import podlab: pip install ./python")
        } else {
            let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
            format!("the script failed ({}): {last}", output.status)
        };
        return PythonFigures::not_measured(&method, &why);
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().last().unwrap_or_default();
    match serde_json::from_str::<serde_json::Value>(line) {
        Ok(json) => PythonFigures {
            in_process: rate(&json["in_process"], "decisions", &method, "pip install ./python"),
            exec: rate(&json["exec"], "decisions", &method, "pip install ./python"),
            gym: rate(&json["gym"], "steps", &method, "pip install './python[gym]'"),
        },
        Err(e) => PythonFigures::not_measured(&method, &format!("the script printed `{line}`: {e}")),
    }
}

/// `count` ÷ `seconds` of one of the script's figures, or why it was not taken.
fn rate(figure: &serde_json::Value, count: &str, method: &str, install: &str) -> Measured {
    if let Some(missing) = figure["missing"].as_str() {
        return (None, method.to_string(), Some(format!("not measured: {missing}: {install}")));
    }
    match (figure[count].as_f64(), figure["seconds"].as_f64()) {
        (Some(n), Some(s)) if n > 0.0 && s > 0.0 => {
            let runs = figure["runs"].as_u64().unwrap_or(1);
            (Some(n / s), format!("{count} ÷ wall time, best of {runs} run(s): {method}"), None)
        }
        _ => (None, method.to_string(), Some(format!("not measured: the script printed {figure}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_quoting_keeps_the_word_whole() {
        assert_eq!(shell_quote("/a b/podlab"), "'/a b/podlab'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn a_figure_the_script_could_not_take_says_how_to_get_it() {
        let missing = serde_json::json!({"missing": "No module named 'gymnasium'"});
        let (value, _, note) = rate(&missing, "steps", "m", "pip install './python[gym]'");
        assert_eq!(value, None);
        assert_eq!(note.as_deref(), Some("not measured: No module named 'gymnasium': pip install './python[gym]'"));
        let taken = serde_json::json!({"steps": 500, "seconds": 0.25, "runs": 3});
        assert_eq!(rate(&taken, "steps", "m", "").0, Some(2000.0));
        assert!(rate(&serde_json::json!({"steps": 0}), "steps", "m", "").2.is_some());
    }
}
