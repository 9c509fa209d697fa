//! Workload trace files, read as a stream (line by line, gzip or not): Parallel Workloads
//! Archive logs (SWF), the Google 2011 trace's jobs running at the start of its window (the
//! Omega simulator's prefill format) and the Omega simulator's `*_cmb.log` empirical
//! distributions. A bad line is a [`TraceError`] that names the line and column, which the
//! loader turns into a positioned [`Diagnostic`] about the trace file itself.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Read};

use super::diagnostic::{Diagnostic, LoadError, Pos, Severity};
use podlab_cluster::workload::{Distribution, PrefillJob};

use crate::config::WorkloadClass;
use crate::quantity::Unit;
use crate::time::SimDuration;

/// Longer lines are refused: no trace line is this long, and a binary file must not be read
/// whole into one "line".
const MAX_LINE_BYTES: u64 = 64 << 10;

/// The most tasks the jobs of one trace may add to a scenario (the generated workloads' bound).
const MAX_TRACE_TASKS: u64 = super::workload::MAX_GENERATED_PODS;

/// The longest time a trace may name, in seconds: podlab's longest duration (100 years), so a
/// time in seconds times 10^9 nanoseconds never wraps (and sums of two never do either).
pub const MAX_SECONDS: i64 = (crate::time::MAX_DURATION.0 / 1_000_000_000) as i64;

/// A time of `seconds` is refused past [`MAX_SECONDS`], at its field.
fn within_time(line: &Line, (col, text): (u32, &str), seconds: f64, what: &str) -> Result<(), TraceError> {
    if seconds > MAX_SECONDS as f64 {
        let message = format!("`{text}` is {what} beyond podlab's longest time, 100 years ({MAX_SECONDS} s)");
        return Err(line.error(col, text.chars().count(), message, None));
    }
    Ok(())
}

/// What is wrong with one line of a trace file (or, at line 0, with the file as a whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    pub line: u32,
    /// 1-based character column of the fault; 0 when it is about the whole line.
    pub col: u32,
    pub width: u32,
    pub message: String,
    pub help: Option<String>,
    pub source_line: String,
}

impl TraceError {
    fn whole_file(message: impl Into<String>, help: Option<String>) -> TraceError {
        TraceError { line: 0, col: 0, width: 0, message: message.into(), help, source_line: String::new() }
    }

    /// The error as a diagnostic about `file` (the trace's path as the scenario resolved it).
    pub fn into_diagnostic(self, file: &str) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            file: file.to_string(),
            pos: Pos { line: self.line.max(1), col: self.col.max(1) },
            message: self.message,
            help: self.help,
            caret_col: self.col.max(1),
            width: self.width.max(1),
            source_line: self.source_line,
        }
    }

    pub fn into_load_error(self, file: &str) -> LoadError {
        LoadError::Invalid(Box::new(self.into_diagnostic(file)))
    }
}

/// One line of a trace, split into whitespace-separated fields that remember their columns.
#[derive(Debug)]
pub struct Line {
    pub number: u32,
    pub text: String,
}

impl Line {
    /// The fields with their 1-based character columns.
    pub fn fields(&self) -> Vec<(u32, &str)> {
        let mut out = Vec::new();
        let mut start: Option<(usize, u32)> = None;
        let mut col = 0u32;
        for (byte, c) in self.text.char_indices() {
            col += 1;
            match (c.is_whitespace(), start) {
                (false, None) => start = Some((byte, col)),
                (true, Some((s, scol))) => {
                    out.push((scol, &self.text[s..byte]));
                    start = None;
                }
                _ => {}
            }
        }
        if let Some((s, scol)) = start {
            out.push((scol, &self.text[s..]));
        }
        out
    }

    /// An error about the field at `col` (`width` characters), or the whole line at col 0.
    pub fn error(&self, col: u32, width: usize, message: impl Into<String>, help: Option<&str>) -> TraceError {
        TraceError {
            line: self.number,
            col,
            width: if col == 0 { self.text.chars().count() as u32 } else { width as u32 },
            message: message.into(),
            help: help.map(String::from),
            source_line: self.text.clone(),
        }
    }
}

/// More lines are refused: no trace podlab reads has this many (the largest SWF logs have a
/// few million), and with the byte caps it bounds the time a file of tiny lines takes.
const MAX_LINES: u32 = 1 << 26;

