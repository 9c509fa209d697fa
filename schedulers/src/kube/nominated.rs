//! Pods nominated to nodes in the filters (`RunFilterPluginsWithNominatedPods` and
//! `addGENominatedPods` of upstream's `pkg/scheduler/framework/runtime/framework.go`): a pod
//! nominated by a preemption and not bound yet holds its room against pods of lower or equal
//! priority. Both a cycle's Filter phase and preemption's dry run go through here.
//!
//! Upstream adds the nominated pods to a copy of the node and updates the cycle's PreFilter
//! state with the plugins' AddPod extensions; here they are added to a copy of the snapshot and
//! every plugin's PreFilter runs on it — the state a plugin computes from a snapshot is the one
//! upstream's extensions reach.

use podlab_cluster::{NodeId, Pod};

use super::plugin::Status;
use super::profile::Profile;
use super::snapshot::{PlacedPod, Snapshot};

/// The nominated pods on `node` that count when filters run for `pod` (`addGENominatedPods`):
/// those of at least its priority, other than itself.
pub(crate) fn nominated_on<'a>(
    pod: &'a Pod,
    node: NodeId,
    nominated: &'a [(NodeId, PlacedPod)],
) -> impl Iterator<Item = &'a PlacedPod> + 'a {
    nominated
        .iter()
        .filter(move |(n, p)| *n == node && p.pod.priority >= pod.priority && !same_pod(&p.pod, pod))
        .map(|(_, p)| p)
}

/// PreFilter and the node's filters with `nominated` placed on node `index` of `work`, then,
/// if there were any and they passed, without them; `work` is left as it was.
pub(crate) fn with_nominated(
    profile: &mut Profile,
    pod: &Pod,
    work: &mut Snapshot,
    index: usize,
    nominated: &[&PlacedPod],
) -> Result<(), (&'static str, Status)> {
    if nominated.is_empty() {
        return filter_node(profile, pod, work, index);
    }
    for p in nominated {
        work.nodes[index].add((*p).clone());
    }
    let with = filter_node(profile, pod, work, index);
    for p in nominated {
        work.nodes[index].remove(&p.pod.namespace, &p.pod.name);
    }
    with?;
    filter_node(profile, pod, work, index)
}

/// A cycle's filters on node `index` of `snapshot` when pods are nominated to it
/// (`RunFilterPluginsWithNominatedPods`): with those of at least `pod`'s priority placed there
/// (PreFilter run on that state), then without them. Every plugin's PreFilter is run on
/// `snapshot` again before returning, so the cycle's state is as before for the other nodes.
/// Returns the first refusal and the plugin that made it.
pub fn filter_with_nominated(
    profile: &mut Profile,
    pod: &Pod,
    snapshot: &Snapshot,
    index: usize,
    nominated: &[(NodeId, PlacedPod)],
) -> Result<(), (&'static str, Status)> {
    let Some(node) = snapshot.nodes.get(index) else { return Ok(()) };
    let on: Vec<&PlacedPod> = nominated_on(pod, node.id, nominated).collect();
    if on.is_empty() {
        let node = &snapshot.nodes[index];
        return profile
            .plugins
            .iter()
            .filter(|e| e.plugin.filters())
            .try_for_each(|e| e.plugin.filter(pod, node, snapshot).map_err(|status| (e.plugin.name(), status)));
    }
    let verdict = with_nominated(profile, pod, &mut snapshot.clone(), index, &on);
    for entry in &mut profile.plugins {
        // The cycle's PreFilter passed on this snapshot; it does again.
        let _ = entry.plugin.pre_filter(pod, snapshot);
    }
    verdict
}

fn same_pod(a: &Pod, b: &Pod) -> bool {
    a.namespace == b.namespace && a.name == b.name
}

/// Every plugin's PreFilter on the snapshot, then the filters on one node in profile order,
/// as `cycle::run` does: the first refusal is the node's status, with its plugin.
pub(crate) fn filter_node(
    profile: &mut Profile,
    pod: &Pod,
    work: &Snapshot,
    index: usize,
) -> Result<(), (&'static str, Status)> {
    for entry in &mut profile.plugins {
        entry.plugin.pre_filter(pod, work).map_err(|status| (entry.plugin.name(), status))?;
    }
    let node = &work.nodes[index];
    profile
        .plugins
        .iter()
        .filter(|e| e.plugin.filters())
        .try_for_each(|e| e.plugin.filter(pod, node, work).map_err(|status| (e.plugin.name(), status)))
}
