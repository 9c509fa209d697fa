//! Every policy keeps off a node that is cordoned (`spec.unschedulable`) or carries a
//! NoSchedule taint from the first instant, not only once the node is updated: a real
//! cluster's dump often starts that way.

mod common;

use common::{load, node, nodes_of, pod, run_checked};

fn cordoned(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Node\nmetadata: {{name: {name}}}\nspec: {{unschedulable: true}}\nstatus: {{allocatable: {{cpu: \"64\", memory: 256Gi}}}}\n"
    )
}

#[test]
fn no_policy_places_a_pod_on_a_closed_node_at_start() {
    // The open node is the smallest, so every policy would rather use the closed ones.
    let mut docs = vec![
        cordoned("cordoned"),
        node("tainted").cpu("64").memory("256Gi").taint("maintenance", "NoSchedule").yaml(),
        node("open").cpu("8").memory("32Gi").yaml(),
    ];
    for i in 0..6 {
        docs.push(pod(&format!("p{i}")).cpu("1").memory("1Gi").run_for("10s").yaml());
    }
    let s = load(&docs);
    for policy in podlab::schedulers::POLICIES {
        for seed in 1..=3 {
            let run = run_checked(&s, policy, seed);
            for i in 0..6 {
                let name = format!("p{i}");
                let nodes = nodes_of(&s, &run, &name);
                assert!(
                    nodes.iter().all(|n| n == "open"),
                    "{policy} (seed {seed}) put {name} on {nodes:?}, a node closed from t = 0"
                );
            }
        }
    }
}