/// The lines of a trace file, read one at a time.
pub struct Lines<R> {
    reader: R,
    number: u32,
}

impl<R: BufRead> Lines<R> {
    pub fn new(reader: R) -> Lines<R> {
        Lines { reader, number: 0 }
    }

    /// Counts `lines` more lines read; past [`MAX_LINES`], an error at the last of them.
    fn count(&mut self, lines: u32) -> Result<(), TraceError> {
        self.number = self.number.saturating_add(lines);
        if self.number > MAX_LINES {
            return Err(TraceError {
                line: self.number,
                col: 0,
                width: 0,
                message: format!("more than {MAX_LINES} lines: this is not a trace podlab reads"),
                help: Some("read the lines that matter: `maxJobs`, or `from` and `until`".into()),
                source_line: String::new(),
            });
        }
        Ok(())
    }

    /// Consumes whole lines of spaces, tabs and ends of line straight from the reader's buffer,
    /// a line's leading blanks never: a file of nothing else (a gzip bomb of newlines) costs a
    /// byte scan, not a line's allocation per byte.
    fn skip_blank_lines(&mut self) -> Result<(), TraceError> {
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) => {
                    return Err(TraceError {
                        line: self.number.saturating_add(1),
                        col: 0,
                        width: 0,
                        message: format!("cannot read on from here: {e}"),
                        help: None,
                        source_line: String::new(),
                    });
                }
            };
            let blank = chunk.iter().take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n')).count();
            let Some(last_end) = chunk[..blank].iter().rposition(|b| *b == b'\n') else { return Ok(()) };
            let lines = chunk[..=last_end].iter().filter(|b| **b == b'\n').count();
            self.reader.consume(last_end + 1);
            self.count(u32::try_from(lines).unwrap_or(u32::MAX))?;
        }
    }

    /// The next line without its end of line, or `None` at the end of the file. Whole blank
    /// lines are mostly skipped here, in bulk (a blank run across the reader's buffer may
    /// still come as a line; every reader skips blank lines).
    pub fn next_line(&mut self) -> Result<Option<Line>, TraceError> {
        self.skip_blank_lines()?;
        let mut buf = Vec::new();
        let read = (&mut self.reader).take(MAX_LINE_BYTES + 1).read_until(b'\n', &mut buf);
        if matches!(read, Ok(0)) {
            return Ok(None);
        }
        self.count(1)?;
        let fail = |message: String, help: Option<&str>| TraceError {
            line: self.number,
            col: 0,
            width: 0,
            message,
            help: help.map(String::from),
            source_line: String::new(),
        };
        if let Err(e) = read {
            return Err(fail(format!("cannot read on from here: {e}"), None));
        }
        if buf.len() as u64 > MAX_LINE_BYTES {
            return Err(fail(
                format!("a line longer than {} KiB: this is not a trace file", MAX_LINE_BYTES >> 10),
                Some("name a text trace (SWF, the Google prefill rows, a *_cmb.log), gzipped or not"),
            ));
        }
        while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            buf.pop();
        }
        let text = String::from_utf8(buf).map_err(|e| {
            fail(format!("not UTF-8 text (byte {} of the line)", e.utf8_error().valid_up_to() + 1), None)
        })?;
        Ok(Some(Line { number: self.number, text }))
    }
}

fn number(line: &Line, (col, text): (u32, &str), what: &str) -> Result<f64, TraceError> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(line.error(col, text.chars().count(), format!("`{text}` is not a number ({what})"), None)),
    }
}

fn integer(line: &Line, field: (u32, &str), what: &str) -> Result<i64, TraceError> {
    let v = number(line, field, what)?;
    if v.fract() != 0.0 || v.abs() > 1e15 {
        let (col, text) = field;
        return Err(line.error(col, text.chars().count(), format!("`{text}` is not a whole number ({what})"), None));
    }
    Ok(v as i64)
}

/// The default size of each task of an SWF job: one processor, and memory the log does not
/// give (its column 10 is mostly unknown).
pub const SWF_TASK_CPU: &str = "1";
pub const SWF_TASK_MEMORY: &str = "512Mi";

/// One job of an SWF log that ran: a rigid gang of `procs` processors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwfJob {
    pub number: u64,
    pub submit_s: u64,
    pub run_s: u64,
    pub procs: u32,
}

