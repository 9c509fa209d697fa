//! The one rule of an optimistic transaction (the Omega paper's commit), shared by both
//! backends: the simulator and real mode's Docker backend carry out `Action::Commit` through
//! [`commit`], so their conflicts cannot drift apart.
//!
//! Coarse-grained detection compares each claim with its node's sequence number as it was when
//! the transaction began, so two claims of one transaction on one node never conflict with each
//! other by number — and every claim is still checked for fit, so no mode can over-commit a
//! node (the original simulator's defect).

use crate::books::NodeUse;
use crate::event::{Claim, ConflictDetection};
use crate::objects::{NodeId, Part, PodId};
use crate::resources::Resources;

/// A backend's cluster as a commit sees it.
pub trait Ledger {
    /// The node's books; `None` if there is no such node.
    fn books(&self, node: NodeId) -> Option<&NodeUse>;
    /// Whether the node takes parts now (it has joined, and in real mode has not crashed).
    fn takes_parts(&self, node: NodeId) -> bool;
    /// What a part requests.
    fn requests(&self, pod: PodId, part: Part) -> &Resources;
    /// Binds a claim's part as a binding would (checked against the true state, recorded and
    /// broadcast); whether it was.
    fn bind(&mut self, claim: &Claim) -> bool;
    /// Records that a claim conflicted.
    fn conflict(&mut self, claim: &Claim);
}

/// Carries out a transaction's claims: the accepted ones, bound, and the conflicted ones, each
/// recorded. All-or-nothing first tries them all on a scratch copy of the books and, at the
/// first conflict, applies none (and answers with that claim alone).
pub fn commit(
    ledger: &mut impl Ledger,
    claims: Vec<Claim>,
    detection: ConflictDetection,
    all_or_nothing: bool,
) -> (Vec<Claim>, Vec<Claim>) {
    // The numbers as the transaction began, read only where they decide (coarse detection).
    let coarse = detection == ConflictDetection::Coarse;
    let seq_at_start: Vec<u64> = if coarse {
        claims.iter().map(|c| ledger.books(c.node).map_or(u64::MAX, |b| b.seq)).collect()
    } else {
        Vec::new()
    };
    let stale = |i: usize, c: &Claim| coarse && seq_at_start[i] != c.seen_seq;
    if all_or_nothing && let Some(i) = first_conflict(ledger, &claims, stale) {
        ledger.conflict(&claims[i]);
        return (Vec::new(), vec![claims[i]]);
    }
    // Nearly every claim is accepted: the transaction's own vector keeps them, in order,
    // rather than a new one grown (and copied) a claim at a time.
    let (mut accepted, mut conflicted) = (claims, Vec::new());
    let mut i = 0;
    accepted.retain(|c| {
        let bound = !stale(i, c) && ledger.bind(c);
        i += 1;
        if !bound {
            ledger.conflict(c);
            conflicted.push(*c);
        }
        bound
    });
    (accepted, conflicted)
}

/// The dry run of an all-or-nothing transaction, on a scratch copy of the requests: the first
/// claim that is stale or would not fit beside the claims before it.
fn first_conflict(ledger: &impl Ledger, claims: &[Claim], stale: impl Fn(usize, &Claim) -> bool) -> Option<usize> {
    let mut scratch: Vec<(NodeId, Resources, u64)> = Vec::new();
    claims.iter().enumerate().position(|(i, c)| {
        let fits = ledger.books(c.node).is_some_and(|books| {
            let slot = scratch.iter().position(|(n, _, _)| *n == c.node).unwrap_or_else(|| {
                scratch.push((c.node, books.requested.clone(), books.parts));
                scratch.len() - 1
            });
            let (_, used, parts) = &mut scratch[slot];
            used.add(ledger.requests(c.pod, c.part));
            *parts += 1;
            ledger.takes_parts(c.node) && books.would_hold(used, *parts)
        });
        stale(i, c) || !fits
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::objects::{Node, Pod, PodSpec};

    /// Two nodes of 1000 millicores and two pods, and a trace of what the commit bound and
    /// recorded.
    struct Books {
        nodes: Vec<NodeUse>,
        pod: PodSpec,
        trace: Vec<String>,
    }

    impl Books {
        fn new() -> Books {
            let node = Node {
                name: "n".into(),
                labels: Default::default(),
                taints: vec![],
                allocatable: Resources::new(1000, 0),
                max_pods: 10,
                unschedulable: false,
                images: Vec::new(),
            };
            let pod = Pod::single("p", Resources::new(600, 0));
            Books { nodes: vec![NodeUse::for_node(&node); 2], pod: (*pod).clone(), trace: Vec::new() }
        }
    }

    impl Ledger for Books {
        fn books(&self, node: NodeId) -> Option<&NodeUse> {
            self.nodes.get(node.index())
        }

        fn takes_parts(&self, _: NodeId) -> bool {
            true
        }

        fn requests(&self, _: PodId, part: Part) -> &Resources {
            self.pod.part_requests(part)
        }

        fn bind(&mut self, c: &Claim) -> bool {
            let bound = self.nodes[c.node.index()].admit(&self.pod, c.pod, c.part).is_ok();
            if bound {
                self.trace.push(format!("bound {} on {}", c.pod.0, c.node.0));
            }
            bound
        }

        fn conflict(&mut self, c: &Claim) {
            self.trace.push(format!("conflict {} on {}", c.pod.0, c.node.0));
        }
    }

    fn claim(pod: u32, node: u32, seen_seq: u64) -> Claim {
        Claim { pod: PodId(pod), part: Part::Whole, node: NodeId(node), seen_seq }
    }

    /// Fine detection: a claim conflicts only when it no longer fits; claims are carried out
    /// one by one.
    #[test]
    fn fine_detection_checks_fit() {
        let mut books = Books::new();
        let (accepted, conflicted) =
            commit(&mut books, vec![claim(0, 0, 9), claim(1, 0, 9), claim(2, 1, 9)], ConflictDetection::Fine, false);
        assert_eq!((accepted.len(), conflicted, books.trace.len()), (2, vec![claim(1, 0, 9)], 3));
        assert_eq!(books.trace, ["bound 0 on 0", "conflict 1 on 0", "bound 2 on 1"]);
    }

    /// Coarse detection: a node's sequence number that moved since the snapshot is a conflict,
    /// but the transaction's own earlier claims on the node do not move it.
    #[test]
    fn coarse_detection_compares_sequence_numbers() {
        let mut books = Books::new();
        books.nodes[1].seq = 5;
        let claims = vec![claim(0, 0, 0), claim(1, 1, 4), claim(2, 1, 5)];
        let (accepted, conflicted) = commit(&mut books, claims, ConflictDetection::Coarse, false);
        assert_eq!((accepted, conflicted), (vec![claim(0, 0, 0), claim(2, 1, 5)], vec![claim(1, 1, 4)]));
    }

    /// All or nothing: the dry run counts the transaction's own claims, and the first that
    /// would not fit rolls back all; none is bound.
    #[test]
    fn all_or_nothing_applies_none_on_a_conflict() {
        let mut books = Books::new();
        let claims = vec![claim(0, 1, 0), claim(1, 0, 0), claim(2, 0, 0)];
        let (accepted, conflicted) = commit(&mut books, claims.clone(), ConflictDetection::Fine, true);
        assert_eq!((accepted, conflicted), (vec![], vec![claim(2, 0, 0)]));
        assert_eq!(books.trace, ["conflict 2 on 0"]);
        let (accepted, _) = commit(&mut books, claims[..2].to_vec(), ConflictDetection::Fine, true);
        assert_eq!(accepted.len(), 2);
    }
}
