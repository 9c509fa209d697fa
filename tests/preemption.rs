//! Preemption as the backends carry it out: `Action::Preempt` writes `Record::Preempted` and
//! deletes its victims gracefully — at once on the ideal control plane, once the victim's
//! kubelet has seen the deletion and stopped it on a modelled one — and the preemptor binds
//! where the victim was.

mod common;

use std::sync::Arc;

use common::{load, node, pod};
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
    let options =
        SimOptions { seed: 1, check_invariants: true, keep_records: true, record_thread: RecordThread::Never };
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