/// An SWF log: the header lines that matter and the jobs that ran, in the log's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Swf {
    pub max_procs: Option<u64>,
    pub computer: Option<String>,
    pub acknowledge: Option<String>,
    pub jobs: Vec<SwfJob>,
    /// Jobs left out: never ran (run time ≤ 0), unknown size, or unknown submit time.
    pub skipped: u64,
}

/// The Parallel Workloads Archive asks every user to cite it (and the log's donor).
pub const SWF_ATTRIBUTION: &str = "Parallel Workloads Archive — cite Feitelson, Tsafrir, Krakov, \
                                   \"Experience with using the Parallel Workloads Archive\", JPDC 2014";
/// The Google 2011 trace's attribution (CC-BY).
pub const GOOGLE_ATTRIBUTION: &str = "Google cluster-usage traces (clusterdata-2011-2), CC-BY — Google; Reiss, \
                                      Wilkes et al., 2011; rows via the Omega simulator's init-cluster-state.log";
/// The Omega simulator's (BSD-3) distribution format.
pub const OMEGA_ATTRIBUTION: &str = "distributions in the format of Google's Omega simulator \
                                     (google/cluster-scheduler-simulator, BSD-3)";

impl Swf {
    /// The attribution of results computed from this log: the machine, its donor, the archive.
    pub fn attribution(&self) -> String {
        let mut a = String::new();
        if let Some(c) = &self.computer {
            a.push_str(&format!("{c}, "));
        }
        if let Some(d) = &self.acknowledge {
            a.push_str(&format!("donor {d}; "));
        }
        a + SWF_ATTRIBUTION
    }

    /// The earliest submit time: the trace's t = 0.
    pub fn start_s(&self) -> u64 {
        self.jobs.iter().map(|j| j.submit_s).min().unwrap_or(0)
    }
}

const SWF_HELP: &str = "an SWF job line has 18 whitespace-separated numbers: job, submit, wait, run time, \
                        allocated processors, …; `-1` marks an unknown value, `;` starts a header line";

/// Which part of an SWF log to read: jobs submitted from `from_s` (inclusive) until `until_s`
/// (exclusive), in seconds after the log's first submit, at most `max_jobs` of them that ran.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SwfSlice {
    pub max_jobs: u64,
    pub from_s: u64,
    pub until_s: Option<u64>,
}

impl SwfSlice {
    pub fn first(max_jobs: u64) -> SwfSlice {
        SwfSlice { max_jobs, from_s: 0, until_s: None }
    }
}

/// Reads an SWF log (Standard Workload Format 2.2): the jobs of `slice` that ran.
pub fn read_swf(reader: impl BufRead, slice: SwfSlice) -> Result<Swf, TraceError> {
    let max_jobs = slice.max_jobs;
    let mut origin: Option<i64> = None;
    let mut swf = Swf::default();
    let mut lines = Lines::new(reader);
    let mut tasks = 0u64;
    while let Some(line) = lines.next_line()? {
        let text = line.text.trim();
        if let Some(header) = text.strip_prefix(';') {
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
        if text.is_empty() {
            continue;
        }
        if swf.jobs.len() as u64 >= max_jobs {
            break;
        }
        let fields = line.fields();
        if fields.len() != 18 {
            return Err(line.error(0, 0, format!("{} fields; SWF job lines have 18", fields.len()), Some(SWF_HELP)));
        }
        for &field in &fields {
            number(&line, field, "SWF fields are numbers")?;
        }
        let job = integer(&line, fields[0], "field 1, the job number")?;
        let submit = integer(&line, fields[1], "field 2, the submit time in seconds")?;
        let run = integer(&line, fields[3], "field 4, the run time in seconds")?;
        let allocated = integer(&line, fields[4], "field 5, the allocated processors")?;
        let requested = integer(&line, fields[7], "field 8, the requested processors")?;
        within_time(&line, fields[1], submit as f64, "a submit time")?;
        within_time(&line, fields[3], run as f64, "a run time")?;
        // The window counts from the log's first submit; the log is in submit order, so a job
        // past its end ends the reading.
        if submit >= 0 {
            let origin = *origin.get_or_insert(submit);
            let since = submit.saturating_sub(origin).max(0) as u64;
            if slice.until_s.is_some_and(|u| since >= u) {
                break;
            }
            if since < slice.from_s {
                continue;
            }
        }
        // Allocated processors, or the requested ones where the log does not know.
        let procs = if allocated > 0 { allocated } else { requested };
        if run <= 0 || procs <= 0 || submit < 0 {
            swf.skipped += 1;
            continue;
        }
        if procs > 1_000_000 || job < 0 {
            let (col, text) = if job < 0 { fields[0] } else { fields[4] };
            return Err(line.error(col, text.len(), "out of range (a job number ≥ 0, at most 10^6 processors)", None));
        }
        tasks += procs as u64;
        if tasks > MAX_TRACE_TASKS {
            return Err(line.error(
                0,
                0,
                format!("the trace's jobs add up to more than {MAX_TRACE_TASKS} pods"),
                Some("read fewer jobs with `maxJobs`"),
            ));
        }
        swf.jobs.push(SwfJob { number: job as u64, submit_s: submit as u64, run_s: run as u64, procs: procs as u32 });
    }
    Ok(swf)
}

/// The unit of the `12` rows' end times: the Google 2011 trace counts microseconds, the Omega
/// simulator's example file seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    Seconds,
    Microseconds,
}

