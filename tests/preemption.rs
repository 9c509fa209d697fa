//! Preemption end to end. The backends: `Action::Preempt` writes `Record::Preempted` and
//! deletes its victims gracefully — at once on the ideal control plane, once the victim's
//! kubelet has seen the deletion and stopped it on a modelled one — and the preemptor binds
//! where the victim was. The `kubernetes` policy: DefaultPreemption after a cycle with no node,
//! PodDisruptionBudgets respected, `preemptionPolicy: Never` honoured, the nominated node tried
//! first and its room held against pods of lower priority.

mod common;

use std::sync::Arc;

use common::{load, node, pod, run_checked};
use podlab::cluster::config::{Component, ControlPlaneConfig};
use podlab::cluster::{Action, Context, Controller, Event, NodeId, Part, Phase, PodId, Record, SimTime};
use podlab::sim::{RecordThread, SimOptions};

/// Binds `low` to the node, preempts it for `high` once both exist, and binds `high` when
/// `low` has ended.
#[derive(Default)]
struct Preemptor {
    low: Option<PodId>,
    high: Option<PodId>,
    low_bound: bool,
    preempted: bool,
}

impl Controller for Preemptor {
    fn name(&self) -> &str {
        "preemptor"
    }

    fn handle(&mut self, event: &Event, ctx: &mut Context<'_>) {
        match event {
            Event::PodAdded { pod, spec } if spec.name == "low" => {
                self.low = Some(*pod);
                ctx.act(Action::Bind { pod: *pod, part: Part::Whole, node: NodeId(0) });
            }
            Event::PodAdded { pod, spec } if spec.name == "high" => self.high = Some(*pod),
            Event::Bound { pod, .. } if Some(*pod) == self.low => self.low_bound = true,
            Event::Ended { pod, .. } if Some(*pod) == self.low => {
                if let Some(high) = self.high {
                    ctx.act(Action::Bind { pod: high, part: Part::Whole, node: NodeId(0) });
                }
            }
            _ => {}
        }
        if let (Some(low), Some(high), true, false) = (self.low, self.high, self.low_bound, self.preempted) {
            self.preempted = true;
            ctx.act(Action::Preempt { pod: high, node: NodeId(0), victims: vec![low] });
        }
    }
}

/// Runs the two pods on one node that holds only one of them; returns the records.
fn run(control_plane: Option<ControlPlaneConfig>) -> Vec<podlab::cluster::Stamped> {
    let mut scenario = load(&[
        node("n").cpu("2").memory("4Gi").yaml(),
        pod("low").cpu("1500m").priority(0).yaml(),
        pod("high").cpu("1500m").priority(100).yaml(),
    ]);
    scenario.control_plane = control_plane;
    let options = SimOptions {
        seed: 1,
        check_invariants: true,
        keep_records: true,
        record_thread: RecordThread::Never,
        budgets: Default::default(),
    };
    let factory = || vec![Box::new(Preemptor::default()) as Box<dyn Controller>];
    let run = podlab::sim::run(Arc::new(scenario), Box::new(factory), vec![Component::Scheduler], options, &mut ());
    assert!(run.violations.is_empty(), "{:#?}", run.violations);
    run.records.iter().collect()
}

fn when(records: &[podlab::cluster::Stamped], what: impl Fn(&Record) -> bool) -> Option<SimTime> {
    records.iter().find(|s| what(&s.record)).map(|s| s.time)
}

#[test]
fn a_victim_ends_failed_and_the_preemptor_takes_its_place() {
    for (control_plane, graceful) in [(None, false), (Some(ControlPlaneConfig::kubernetes()), true)] {
        let records = run(control_plane);
        let (low, high) = (PodId(0), PodId(1));
        let preempted = when(
            &records,
            |r| matches!(r, Record::Preempted { pod, node: NodeId(0), victims } if *pod == high && *victims == [low]),
        )
        .expect("a preempted record");
        let ended = when(&records, |r| matches!(r, Record::Ended { pod, phase: Phase::Failed, .. } if *pod == low))
            .expect("the victim ends Failed");
        let bound = when(&records, |r| matches!(r, Record::Bound { pod, node: NodeId(0), .. } if *pod == high))
            .expect("the preemptor binds to the victim's node");
        assert!(preempted <= ended && ended <= bound, "{preempted:?} {ended:?} {bound:?}");
        // Graceful: the victim holds its place until its kubelet has stopped it.
        assert_eq!(ended > preempted, graceful, "preempted at {preempted:?}, ended at {ended:?}");
        let kind = records.iter().find(|s| matches!(s.record, Record::Preempted { .. })).map(|s| s.record.kind());
        assert_eq!(kind, Some("preempted"));
    }
}

