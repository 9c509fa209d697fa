//! `trace.json`: a run as Chrome trace events, for Perfetto (ui.perfetto.dev) or
//! chrome://tracing — a process per node, a track per pod, a complete (`X`) event per bound part,
//! and counters of the CPU and memory allocated on each node.
//!
//! Timestamps are microseconds written from the integer nanoseconds as exact decimals
//! (`1500.250`), never through a float, so the file is as exact as the event log.

use std::fmt::Write;

use podlab_cluster::scenario::Scenario;
use podlab_cluster::{Records, SimTime};

use crate::outcome::Outcomes;
use crate::series::{node_changes, spans};

/// Microseconds, exactly, from nanoseconds.
pub fn micros_exact(ns: u64) -> String {
    format!("{}.{:03}", ns / 1000, ns % 1000)
}

/// A JSON string literal.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serializes")
}

/// The trace of one run. Node `i` is process `i + 1` and pod `j` is thread `j + 1` (Perfetto
/// reserves 0), so ids are stable for a scenario.
pub fn trace_json(scenario: &Scenario, records: &Records, end: SimTime) -> String {
    let outcomes = Outcomes::replay(scenario, records, end);
    let spans = spans(&outcomes, end);
    let mut events: Vec<String> = Vec::new();
    for (i, node) in scenario.nodes.iter().enumerate() {
        let pid = i + 1;
        events.push(format!(
            r#"{{"ph":"M","name":"process_name","pid":{pid},"tid":0,"args":{{"name":{}}}}}"#,
            quoted(&format!("node {}", node.name))
        ));
        events.push(format!(
            r#"{{"ph":"M","name":"process_sort_index","pid":{pid},"tid":0,"args":{{"sort_index":{i}}}}}"#
        ));
    }
    // One track per pod on each node it ran on, named once per (node, pod).
    let mut named: Vec<(usize, usize)> = spans.iter().map(|s| (s.node.index(), s.pod.index())).collect();
    named.sort_unstable();
    named.dedup();
    for (node, pod) in named {
        events.push(format!(
            r#"{{"ph":"M","name":"thread_name","pid":{},"tid":{},"args":{{"name":{}}}}}"#,
            node + 1,
            pod + 1,
            quoted(&scenario.pods.get(podlab_cluster::PodId(pod as u32)).key())
        ));
    }
    for s in &spans {
        let pod = &scenario.pods.get(s.pod);
        let group = pod.group().map_or(String::new(), |g| scenario.groups[g.index()].key());
        let o = &outcomes.pods[s.pod.index()];
        let mut args = format!(r#""part":{},"split":{}"#, quoted(pod.part_name(s.part)), o.split());
        if !group.is_empty() {
            let _ = write!(args, r#","group":{}"#, quoted(&group));
        }
        if !s.ended {
            args.push_str(r#","running_at_end":true"#);
        }
        let name = match s.part {
            podlab_cluster::Part::Whole => pod.key(),
            part => format!("{}/{}", pod.key(), pod.part_name(part)),
        };
        events.push(format!(
            r#"{{"ph":"X","name":{},"cat":"pod","pid":{},"tid":{},"ts":{},"dur":{},"args":{{{args}}}}}"#,
            quoted(&name),
            s.node.index() + 1,
            s.pod.index() + 1,
            micros_exact(s.start.as_nanos()),
            micros_exact(s.end.since(s.start).as_nanos()),
        ));
    }
    for c in node_changes(scenario, records, end) {
        let (pid, ts) = (c.node.index() + 1, micros_exact(c.time.as_nanos()));
        events.push(format!(
            r#"{{"ph":"C","name":"cpu allocated (millicores)","pid":{pid},"ts":{ts},"args":{{"allocated":{},"allocatable":{}}}}}"#,
            c.allocated.cpu_milli, c.capacity.cpu_milli
        ));
        events.push(format!(
            r#"{{"ph":"C","name":"memory allocated (bytes)","pid":{pid},"ts":{ts},"args":{{"allocated":{},"allocatable":{}}}}}"#,
            c.allocated.memory_bytes, c.capacity.memory_bytes
        ));
    }
    let mut out = String::from("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n");
    out.push_str(&events.join(",\n"));
    out.push_str("\n]}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Microseconds are exact decimals of the nanoseconds, however large.
    #[test]
    fn micros_are_exact() {
        assert_eq!(micros_exact(0), "0.000");
        assert_eq!(micros_exact(1_500_250), "1500.250");
        assert_eq!(micros_exact(u64::MAX), "18446744073709551.615");
    }
}