const PREFILL_HELP: &str = "prefill rows are `11 <t> <job id> <prod 0|1> <sched class 0-3> <tasks> <cpu cores> \
                            <ram bytes>` (a job running at the start) or `12 <t end> <job id> <prod> <class> \
                            <unused>` (its end)";

/// Reads the Omega simulator's prefill rows (Google's `init-cluster-state.log`): at most
/// `max_jobs` jobs (of the `only` class, when given), with their ends from the `12` rows.
/// Sizes in the rows are the whole job's; each task gets its share.
pub fn read_google_prefill(
    reader: impl BufRead,
    max_jobs: u64,
    unit: TimeUnit,
    only: Option<WorkloadClass>,
) -> Result<Vec<PrefillJob>, TraceError> {
    let mut prefill = Prefill::default();
    let mut lines = Lines::new(reader);
    while let Some(line) = lines.next_line()? {
        let fields = line.fields();
        if fields.is_empty() {
            continue;
        }
        let row = PrefillRow::read(&line, &fields)?;
        if row.kind == "12" {
            prefill.end(&line, &fields, &row, unit)?;
        } else {
            prefill.start(&line, &fields, &row, max_jobs, only)?;
        }
    }
    Ok(prefill.jobs)
}

/// The fields every prefill row has, checked: its kind (`11` a start, `12` an end), time, job
/// id (with its column), and the job's prod flag and scheduling class.
struct PrefillRow<'l> {
    kind: &'l str,
    time: f64,
    id_col: u32,
    id: &'l str,
    prod: i64,
    class: i64,
}

