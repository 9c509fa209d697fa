//! `podlab import swf`: a Parallel Workloads Archive log (Standard Workload Format, gzipped or
//! not) as a podlab scenario. Every job is a rigid gang: N processors that start together and
//! stay together for the job's run time — a PodGroup of N one-CPU pods with minMember N. The
//! machine becomes a node pool of one-CPU nodes, as many as the log's `MaxProcs`.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;

use crate::BadInput;

/// One job of the log that ran.
struct SwfJob {
    number: u64,
    submit_s: u64,
    run_s: u64,
    procs: u64,
}

/// The header's `; Key: value` lines that matter, and the jobs.
struct Swf {
    max_procs: Option<u64>,
    computer: Option<String>,
    acknowledge: Option<String>,
    jobs: Vec<SwfJob>,
    skipped: u64,
}

fn parse(reader: impl BufRead, label: &str, max_jobs: usize) -> anyhow::Result<Swf> {
    let mut swf = Swf { max_procs: None, computer: None, acknowledge: None, jobs: Vec::new(), skipped: 0 };
    for (n, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading {label}"))?;
        let line = line.trim();
        if let Some(header) = line.strip_prefix(';') {
            if let Some((key, value)) = header.split_once(':') {
                let value = value.trim().to_string();
                match key.trim() {
                    "MaxProcs" => swf.max_procs = value.parse().ok(),
                    "Computer" => swf.computer = Some(value),
                    "Acknowledge" => swf.acknowledge = Some(value),
                    _ => {}
                }
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if swf.jobs.len() >= max_jobs {
            break;
        }
        let fields: Vec<i64> =
            line.split_whitespace().map(|f| f.parse::<f64>().map(|v| v as i64)).collect::<Result<_, _>>().map_err(
                |_| BadInput(format!("{label}:{}: not a line of 18 numbers (Standard Workload Format)", n + 1)),
            )?;
        if fields.len() < 8 {
            return Err(BadInput(format!("{label}:{}: {} fields; SWF lines have 18", n + 1, fields.len())).into());
        }
        // 1 job, 2 submit, 4 run time, 5 allocated processors (8: requested, when 5 is unknown).
        let procs = if fields[4] > 0 { fields[4] } else { fields[7] };
        if fields[3] <= 0 || procs <= 0 || fields[1] < 0 {
            swf.skipped += 1; // never ran, or unknown size
            continue;
        }
        swf.jobs.push(SwfJob {
            number: fields[0] as u64,
            submit_s: fields[1] as u64,
            run_s: fields[3] as u64,
            procs: procs as u64,
        });
    }
    Ok(swf)
}

/// The scenario text of an SWF log.
fn scenario(swf: &Swf, name: &str, source: &str) -> anyhow::Result<String> {
    let procs = swf.max_procs.or_else(|| swf.jobs.iter().map(|j| j.procs).max()).unwrap_or(1);
    let start = swf.jobs.iter().map(|j| j.submit_s).min().unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(out, "# Imported by `podlab import swf` from {source}.");
    if let Some(c) = &swf.computer {
        let _ = writeln!(
            out,
            "# Computer: {c}. Acknowledge: {}.",
            swf.acknowledge.as_deref().unwrap_or("see the log's header")
        );
    }
    let _ = writeln!(out, "# Parallel Workloads Archive — cite Feitelson, Tsafrir, Krakov, JPDC 2014.");
    let _ = writeln!(
        out,
        "# {} jobs ({} skipped: never ran or unknown size); each a gang of one-CPU pods.",
        swf.jobs.len(),
        swf.skipped
    );
    let _ = writeln!(out, "apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {{name: {name}}}\nspec:");
    let _ = writeln!(out, "  seed: 1\n  policies: [kubernetes, gang, mesos, omega, monolithic]");
    let _ = writeln!(out, "  nodePools: [{{name: proc, count: {procs}, cpu: \"1\", memory: 1Gi, maxPods: 1}}]");
    let _ = writeln!(out, "  workload:\n    jobs:");
    for j in &swf.jobs {
        if j.procs > procs {
            return Err(
                BadInput(format!("job {} asks for {} processors; the machine has {procs}", j.number, j.procs)).into()
            );
        }
        let _ = writeln!(
            out,
            "    - {{name: job-{}, at: {}s, tasks: {}, cpu: \"1\", memory: 512Mi, runFor: {}s}}",
            j.number,
            j.submit_s - start,
            j.procs,
            j.run_s
        );
    }
    Ok(out)
}

/// `podlab import swf FILE [--max-jobs N] [--out FILE]`.
pub fn import_swf(file: &Path, max_jobs: usize, out: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let label = file.display().to_string();
    let raw = std::fs::File::open(file).map_err(|e| BadInput(format!("cannot read {label}: {e}")))?;
    let reader: Box<dyn Read> =
        if label.ends_with(".gz") { Box::new(flate2::read::GzDecoder::new(raw)) } else { Box::new(raw) };
    let swf = parse(BufReader::new(reader), &label, max_jobs)?;
    if swf.jobs.is_empty() {
        return Err(BadInput(format!("{label}: no job that ran")).into());
    }
    let stem = file.file_name().map_or("swf".into(), |n| n.to_string_lossy().to_lowercase());
    let name: String = stem
        .trim_end_matches(".gz")
        .trim_end_matches(".swf")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .to_string();
    let text = scenario(&swf, &name, &label)?;
    match out {
        Some(path) => {
            podlab::reports::output::write_atomic(&path, text.as_bytes())
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("wrote {} ({} jobs)", path.display(), swf.jobs.len());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}