/// The bundled lesson, on both control planes: the critical pod preempts a batch pod, not the
/// database replica its budget protects, and binds where the victim was; the urgent pod then
/// takes the other node, whose batch pod can go, rather than the critical pod's node, where only
/// a protected replica could; the report pod (`preemptionPolicy: Never`) preempts nothing.
#[test]
fn the_kubernetes_policy_preempts_and_respects_the_budget() {
    let mut scenario = common::bundled("preemption.yaml");
    for ideal in [false, true] {
        if ideal {
            scenario.control_plane = None;
        }
        let run = run_checked(&scenario, "kubernetes", 1);
        let s = &*run.scenario;
        let id = |name: &str| s.pod_named(name).expect("a pod of the lesson");
        let preempted: Vec<(PodId, NodeId, Vec<PodId>)> = run
            .sim
            .records
            .iter()
            .filter_map(|r| match r.record {
                Record::Preempted { pod, node, victims } => Some((pod, node, victims)),
                _ => None,
            })
            .collect();
        let [(critical, first, one), (urgent, second, other)] = preempted.as_slice() else {
            panic!("two preemptions: {preempted:?}")
        };
        assert_eq!((*critical, *urgent), (id("critical"), id("urgent")));
        assert_ne!(first, second, "the urgent pod goes where no budget would break");
        for victims in [one, other] {
            let [victim] = victims.as_slice() else { panic!("one victim: {victims:?}") };
            assert!([id("batch-1"), id("batch-2")].contains(victim), "the budget protects db: {victim:?}");
        }
        let on = |name: &str| common::nodes_of(s, &run, name);
        assert_eq!(on("critical"), vec![s.nodes[first.index()].name.clone()]);
        assert_eq!(on("urgent"), vec![s.nodes[second.index()].name.clone()]);
        assert!(run.verdicts.iter().all(|v| v.holds()), "{:?}", run.verdicts);
        assert_eq!((run.summary.preemptions, run.summary.victims), (2, 2));
    }
}

/// A pod nominated by its preemption keeps the room it made: a pod of lower priority that
/// arrives while the preemptor waits out its backoff finds the node full.
#[test]
fn a_nominated_pod_keeps_its_room() {
    let timeline = "---\napiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {name: hold}\nspec:\n  \
                    duration: 1m\n  timeline:\n  - {at: 0s, create: [Pod/victim]}\n  \
                    - {at: 10s, create: [Pod/preemptor]}\n  - {at: 10500ms, create: [Pod/sneaky]}\n";
    let scenario = load(&[
        node("n").cpu("4").memory("8Gi").yaml(),
        pod("victim").cpu("3").priority(0).yaml(),
        pod("preemptor").cpu("3").priority(100).yaml(),
        pod("sneaky").cpu("3").priority(50).yaml(),
        timeline.to_string(),
    ]);
    let run = run_checked(&scenario, "kubernetes", 1);
    let s = &*run.scenario;
    assert_eq!(common::nodes_of(s, &run, "preemptor"), vec!["n".to_string()]);
    assert!(common::nodes_of(s, &run, "sneaky").is_empty(), "the lower-priority pod took the nominated room");
    let sneaky = s.pod_named("sneaky").expect("sneaky");
    let refused = run.sim.records.iter().any(|r| {
        matches!(&r.record, Record::Unschedulable { pod, message, .. } if *pod == sneaky && message.contains("Insufficient cpu"))
    });
    assert!(refused, "sneaky is refused for the room the preemptor holds");
}