impl<'l> PrefillRow<'l> {
    fn read(line: &Line, fields: &[(u32, &'l str)]) -> Result<PrefillRow<'l>, TraceError> {
        let (kind_col, kind) = fields[0];
        let want = match kind {
            "11" => 8,
            "12" => 6,
            other => {
                return Err(line.error(
                    kind_col,
                    other.chars().count(),
                    format!("unknown row type `{other}` (11: a job running at the start, 12: its end)"),
                    Some(PREFILL_HELP),
                ));
            }
        };
        if fields.len() != want {
            return Err(line.error(
                0,
                0,
                format!("{} fields; a `{kind}` row has {want}", fields.len()),
                Some(PREFILL_HELP),
            ));
        }
        let time = number(line, fields[1], "field 2, a time")?;
        let (id_col, id) = fields[2];
        if !id.bytes().all(|b| b.is_ascii_digit()) || id.len() > 40 {
            return Err(line.error(id_col, id.chars().count(), format!("`{id}` is not a job id (digits)"), None));
        }
        let prod = integer(line, fields[3], "field 4, prod: 0 or 1")?;
        let class = integer(line, fields[4], "field 5, the scheduling class: 0 to 3")?;
        if !(0..=1).contains(&prod) {
            return Err(line.error(fields[3].0, fields[3].1.len(), "prod is 0 or 1", Some(PREFILL_HELP)));
        }
        if !(0..=3).contains(&class) {
            return Err(line.error(
                fields[4].0,
                fields[4].1.len(),
                "the scheduling class is 0 to 3",
                Some(PREFILL_HELP),
            ));
        }
        Ok(PrefillRow { kind, time, id_col, id, prod, class })
    }
}

/// The prefill jobs read so far.
#[derive(Default)]
struct Prefill {
    jobs: Vec<PrefillJob>,
    /// Each kept job's index in `jobs`, by id.
    kept: BTreeMap<String, usize>,
    /// Every job id of an `11` row, kept or not, so an end row for an unknown job is an error.
    seen: BTreeSet<String>,
    tasks_total: u64,
}

impl Prefill {
    /// A `12` row: the end of a job an earlier row started, which becomes its run time.
    fn end(
        &mut self,
        line: &Line,
        fields: &[(u32, &str)],
        row: &PrefillRow<'_>,
        unit: TimeUnit,
    ) -> Result<(), TraceError> {
        let (time, id) = (row.time, row.id);
        if !self.seen.contains(id) {
            return Err(line.error(
                row.id_col,
                id.len(),
                format!("an end row for job {id}, which no earlier `11` row starts"),
                Some(PREFILL_HELP),
            ));
        }
        if time < 0.0 {
            return Err(line.error(fields[1].0, fields[1].1.len(), "an end time is not negative", None));
        }
        let seconds = match unit {
            TimeUnit::Seconds => time,
            TimeUnit::Microseconds => time / 1e6,
        };
        within_time(line, fields[1], seconds, "an end time")?;
        if let Some(&i) = self.kept.get(id) {
            let ns = match unit {
                TimeUnit::Seconds => time * 1e9,
                TimeUnit::Microseconds => time * 1e3,
            };
            // At most 100 years (checked above): far from u64's end.
            self.jobs[i].run_for = Some(SimDuration(ns.round() as u64));
        }
        Ok(())
    }

    /// An `11` row: a job running at the start, kept while fewer than `max_jobs` are (and when
    /// of the `only` class).
    fn start(
        &mut self,
        line: &Line,
        fields: &[(u32, &str)],
        row: &PrefillRow<'_>,
        max_jobs: u64,
        only: Option<WorkloadClass>,
    ) -> Result<(), TraceError> {
        let id = row.id;
        if !self.seen.insert(id.to_string()) {
            return Err(line.error(row.id_col, id.len(), format!("job {id} starts twice"), None));
        }
        // The Omega paper's CMB_PBB split: service is production work of class 2 or 3.
        let workload = if row.prod == 1 && row.class >= 2 { WorkloadClass::Service } else { WorkloadClass::Batch };
        if self.jobs.len() as u64 >= max_jobs || only.is_some_and(|o| o != workload) {
            return Ok(());
        }
        let tasks = integer(line, fields[5], "field 6, the number of tasks")?;
        if !(1..=1_000_000).contains(&tasks) {
            return Err(line.error(fields[5].0, fields[5].1.len(), "a job has 1 to 10^6 tasks", None));
        }
        let (cpu_milli, memory_bytes) = task_share(line, fields, tasks)?;
        self.tasks_total += tasks as u64;
        if self.tasks_total > MAX_TRACE_TASKS {
            return Err(line.error(
                0,
                0,
                format!("the trace's jobs add up to more than {MAX_TRACE_TASKS} pods"),
                Some("read fewer jobs with `maxJobs`"),
            ));
        }
        self.kept.insert(id.to_string(), self.jobs.len());
        self.jobs.push(PrefillJob {
            id: id.to_string(),
            tasks: tasks as u32,
            // Exact integers from here on: the nearest millicore and byte of each task's share.
            cpu_milli_per_task: cpu_milli as u64,
            memory_bytes_per_task: memory_bytes as u64,
            run_for: None,
            workload,
        });
        Ok(())
    }
}

/// Each of a start row's `tasks` tasks' share of the job's CPU and memory, in millicores and
/// bytes (rounded): a pod's request, so within what one object may name, and sums of requests
/// stay far from u64's end.
fn task_share(line: &Line, fields: &[(u32, &str)], tasks: i64) -> Result<(f64, f64), TraceError> {
    let cpu = number(line, fields[6], "field 7, the job's CPU in cores")?;
    let ram = number(line, fields[7], "field 8, the job's memory in bytes")?;
    if !(0.0..=1e9).contains(&cpu) {
        return Err(line.error(fields[6].0, fields[6].1.len(), "CPU cores from 0 to 10^9", None));
    }
    if !(0.0..=1e18).contains(&ram) {
        return Err(line.error(fields[7].0, fields[7].1.len(), "memory bytes from 0 to 10^18", None));
    }
    let (cpu_milli, memory_bytes) = ((cpu * 1000.0 / tasks as f64).round(), (ram / tasks as f64).round());
    for (field, per_task, unit, what) in
        [(fields[6], cpu_milli, Unit::Milli, "millicores"), (fields[7], memory_bytes, Unit::Bytes, "bytes")]
    {
        if per_task > unit.limit() as f64 {
            let message = format!(
                "each of the job's {tasks} tasks would ask for {per_task:e} {what}; a pod asks for at most {}",
                unit.limit()
            );
            return Err(line.error(field.0, field.1.chars().count(), message, None));
        }
    }
    Ok((cpu_milli, memory_bytes))
}

/// Which rows of a `*_cmb.log` to take: the workload class, and the cell and assignment
/// policy when the file has several.
#[derive(Clone, Copy, Debug)]
pub struct OmegaSelect<'a> {
    pub class: WorkloadClass,
    pub cell: Option<&'a str>,
    pub policy: Option<&'a str>,
}

const CMB_HELP: &str = "a *_cmb.log line is `<cell> <assignment policy> <0 batch | 1 service> <value>`";

/// Reads one empirical distribution of the Omega simulator (`<cell> <policy> <0|1> <value>`
/// lines), the selected rows' values sorted, each times `scale`.
pub fn read_omega_distribution(
    reader: impl BufRead,
    select: OmegaSelect<'_>,
    scale: f64,
) -> Result<Vec<f64>, TraceError> {
    let want = if select.class == WorkloadClass::Service { "1" } else { "0" };
    let mut cells: BTreeSet<String> = BTreeSet::new();
    let mut policies: BTreeSet<String> = BTreeSet::new();
    let mut values: Vec<f64> = Vec::new();
    let mut lines = Lines::new(reader);
    while let Some(line) = lines.next_line()? {
        let fields = line.fields();
        if fields.is_empty() {
            continue;
        }
        let [(_, cell), (_, policy), (which_col, which), (value_col, value)] = fields[..] else {
            return Err(line.error(0, 0, format!("{} fields; a *_cmb.log line has 4", fields.len()), Some(CMB_HELP)));
        };
        if which != "0" && which != "1" {
            return Err(line.error(
                which_col,
                which.chars().count(),
                format!("`{which}` is not a workload (0 batch, 1 service)"),
                Some(CMB_HELP),
            ));
        }
        let v = number(&line, (value_col, value), "the value")?;
        if v < 0.0 {
            return Err(line.error(value_col, value.chars().count(), "values are not negative", Some(CMB_HELP)));
        }
        // Values are seconds or counts; either way, past 100 years' seconds they are absurd,
        // and as seconds they would not fit podlab's time.
        within_time(&line, (value_col, value), v, "a value")?;
        cells.insert(cell.to_string());
        policies.insert(policy.to_string());
        if select.cell.is_some_and(|c| c != cell) || select.policy.is_some_and(|p| p != policy) || which != want {
            continue;
        }
        values.push(v * scale);
    }
    let list = |set: &BTreeSet<String>| set.iter().map(String::as_str).collect::<Vec<_>>().join(", ");
    for (chosen, set, what, field) in
        [(select.cell, &cells, "cell", "cell"), (select.policy, &policies, "assignment policy", "policy")]
    {
        match chosen {
            Some(c) if !set.contains(c) => {
                return Err(TraceError::whole_file(
                    format!("no rows of {what} `{c}`; the file has: {}", list(set)),
                    Some(format!("choose one of them with `{field}:` (--{field} on the command line)")),
                ));
            }
            None if set.len() > 1 => {
                return Err(TraceError::whole_file(
                    format!("the file mixes {what}s {}", list(set)),
                    Some(format!("choose one with `{field}:` (--{field} on the command line)")),
                ));
            }
            _ => {}
        }
    }
    if values.is_empty() {
        return Err(TraceError::whole_file(
            format!("no {} rows (column 3 = {want}) in the file", select.class.as_str()),
            Some("name the other workload, or a file with rows of this one".into()),
        ));
    }
    values.sort_by(f64::total_cmp);
    Ok(values)
}

/// The cells and assignment policies a `*_cmb.log` holds, in sorted order.
pub fn omega_cells_and_policies(reader: impl BufRead) -> Result<(Vec<String>, Vec<String>), TraceError> {
    let mut cells = BTreeSet::new();
    let mut policies = BTreeSet::new();
    let mut lines = Lines::new(reader);
    while let Some(line) = lines.next_line()? {
        let fields = line.fields();
        if fields.len() != 4 {
            if fields.is_empty() {
                continue;
            }
            return Err(line.error(0, 0, format!("{} fields; a *_cmb.log line has 4", fields.len()), Some(CMB_HELP)));
        }
        cells.insert(fields[0].1.to_string());
        policies.insert(fields[1].1.to_string());
    }
    Ok((cells.into_iter().collect(), policies.into_iter().collect()))
}

/// Reads the Omega simulator's `<cell> <policy> <0 batch | 1 service> <value>` lines for one
/// workload class; `scale` converts the file's unit (seconds → ns, or 1 for counts).
pub fn empirical_from_omega_log(text: &str, class: WorkloadClass, scale: f64) -> Result<Distribution, String> {
    let select = OmegaSelect { class, cell: None, policy: None };
    read_omega_distribution(text.as_bytes(), select, scale)
        .map(|values| Distribution::Empirical(values.into()))
        .map_err(|e| if e.line == 0 { e.message } else { format!("line {}: {}", e.line, e.message) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_lines_are_skipped_in_bulk_keeping_numbers_and_columns() {
        let text = "a\n\n  \r\n\t\n  b c\n\n";
        for capacity in [3, 8192] {
            let mut lines = Lines::new(std::io::BufReader::with_capacity(capacity, text.as_bytes()));
            let mut seen = Vec::new();
            while let Some(line) = lines.next_line().unwrap() {
                if !line.fields().is_empty() {
                    seen.push((line.number, line.text.clone(), line.fields().iter().map(|f| f.0).collect::<Vec<_>>()));
                }
            }
            assert_eq!(seen, vec![(1, "a".into(), vec![1]), (5, "  b c".into(), vec![3, 5])], "capacity {capacity}");
        }
    }

    #[test]
    fn a_file_of_more_lines_than_the_budget_is_refused() {
        // Newlines only, as a gzip bomb inflates them: refused at the line past the budget
        // (the count starts near it; 2^26 newlines take long in a debug build).
        let mut lines = Lines { reader: "\n\n\n".as_bytes(), number: MAX_LINES - 3 };
        assert!(lines.next_line().unwrap().is_none(), "exactly the budget");
        let mut lines = Lines { reader: "\n\n\n\nx".as_bytes(), number: MAX_LINES - 3 };
        let err = lines.next_line().unwrap_err();
        assert_eq!(err.line, MAX_LINES + 1);
        assert!(err.message.contains("more than 67108864 lines"), "{err:?}");
    }

    #[test]
    fn swf_lines_and_positioned_errors() {
        let text = "; MaxProcs: 4\n; Computer: toy\n1 0 5 10 2 -1 -1 2 -1 -1 1 1 1 1 1 1 -1 -1\n\
                    2 3 0 0 1 -1 -1 1 -1 -1 0 1 1 1 1 1 -1 -1\n3 7 0 4 -1 -1 -1 3 -1 -1 1 1 1 1 1 1 -1 -1\n";
        let swf = read_swf(text.as_bytes(), SwfSlice::first(u64::MAX)).unwrap();
        assert_eq!(swf.max_procs, Some(4));
        assert_eq!(swf.skipped, 1, "job 2 never ran");
        assert_eq!(
            swf.jobs,
            [
                SwfJob { number: 1, submit_s: 0, run_s: 10, procs: 2 },
                SwfJob { number: 3, submit_s: 7, run_s: 4, procs: 3 }
            ]
        );
        assert_eq!(read_swf(text.as_bytes(), SwfSlice::first(1)).unwrap().jobs.len(), 1);
        let window = SwfSlice { max_jobs: u64::MAX, from_s: 5, until_s: Some(8) };
        let later = read_swf(text.as_bytes(), window).unwrap();
        assert_eq!(later.jobs.iter().map(|j| j.number).collect::<Vec<_>>(), [3], "submitted at 7 s, in [5 s, 8 s)");
        assert_eq!(later.start_s(), 7, "t = 0 is the slice's first job");
        let bad = "; x\n1 0 5 ten 2 -1 -1 2 -1 -1 1 1 1 1 1 1 -1 -1\n";
        let e = read_swf(bad.as_bytes(), SwfSlice::first(u64::MAX)).unwrap_err();
        assert_eq!((e.line, e.col, e.width), (2, 7, 3), "{e:?}");
        let short = read_swf("1 2 3\n".as_bytes(), SwfSlice::first(u64::MAX)).unwrap_err();
        assert_eq!(short.line, 1);
        assert!(short.message.contains("3 fields"), "{}", short.message);
    }

    #[test]
    fn prefill_rows_split_and_end() {
        let text = "11 0 7 1 3 2 0.5 2000\n11 0 8 0 0 4 1 400\n12 9.5 7 1 3 1\n";
        let jobs = read_google_prefill(text.as_bytes(), u64::MAX, TimeUnit::Seconds, None).unwrap();
        assert_eq!(jobs.len(), 2);
        assert_eq!((jobs[0].cpu_milli_per_task, jobs[0].memory_bytes_per_task), (250, 1000));
        assert_eq!(jobs[0].workload, WorkloadClass::Service);
        assert_eq!(jobs[0].run_for, Some(SimDuration::from_millis(9500)));
        assert_eq!((jobs[1].workload, jobs[1].run_for), (WorkloadClass::Batch, None));
        let service = read_google_prefill(text.as_bytes(), u64::MAX, TimeUnit::Seconds, Some(WorkloadClass::Service));
        assert_eq!(service.unwrap().len(), 1);
        // Beyond maxJobs an end row is skipped, not refused.
        assert_eq!(read_google_prefill(text.as_bytes(), 1, TimeUnit::Microseconds, None).unwrap().len(), 1);
        let orphan = read_google_prefill("12 1 5 0 0 1\n".as_bytes(), 9, TimeUnit::Seconds, None).unwrap_err();
        assert_eq!((orphan.line, orphan.col), (1, 6));
        let kind = read_google_prefill("11 0 7 1 3 2 0.5 2000\n13 0 1 0 0 1\n".as_bytes(), 9, TimeUnit::Seconds, None);
        assert_eq!(kind.unwrap_err().line, 2);
    }

    #[test]
    fn omega_rows_by_cell_and_policy() {
        let text = "a p 0 3\na p 0 1\nb p 0 100\na p 1 7\n";
        let pick = |cell, class| OmegaSelect { class, cell, policy: None };
        let v = read_omega_distribution(text.as_bytes(), pick(Some("a"), WorkloadClass::Batch), 2.0).unwrap();
        assert_eq!(v, [2.0, 6.0]);
        let mixed = read_omega_distribution(text.as_bytes(), pick(None, WorkloadClass::Batch), 1.0).unwrap_err();
        assert!(mixed.message.contains("mixes cells a, b"), "{}", mixed.message);
        let none = read_omega_distribution(text.as_bytes(), pick(Some("c"), WorkloadClass::Batch), 1.0).unwrap_err();
        assert!(none.message.contains("the file has: a, b"), "{}", none.message);
        let bad = read_omega_distribution("a p 2 1\n".as_bytes(), pick(None, WorkloadClass::Batch), 1.0).unwrap_err();
        assert_eq!((bad.line, bad.col), (1, 5));
        assert_eq!(
            omega_cells_and_policies(text.as_bytes()).unwrap(),
            (vec!["a".into(), "b".into()], vec!["p".into()])
        );
    }

    /// Empirical draws stay within the observed range and interpolate between quantiles.
    #[test]
    fn empirical_draws_interpolate() {
        let text = "c p 0 1\nc p 0 3\nc p 1 100\n";
        let d = empirical_from_omega_log(text, WorkloadClass::Batch, 1.0).unwrap();
        assert_eq!(d, Distribution::Empirical(vec![1.0, 3.0].into()));
        let mut rng = crate::rng::stream(1, "t");
        let draws: Vec<f64> = (0..1000).map(|_| d.sample(&mut rng)).collect();
        assert!(draws.iter().all(|&v| (1.0..=3.0).contains(&v)));
        let mean = draws.iter().sum::<f64>() / draws.len() as f64;
        assert!((mean - 2.0).abs() < 0.1, "mean {mean}");
        assert!(empirical_from_omega_log("c p 0 x\n", WorkloadClass::Batch, 1.0).is_err());
        assert!(empirical_from_omega_log("c p 0 1\n", WorkloadClass::Service, 1.0).is_err());
    }
}
