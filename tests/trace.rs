//! `trace.json` is valid Chrome trace-event JSON that Perfetto opens: a named process per node,
//! a named track per pod, an exact complete event per bound part, and allocation counters.

mod common;

use podlab::reports::trace::trace_json;
use serde_json::Value;

fn events_of(policy: &str) -> (String, Vec<Value>) {
    let scenario = common::bundled("coscheduling.yaml");
    let run = podlab::run_policy(&scenario, policy, scenario.seed, true).unwrap();
    let text = trace_json(&scenario, &run.sim.records, run.sim.end);
    let json: Value = serde_json::from_str(&text).expect("trace.json is valid JSON");
    let events = json["traceEvents"].as_array().expect("a traceEvents array").clone();
    (text, events)
}

fn with<'a>(events: &'a [Value], ph: &str, name: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["ph"] == ph && (name.is_empty() || e["name"] == name)).collect()
}

/// Per container, the pod's two containers are two complete events on two node processes, each
/// 10 minutes long in exact microseconds; the counters show node-b holding App's 1 GiB.
#[test]
fn per_container_trace_shows_the_split() {
    let (text, events) = events_of("per-container");
    let processes: Vec<&str> =
        with(&events, "M", "process_name").iter().map(|e| e["args"]["name"].as_str().unwrap()).collect();
    assert_eq!(processes, ["node node-a", "node node-b"]);
    let tracks = with(&events, "M", "thread_name");
    assert_eq!(tracks.len(), 2, "one track for the pod on each node it ran on");
    assert!(tracks.iter().all(|t| t["args"]["name"] == "app-with-logs"));

    let parts = with(&events, "X", "");
    let mut placed: Vec<(&str, i64)> =
        parts.iter().map(|e| (e["name"].as_str().unwrap(), e["pid"].as_i64().unwrap())).collect();
    placed.sort();
    assert_eq!(placed, [("app-with-logs/app", 2), ("app-with-logs/log-collector", 1)]);
    assert!(parts.iter().all(|e| e["args"]["split"] == true && e["tid"] == 1));
    // Exact decimals from integer nanoseconds, not a float's rendering: App binds after the
    // scheduler's 1 ms decision and runs its 10 minutes.
    assert!(text.contains(r#""ts":1000.000,"dur":600000000.000"#), "{text}");

    let memory = with(&events, "C", "memory allocated (bytes)");
    let on_b: Vec<i64> =
        memory.iter().filter(|e| e["pid"] == 2).map(|e| e["args"]["allocated"].as_i64().unwrap()).collect();
    assert_eq!(on_b, [0, 1 << 30, 0], "node-b: added, App bound, App ended");
    assert!(memory.iter().all(|e| e["args"]["allocatable"].as_i64().unwrap() > 0));
}

/// Under kubernetes the pod is one complete event on node-b, not split.
#[test]
fn kubernetes_trace_places_the_pod_whole() {
    let (_, events) = events_of("kubernetes");
    let parts = with(&events, "X", "");
    assert_eq!(parts.len(), 1);
    assert_eq!((parts[0]["name"].as_str(), parts[0]["pid"].as_i64()), (Some("app-with-logs"), Some(2)));
    assert_eq!(parts[0]["args"]["split"], false);
    assert_eq!(parts[0]["dur"].as_f64(), Some(600_000_000.0));
}
