//! Kubernetes' controller work queue, as the Deployment and Job controllers use it: events
//! only mark objects dirty; one timer at the same instant syncs them, after every event already
//! queued for that instant (a relist, a burst) has been heard — and never before the
//! controller's first List is in (`Event::Synced`), so a restarted controller sees what exists
//! before it creates anything.

use std::collections::BTreeSet;

use podlab_cluster::{Action, Context};

#[derive(Debug)]
pub struct WorkQueue {
    /// The timer token that means "sync now".
    token: u64,
    dirty: BTreeSet<usize>,
    armed: bool,
    synced: bool,
}

impl WorkQueue {
    pub fn new(token: u64) -> WorkQueue {
        WorkQueue { token, dirty: BTreeSet::new(), armed: false, synced: false }
    }

    /// The first List is in.
    pub fn synced(&mut self) {
        self.synced = true;
    }

    /// Marks object `which` (or, with `None`, every one of `all`) for the next sync.
    pub fn mark(&mut self, which: Option<usize>, all: usize, ctx: &mut Context<'_>) {
        match which {
            Some(i) => {
                self.dirty.insert(i);
            }
            None => self.dirty.extend(0..all),
        }
        if !self.armed {
            self.armed = true;
            ctx.act(Action::SetTimer { at: ctx.now(), token: self.token });
        }
    }

    /// The sync timer fired: the objects to reconcile now — none before the first List (what
    /// is dirty stays dirty until then).
    pub fn take(&mut self) -> BTreeSet<usize> {
        self.armed = false;
        if self.synced { std::mem::take(&mut self.dirty) } else { BTreeSet::new() }
    }
}
