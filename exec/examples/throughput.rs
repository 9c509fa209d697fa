//! Decisions a second across the exec protocol: `nodes` nodes and `pods` one-CPU pods arriving
//! one a millisecond and running a minute (the shape of podlab's scale scenario), placed by
//! an external policy.
//!
//!     cargo run --release -p podlab-exec --example throughput -- 1000 10000 COMMAND
#![allow(
    clippy::disallowed_macros,
    reason = "one line printed at its end, for a person: a closed pipe loses nothing after it"
)]
#![allow(clippy::disallowed_types)] // Instant: this program measures wall time.

use std::sync::Arc;
use std::time::Instant;

use podlab_cluster::config::Component;
use podlab_cluster::{Controller, Record};
use podlab_exec::{ExecSpec, failure_slot, take_failure};
use podlab_scenario::{LoadOptions, parse};
use podlab_sim::{RecordThread, SimOptions};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(nodes), Some(pods), Some(command)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: throughput NODES PODS COMMAND");
        std::process::exit(2);
    };
    let text = format!(
        "apiVersion: podlab.dev/v1alpha1
kind: Simulation
metadata: {{name: throughput}}
spec:
  nodePools: [{{name: node, count: {nodes}, cpu: \"32\", memory: 128Gi}}]
  workload:
    generators:
    - name: web
      count: {pods}
      interArrival: {{distribution: constant, value: 1ms}}
      tasks: {{distribution: constant, value: \"1\"}}
      runFor: {{distribution: constant, value: 60s}}
      cpu: \"1\"
      memory: 2Gi
"
    );
    let options = LoadOptions { known_policies: &[], allow_paths_outside: false };
    let scenario = parse("throughput.yaml", &text, options).unwrap_or_else(|e| panic!("{e:?}"));
    let instantiated = Arc::new(podlab_scenario::instantiate(&scenario, 1).expect("instantiates"));
    let spec = ExecSpec::parse(&format!("exec:bench={command}")).expect("exec").expect("valid");
    let slot = failure_slot();
    let factory = || vec![spec.controller(&slot)] as Vec<Box<dyn Controller>>;
    let options = SimOptions {
        seed: 1,
        check_invariants: false,
        keep_records: true,
        record_thread: RecordThread::Never,
        budgets: Default::default(),
    };
    let started = Instant::now();
    let sim = podlab_sim::run(instantiated, Box::new(factory), vec![Component::Scheduler], options, &mut ());
    let took = started.elapsed().as_secs_f64();
    if let Some(error) = take_failure(&slot) {
        eprintln!("{error}");
        std::process::exit(1);
    }
    let bound = sim.records.iter().filter(|s| matches!(s.record, Record::Bound { .. })).count();
    println!(
        "{bound} decisions in {took:.3} s: {:.0} decisions/s ({} deliveries; {})",
        bound as f64 / took,
        sim.events_processed,
        sim.digest
    );
}
