//! The ReplicaSet controller: creates a ReplicaSet's pods, and a replacement whenever one of
//! them stops (it failed, was evicted, or finished), so that `replicas` stay alive.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use podlab_cluster::objects::ReplicaSetSpec;
use podlab_cluster::rng::below;
use podlab_cluster::{Action, Context, Controller, Event, PodId};

/// The characters Kubernetes uses for generated name suffixes (no vowels, no look-alikes).
const SUFFIX_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

struct Owned {
    spec: ReplicaSetSpec,
    /// Pods of this ReplicaSet that exist and have not stopped (as this controller knows).
    alive: BTreeSet<PodId>,
    /// Creations asked for and not yet seen in the watch.
    creating: u32,
}

pub struct ReplicaSetController {
    sets: Vec<Owned>,
    names: BTreeSet<String>,
    owner_of: BTreeMap<PodId, usize>,
    /// Its informer has listed the cluster: before, a missing replica may only be unseen.
    synced: bool,
}

impl ReplicaSetController {
    pub fn new(specs: Vec<ReplicaSetSpec>) -> ReplicaSetController {
        ReplicaSetController {
            sets: specs.into_iter().map(|spec| Owned { spec, alive: BTreeSet::new(), creating: 0 }).collect(),
            names: BTreeSet::new(),
            owner_of: BTreeMap::new(),
            synced: false,
        }
    }

    /// Creates pods until each ReplicaSet has its replicas (counting creations in flight).
    fn reconcile(&mut self, ctx: &mut Context<'_>) {
        if !self.synced {
            return;
        }
        for i in 0..self.sets.len() {
            while (self.sets[i].alive.len() as u32 + self.sets[i].creating) < self.sets[i].spec.replicas {
                let name = loop {
                    let suffix: String = (0..5)
                        .map(|_| SUFFIX_ALPHABET[below(ctx.rng(), SUFFIX_ALPHABET.len() as u64) as usize] as char)
                        .collect();
                    let name = format!("{}-{suffix}", self.sets[i].spec.name);
                    if self.names.insert(name.clone()) {
                        break name;
                    }
                };
                let mut pod = (*self.sets[i].spec.template).clone();
                pod.name = name.into();
                self.sets[i].creating += 1;
                ctx.act(Action::CreatePod { spec: Arc::new(pod) });
            }
        }
    }
}

impl Controller for ReplicaSetController {
    fn name(&self) -> &str {
        "replicaset-controller"
    }

    fn handle(&mut self, event: &Event, ctx: &mut Context<'_>) {
        match event {
            Event::Start => {}
            Event::Synced => self.synced = true,
            Event::PodAdded { pod, spec } => {
                let owner = spec.owner.as_ref().and_then(|o| {
                    self.sets.iter().position(|s| s.spec.name == *o && s.spec.namespace == spec.namespace)
                });
                let Some(i) = owner else { return };
                self.owner_of.insert(*pod, i);
                let set = &mut self.sets[i];
                set.creating = set.creating.saturating_sub(1);
                set.alive.insert(*pod);
            }
            Event::Ended { pod, .. } => {
                if let Some(&i) = self.owner_of.get(pod) {
                    self.sets[i].alive.remove(pod);
                }
            }
            _ => return,
        }
        self.reconcile(ctx);
    }
}
