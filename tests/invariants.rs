//! The invariant checker is a real oracle: it catches over-commitment, double binding and
//! orphan endings when fed records that break them, and stays quiet on honest runs.

mod common;

use podlab::cluster::{NodeId, Part, Phase, PodId, Record, SimTime, Stamped};
use podlab::sim::invariants::Invariants;

use common::{load, node, pod};

fn feed(records: &[Record]) -> Result<(), String> {
    let s = load(&[node("n").cpu("1").memory("1Gi").yaml(), pod("a").cpu("1").yaml(), pod("b").cpu("1").yaml()]);
    let mut inv = Invariants::new(&s);
    for (i, r) in records.iter().enumerate() {
        inv.observe(&s, &Stamped { time: SimTime(i as u64), record: r.clone() })?;
    }
    Ok(())
}

const N: NodeId = NodeId(0);
const A: PodId = PodId(0);
const B: PodId = PodId(1);

/// Two 1-CPU pods bound to a 1-CPU node over-commit it, and the checker says so.
#[test]
fn catches_over_commitment() {
    let base = [Record::NodeAdded { node: N }, Record::PodCreated { pod: A }, Record::PodCreated { pod: B }];
    let mut records = base.to_vec();
    records.push(Record::Bound { pod: A, part: Part::Whole, node: N });
    assert_eq!(feed(&records), Ok(()));
    records.push(Record::Bound { pod: B, part: Part::Whole, node: N });
    let err = feed(&records).unwrap_err();
    assert!(err.contains("over-committed on cpu"), "{err}");
}

/// Binding a pod twice, or a container of a pod already bound whole, is caught.
#[test]
fn catches_double_binding() {
    let mut records = vec![Record::NodeAdded { node: N }, Record::PodCreated { pod: A }];
    records.push(Record::Bound { pod: A, part: Part::Whole, node: N });
    records.push(Record::Ended { pod: A, part: Part::Whole, node: N, phase: Phase::Succeeded });
    records.push(Record::Bound { pod: A, part: Part::Container(0), node: N });
    assert!(feed(&records).unwrap_err().contains("bound twice"));
}

/// A pod that ends without having run, or is bound before it exists, is caught.
#[test]
fn catches_impossible_histories() {
    let ended = [
        Record::NodeAdded { node: N },
        Record::PodCreated { pod: A },
        Record::Ended { pod: A, part: Part::Whole, node: N, phase: Phase::Succeeded },
    ];
    assert!(feed(&ended).unwrap_err().contains("without running"));
    let early = [Record::NodeAdded { node: N }, Record::Bound { pod: A, part: Part::Whole, node: N }];
    assert!(feed(&early).unwrap_err().contains("before it was created"));
}

/// A pod deleted before it was bound never binds afterwards, and only a never-bound pod can be
/// deleted so.
#[test]
fn catches_a_deleted_pod_binding() {
    let deleted = [Record::NodeAdded { node: N }, Record::PodCreated { pod: A }, Record::PodDeleted { pod: A }];
    assert_eq!(feed(&deleted), Ok(()));
    let mut late = deleted.to_vec();
    late.push(Record::Bound { pod: A, part: Part::Whole, node: N });
    assert!(feed(&late).unwrap_err().contains("bound after it was deleted"));
    let ran = [
        Record::NodeAdded { node: N },
        Record::PodCreated { pod: A },
        Record::Bound { pod: A, part: Part::Whole, node: N },
        Record::PodDeleted { pod: A },
    ];
    assert!(feed(&ran).unwrap_err().contains("it was"));
}

/// A gang member that holds its reservation past the gang's timeout is caught.
#[test]
fn catches_reservations_held_past_the_timeout() {
    let s = load(&[node("n").yaml(), common::group("g", 2), pod("a").group("g").yaml()]);
    let mut inv = Invariants::new(&s);
    let by = podlab::cluster::ControllerId(0);
    let reserved = Record::Note { by, note: podlab::cluster::Note::Reserved { pod: A, part: Part::Whole, node: N } };
    let at = |secs: u64, record: Record| Stamped { time: SimTime(secs * 1_000_000_000), record };
    inv.observe(&s, &at(0, Record::NodeAdded { node: N })).unwrap();
    inv.observe(&s, &at(0, Record::PodCreated { pod: A })).unwrap();
    inv.observe(&s, &at(1, reserved)).unwrap();
    inv.observe(&s, &at(61, Record::NodeAdded { node: N })).unwrap();
    let err = inv.observe(&s, &at(62, Record::NodeAdded { node: N })).unwrap_err();
    assert!(err.contains("past its gang's 1m0s timeout"), "{err}");
}

/// A pod bound where kube-scheduler's filters forbid it — a node cordoned or tainted from the
/// start — is caught, for whichever policy bound it.
#[test]
fn catches_a_binding_the_filters_forbid() {
    let cordoned = "apiVersion: v1\nkind: Node\nmetadata: {name: cordoned}\nspec: {unschedulable: true}\nstatus: {allocatable: {cpu: \"4\", memory: 4Gi}}\n";
    let s = load(&[
        cordoned.to_string(),
        node("tainted").cpu("4").memory("4Gi").taint("maintenance", "NoSchedule").yaml(),
        node("open").cpu("4").memory("4Gi").yaml(),
        pod("plain").cpu("1").yaml(),
    ]);
    let bind = |pod: u32, node: u32| {
        let mut inv = Invariants::new(&s);
        let mut records: Vec<Record> = (0..3).map(|n| Record::NodeAdded { node: NodeId(n) }).collect();
        records.push(Record::PodCreated { pod: PodId(pod) });
        records.push(Record::Bound { pod: PodId(pod), part: Part::Whole, node: NodeId(node) });
        records
            .iter()
            .enumerate()
            .try_for_each(|(i, r)| inv.observe(&s, &Stamped { time: SimTime(i as u64), record: r.clone() }))
    };
    assert!(bind(0, 0).unwrap_err().contains("cordoned"));
    assert!(bind(0, 1).unwrap_err().contains("maintenance:NoSchedule"));
    assert_eq!(bind(0, 2), Ok(()));
}
