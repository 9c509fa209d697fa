//! The Omega paper's job-level machinery, shared by the `monolithic`, `omega` and `mesos`
//! policies: jobs (a PodGroup or a lone pod) and their unplaced tasks, the decision time, the
//! randomised first fit, retries after 1 s and abandonment, and the routing of jobs among
//! several schedulers.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use podlab_cluster::config::{DecisionTime, Placement, Retry, SchedulerSpec, WorkloadClass};
use podlab_cluster::event::OfferedNodes;
use podlab_cluster::id_window::IdWindow;
use podlab_cluster::maybe::Maybe;
use podlab_cluster::objects::PodSpec;
use podlab_cluster::rng::below;
use podlab_cluster::{JobRef, NodeId, Pod, PodId, Resources};
use rand_chacha::ChaCha8Rng;

/// A job as a scheduler tracks it.
#[derive(Debug)]
pub struct Job {
    pub id: JobRef,
    /// Tasks not placed yet, in arrival order.
    pub unplaced: Vec<PodId>,
    pub class: WorkloadClass,
    pub attempts: u32,
    /// Attempts made while none of the job's tasks had been placed yet.
    pub fruitless: u32,
    /// Whether any attempt placed a task.
    pub placed_any: bool,
    /// Whether the job sits in the queue (or in a retry wait) now.
    pub queued: bool,
}

/// What to do with a job after an attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum AfterAttempt {
    Done,
    Retry,
    Abandon,
}

/// The jobs a scheduler owns, its FIFO queue, and the retry rule.
#[derive(Debug, Default)]
pub struct JobTable {
    pub jobs: BTreeMap<JobRef, Job>,
    pub queue: VecDeque<JobRef>,
    /// Jobs waiting out a retry interval, in the order their timers will fire.
    pub retrying: VecDeque<JobRef>,
}

/// Tasks a gang's list has room for from its first task on.
const GANG_TASKS: usize = 16;

impl JobTable {
    /// A task of a job arrived: the job is created and queued with its first task.
    pub fn add_task(&mut self, job: JobRef, pod: PodId, class: WorkloadClass) {
        // A gang's tasks arrive together, about ten to twenty in the paper's workloads: room
        // for them at once, not a list regrown (and copied) at its fourth, eighth… task.
        let room = if matches!(job, JobRef::Group(_)) { GANG_TASKS } else { 1 };
        let entry = self.jobs.entry(job).or_insert_with(|| Job {
            id: job,
            unplaced: Vec::with_capacity(room),
            class,
            attempts: 0,
            fruitless: 0,
            placed_any: false,
            queued: false,
        });
        entry.unplaced.push(pod);
        if !entry.queued {
            entry.queued = true;
            self.queue.push_back(job);
        }
    }

    /// Records an attempt's result and says what comes next, the original simulator's rule
    /// (`OmegaSimulation.scala` ~lines 262–266, `MonolithicSimulation.scala` ~176–180,
    /// `MesosSimulation.scala` ~250–254): retry 1 s later while tasks are left; abandon after
    /// more than `max_attempts` attempts, or more than `max_fruitless_attempts` while none of
    /// its tasks has been placed (`unscheduledTasks == numTasks`): a job that placed some
    /// tasks goes on to the attempt limit.
    pub fn after_attempt(&mut self, job: JobRef, placed: u32, retry: &Retry) -> AfterAttempt {
        let Some(j) = self.jobs.get_mut(&job) else { return AfterAttempt::Done };
        j.attempts += 1;
        j.placed_any |= placed > 0;
        if !j.placed_any {
            j.fruitless += 1;
        }
        if j.unplaced.is_empty() {
            self.jobs.remove(&job);
            AfterAttempt::Done
        } else if j.attempts > retry.max_attempts || j.fruitless > retry.max_fruitless_attempts {
            self.jobs.remove(&job);
            AfterAttempt::Abandon
        } else {
            j.queued = true;
            self.retrying.push_back(job);
            AfterAttempt::Retry
        }
    }

    /// The retry interval of the oldest waiting job is over: back to the queue.
    pub fn retry_due(&mut self) {
        if let Some(job) = self.retrying.pop_front() {
            self.queue.push_back(job);
        }
    }

    /// Marks tasks placed.
    pub fn placed(&mut self, job: JobRef, pods: &[PodId]) {
        if let Some(j) = self.jobs.get_mut(&job) {
            // Placements come in task order: each is mostly the next pod looked for, one compare
            // (a search of `pods` for each task cost a walk's job about 18 × 18 compares). Any
            // other pod is looked for in the whole of `pods`, so the result is the same.
            let mut next = 0;
            j.unplaced.retain(|p| {
                if pods.get(next) == Some(p) {
                    next += 1;
                    false
                } else {
                    !pods.contains(p)
                }
            });
        }
    }
}

/// Decides which of several schedulers owns a job: the one a pod's `schedulerName` names
/// (instance `name-k` of a counted scheduler also answers to `name`), else those whose workload
/// class matches (or that take any), split among them by hash or round robin. Every scheduler
/// computes the same answer from the same events, so no coordination is needed.
#[derive(Clone, Debug)]
pub struct Router {
    /// Every instance, in order: (instance name, base name, workload class it takes).
    pub instances: Vec<(String, String, Option<WorkloadClass>)>,
    pub round_robin: bool,
}

impl Router {
    pub fn new(specs: &[SchedulerSpec], round_robin: bool) -> Router {
        let mut instances = Vec::new();
        for s in specs {
            for k in 0..s.count {
                let name = if s.count == 1 { s.name.clone() } else { format!("{}-{k}", s.name) };
                instances.push((name, s.name.clone(), s.workload));
            }
        }
        Router { instances, round_robin }
    }

    /// The instance that owns a job whose first task is `pod`; `arrival` counts jobs in the
    /// order they appeared (for round robin).
    pub fn owner(&self, job: JobRef, pod: &Pod, arrival: u64) -> usize {
        let all = 0..self.instances.len();
        let named =
            |i: &usize| self.instances[*i].0 == pod.scheduler_name || self.instances[*i].1 == pod.scheduler_name;
        let by_class = |i: &usize| self.instances[*i].2.is_none_or(|c| c == pod.workload);
        // The candidates: named ones, else those of the class, else all (counted, not collected:
        // a job's owner is asked for at every job).
        let (named_count, class_count) = (all.clone().filter(named).count(), all.clone().filter(by_class).count());
        let pick = || {
            if self.round_robin {
                return arrival;
            }
            let (kind, id) = match job {
                JobRef::Group(g) => (0u8, g.0),
                JobRef::Pod(p) => (1u8, p.0),
            };
            let mut key = [kind, 0, 0, 0, 0];
            key[1..].copy_from_slice(&id.to_le_bytes());
            let digest = blake3::hash(&key);
            u64::from_le_bytes(digest.as_bytes()[..8].try_into().expect("8 bytes"))
        };
        // A lone candidate owns the job whatever the pick: its hash is not computed (each
        // instance asks at every job; the paper's schedulers each own one class).
        let nth = |count: usize, keep: &dyn Fn(&usize) -> bool| {
            let n = if count == 1 { 0 } else { (pick() % count as u64) as usize };
            all.clone().filter(|i| keep(i)).nth(n).expect("fewer than count")
        };
        if named_count > 0 {
            nth(named_count, &named)
        } else if class_count > 0 {
            nth(class_count, &by_class)
        } else {
            nth(self.instances.len(), &|_| true)
        }
    }
}

/// What is free on a node: resources, and pod slots (`maxPods` minus pods there). A cache
/// fed by a lagging watch can hold more than the node has — its own assumptions and a binding
/// it had not seen yet —, so what is taken beyond the free room is owed, and paid back first
/// when something is given back: the books stay exact and free room never goes below zero.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Room {
    pub resources: Resources,
    pub slots: u64,
    owed: Resources,
    slots_owed: u64,
}

impl Room {
    pub fn new(resources: Resources, slots: u64) -> Room {
        Room { resources, slots, owed: Resources::default(), slots_owed: 0 }
    }

    pub fn of(node: &podlab_cluster::Node) -> Room {
        Room::new(node.allocatable.clone(), node.max_pods)
    }

    pub fn take(&mut self, r: &Resources) {
        if self.owed.is_zero() && r.fits_in(&self.resources) {
            // Nothing owed and room enough: the common case, without the arithmetic below.
            self.resources.sub(r);
        } else {
            let beyond = r.saturating_minus(&self.resources);
            self.resources.sub(&r.saturating_minus(&beyond));
            self.owed.add(&beyond);
        }
        if self.slots > 0 {
            self.slots -= 1;
        } else {
            self.slots_owed += 1;
        }
    }

    pub fn give(&mut self, r: &Resources) {
        if self.owed.is_zero() {
            self.resources.add(r);
        } else {
            let repaid = r.saturating_minus(&r.saturating_minus(&self.owed));
            self.owed.sub(&repaid);
            self.resources.add(&r.saturating_minus(&repaid));
        }
        if self.slots_owed > 0 {
            self.slots_owed -= 1;
        } else {
            self.slots += 1;
        }
    }
}

/// Which jobs are one instance's: decided once per job — at its first task — and remembered
/// for a group's later tasks (a lone pod is a job of one task: nothing to remember), so all its
/// tasks follow it.
#[derive(Debug, Default)]
pub struct Owners {
    /// By group id: 0 undecided, 1 this instance's, 2 another's.
    groups: Vec<u8>,
    jobs_seen: u64,
}

impl Owners {
    /// Whether `job`, whose task `pod` arrived, is instance `me`'s.
    pub fn owns(&mut self, router: &Router, me: usize, job: JobRef, pod: &Pod) -> bool {
        let slot = match job {
            JobRef::Group(g) => {
                if self.groups.len() <= g.index() {
                    self.groups.resize(g.index() + 1, 0);
                }
                match self.groups[g.index()] {
                    0 => Some(g.index()),
                    decided => return decided == 1,
                }
            }
            JobRef::Pod(_) => None,
        };
        let mine = router.owner(job, pod, self.jobs_seen) == me;
        self.jobs_seen += 1;
        if let Some(g) = slot {
            self.groups[g] = if mine { 1 } else { 2 };
        }
        mine
    }
}

/// A pod a paper scheduler has heard of, kept while it is pending or running.
#[derive(Clone, Debug)]
pub struct Task {
    /// What it shares with its template: its requests, workload class, scheduler name.
    pub spec: Arc<PodSpec>,
    pub job: JobRef,
    /// The node it is bound to (or assumed on), as the scheduler's books hold it.
    pub node: Maybe<NodeId>,
    /// Placed by this scheduler, its binding not seen yet.
    pub assumed: bool,
    /// Deleted before it was bound: never retried.
    pub deleted: bool,
}

/// The pods in flight a scheduler keeps, by id (their window: a day's pods cost the live ones).
pub type Tasks = IdWindow<Option<Task>>;

/// The task of `pod`, if it is kept.
pub fn task(tasks: &Tasks, pod: PodId) -> Option<&Task> {
    tasks.get(pod.index()).and_then(Option::as_ref)
}

/// The task of `pod` to change, if it is kept.
pub fn task_mut(tasks: &mut Tasks, pod: PodId) -> Option<&mut Task> {
    tasks.get_mut(pod.index()).and_then(Option::as_mut)
}

/// Where a first fit places tasks: nodes by index, and the room each has left.
pub trait Rooms {
    /// How many nodes there are (indices `0..count`).
    fn count(&self) -> usize;
    /// Takes `requests` (and a pod slot) on node `i` if they fit in what it has left.
    fn take(&mut self, i: usize, requests: &Resources) -> bool;
    /// The node at index `i`.
    fn node(&self, i: usize) -> NodeId;
}

impl Rooms for [Option<Room>] {
    fn count(&self) -> usize {
        self.len()
    }

    fn take(&mut self, i: usize, requests: &Resources) -> bool {
        match self[i].as_mut() {
            Some(room) if room.slots > 0 && requests.fits_in(&room.resources) => {
                room.resources.sub(requests);
                room.slots -= 1;
                true
            }
            _ => false,
        }
    }

    fn node(&self, i: usize) -> NodeId {
        NodeId(i as u32)
    }
}

impl Rooms for Vec<Option<Room>> {
    fn count(&self) -> usize {
        self.len()
    }

    fn take(&mut self, i: usize, requests: &Resources) -> bool {
        self.as_mut_slice().take(i, requests)
    }

    fn node(&self, i: usize) -> NodeId {
        NodeId(i as u32)
    }
}

/// What [`OfferRooms`] keeps from one walk to the next: what is taken of each row, zeros between
/// walks, and the rows taken from, empty between walks.
#[derive(Debug, Default)]
pub struct Zeros {
    taken: Vec<(u64, u64)>,
    touched: Vec<u32>,
}

/// A Mesos offer's nodes as [`Rooms`]: what each was offered, less what a walk has taken of
/// it — CPU and memory by row, in [`Zeros`] the framework keeps from walk to walk (a map of the
/// rows taken from cost the paper day's walks about 40 M instructions, a fresh vector of zeros
/// for each walk more), other resources in a map.
pub struct OfferRooms<'a> {
    offered: &'a OfferedNodes,
    /// By row: the CPU and memory taken of it, and the rows taken from.
    zeros: Zeros,
    /// By row: what of its other resources is taken, where a task asked for some.
    taken_extended: BTreeMap<usize, Resources>,
    /// The row last taken from, and its node: a placement asks for the node of the row it
    /// took from, which finding again costs a column offer a search.
    last: (usize, NodeId),
}

impl<'a> OfferRooms<'a> {
    /// The offer's rooms, nothing taken; `zeros` is what [`OfferRooms::into_zeros`] gave back
    /// last time (or new).
    pub fn new(offered: &'a OfferedNodes, mut zeros: Zeros) -> OfferRooms<'a> {
        if zeros.taken.len() < offered.len() {
            zeros.taken.resize(offered.len(), (0, 0));
        }
        OfferRooms { offered, zeros, taken_extended: BTreeMap::new(), last: (usize::MAX, NodeId(0)) }
    }

    /// What was taken, zeros again, for the next walk.
    pub fn into_zeros(mut self) -> Zeros {
        for i in self.zeros.touched.drain(..) {
            self.zeros.taken[i as usize] = (0, 0);
        }
        self.zeros
    }

    /// Whether `requests`' resources other than CPU and memory fit in what row `i` has left.
    fn fits_extended(&self, i: usize, requests: &Resources) -> bool {
        let taken = self.taken_extended.get(&i);
        let offered = |name: &str| self.offered.extended(i).and_then(|e| e.get(name)).copied().unwrap_or(0);
        requests.extended.iter().all(|(name, v)| v + taken.map_or(0, |t| t.get(name)) <= offered(name))
    }
}

impl Rooms for OfferRooms<'_> {
    fn count(&self) -> usize {
        self.offered.len()
    }

    fn take(&mut self, i: usize, requests: &Resources) -> bool {
        let (node, cpu, memory) = self.offered.row(i);
        let (cpu_taken, memory_taken) = self.zeros.taken[i];
        let fits = requests.cpu_milli + cpu_taken <= cpu
            && requests.memory_bytes + memory_taken <= memory
            && (requests.extended.is_empty() || self.fits_extended(i, requests));
        if fits {
            if (cpu_taken, memory_taken) == (0, 0) {
                self.zeros.touched.push(i as u32);
            }
            self.zeros.taken[i] = (cpu_taken + requests.cpu_milli, memory_taken + requests.memory_bytes);
            if !requests.extended.is_empty() {
                self.taken_extended.entry(i).or_default().add(requests);
            }
            self.last = (i, node);
        }
        fits
    }

    fn node(&self, i: usize) -> NodeId {
        if self.last.0 == i { self.last.1 } else { self.offered.row(i).0 }
    }
}

/// Randomised first fit by packing (`Placement::Pack`, podlab's own rule; the original's is
/// [`random_first_fit_per_task`]): visit nodes in random order; on each, place as many of the
/// tasks as fit (several may share a node), in task order; stop when every task is placed or
/// no node is left. `order` is scratch space holding node
/// indices; its shuffle is drawn lazily, so a job placed on its first nodes costs only those
/// draws.
///
/// A task that does not fit a node does not stop the tasks after it from trying that node: a
/// job's pods may differ (a PodGroup), and one pod too big for every node must not keep its
/// smaller siblings pending forever (found by the swarm: `tests/swarm.rs`). For the paper's
/// jobs of identical tasks this is the same placement and the same draws as stopping.
pub fn random_first_fit<R: Rooms + ?Sized>(
    tasks: &[(PodId, &Resources)],
    free: &mut R,
    order: &mut Vec<u32>,
    rng: &mut ChaCha8Rng,
) -> Vec<(PodId, NodeId)> {
    if order.len() != free.count() {
        *order = (0..free.count() as u32).collect();
    }
    let mut placed = Vec::new();
    let mut left: Vec<usize> = (0..tasks.len()).collect();
    for k in 0..order.len() {
        if left.is_empty() {
            break;
        }
        let j = k + below(rng, (order.len() - k) as u64) as usize;
        order.swap(k, j);
        let node = order[k] as usize;
        // A task asking what a task before it failed to get here cannot fit either: skipped
        // without a check (the paper's jobs are one such run).
        let mut failed: Option<&Resources> = None;
        left.retain(|&t| {
            let (pod, requests) = tasks[t];
            if failed == Some(requests) {
                return true;
            }
            if free.take(node, requests) {
                placed.push((pod, free.node(node)));
                false
            } else {
                failed = Some(requests);
                true
            }
        });
    }
    placed
}

/// Randomised first fit as the Omega paper's simulator computes it
/// (`CoreClusterSimulation.scala`, `Scheduler.scheduleJob`, lines ~485–549), the same for
/// every architecture: for each task, draw a machine uniformly from a candidate pool; if the
/// task fits there it is placed and the machine **stays** in the pool (the next task draws
/// afresh, and may land on it again); if not, the machine leaves the pool. A task is left
/// unplaced when the pool is empty. So a job's tasks spread over about as many machines as it
/// has tasks, where packing (`Placement::Pack`) fills each machine it visits.
///
/// The original's jobs are of identical tasks. A PodGroup's pods may differ: tasks are taken
/// shape by shape (in order of each shape's first task), each shape with a full pool, since a
/// machine too small for one shape may suit another. A node without room (`None`: closed or
/// unknown) is drawn and dropped like a full one. `pool` is scratch space holding node
/// indices (its order carries over between calls, as the original's cached pool does; every
/// draw is uniform over the machines left whatever their order).
pub fn random_first_fit_per_task<R: Rooms + ?Sized>(
    tasks: &[(PodId, &Resources)],
    free: &mut R,
    pool: &mut Vec<u32>,
    rng: &mut ChaCha8Rng,
) -> Vec<(PodId, NodeId)> {
    if pool.len() != free.count() {
        // Refilled in place: a Mesos offer's length changes from walk to walk.
        pool.clear();
        pool.extend(0..free.count() as u32);
    }
    let mut placed = Vec::with_capacity(tasks.len());
    // Tasks of one template share their requests: the same address is the same shape.
    let same = |a: &Resources, b: &Resources| std::ptr::eq(a, b) || a == b;
    if let Some(&(_, shape)) = tasks.first()
        && tasks.iter().all(|(_, r)| same(r, shape))
    {
        // One shape, as every job of the paper's: the tasks in turn from one pool, the same draws
        // as below without its list of tasks done (its allocation cost about 300 instructions).
        let mut candidates = pool.len();
        for &(pod, requests) in tasks {
            draw(pod, requests, free, pool, &mut candidates, &mut placed, rng);
        }
        return placed;
    }
    let mut done = vec![false; tasks.len()];
    for first in 0..tasks.len() {
        if done[first] {
            continue;
        }
        let shape = tasks[first].1;
        // The original: `remainingCandidates = numMachines` at every call.
        let mut candidates = pool.len();
        for t in first..tasks.len() {
            let (pod, requests) = tasks[t];
            if done[t] || !same(requests, shape) {
                continue;
            }
            done[t] = true;
            draw(pod, requests, free, pool, &mut candidates, &mut placed, rng);
        }
    }
    placed
}

/// One task's draws from the first `candidates` machines of `pool`, until one takes it or none
/// is left: a machine without room is swapped past the end of the candidates, not drawn again
/// for this shape.
#[inline]
fn draw<R: Rooms + ?Sized>(
    pod: PodId,
    requests: &Resources,
    free: &mut R,
    pool: &mut [u32],
    candidates: &mut usize,
    placed: &mut Vec<(PodId, NodeId)>,
    rng: &mut ChaCha8Rng,
) {
    while *candidates > 0 {
        let k = below(rng, *candidates as u64) as usize;
        let node = pool[k] as usize;
        if free.take(node, requests) {
            placed.push((pod, free.node(node)));
            return;
        }
        pool.swap(k, *candidates - 1);
        *candidates -= 1;
    }
}

/// The randomised first fit a placement rule names.
pub fn place<R: Rooms + ?Sized>(
    placement: Placement,
    tasks: &[(PodId, &Resources)],
    free: &mut R,
    scratch: &mut Vec<u32>,
    rng: &mut ChaCha8Rng,
) -> Vec<(PodId, NodeId)> {
    match placement {
        Placement::PerTask => random_first_fit_per_task(tasks, free, scratch, rng),
        Placement::Pack => random_first_fit(tasks, free, scratch, rng),
    }
}

/// The decision time of an attempt at `job`.
pub fn decision(time: &DecisionTime, job: &Job) -> podlab_cluster::SimDuration {
    time.for_tasks(job.unplaced.len() as u32)
}

/// Keeps a set of closed nodes in step with a node's new spec.
pub fn track_closed(closed: &mut std::collections::BTreeSet<NodeId>, node: NodeId, spec: &podlab_cluster::Node) {
    if accepts_work(spec) {
        closed.remove(&node);
    } else {
        closed.insert(node);
    }
}

/// Whether new work may go to a node: not while it carries a NoSchedule or NoExecute taint (a
/// cordon, or the node lifecycle controller's NotReady and unreachable taints). The Omega
/// paper's model has no taints; this keeps its schedulers off dead nodes.
pub fn accepts_work(node: &podlab_cluster::Node) -> bool {
    !node.unschedulable
        && node.taints.iter().all(|t| t.effect == podlab_cluster::objects::TaintEffect::PreferNoSchedule)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// First fit packs tasks onto each visited node before moving on, and places none that do
    /// not fit.
    #[test]
    fn first_fit_packs_and_stops() {
        let small = Resources::new(1000, 1 << 30);
        let tasks: Vec<(PodId, &Resources)> = (0..5).map(|i| (PodId(i), &small)).collect();
        let room = Room::new(Resources::new(2000, 8 << 30), 110);
        let mut free = vec![Some(room.clone()), None, Some(room)];
        let mut rng = podlab_cluster::rng::stream(1, "t");
        let placed = random_first_fit(&tasks, &mut free, &mut Vec::new(), &mut rng);
        assert_eq!(placed.len(), 4);
        assert!(placed.iter().all(|(_, n)| n.0 != 1));
        assert_eq!(free[0].as_ref().unwrap().resources.cpu_milli + free[2].as_ref().unwrap().resources.cpu_milli, 0);
    }

    /// A task too big for every node does not keep the smaller tasks after it from their
    /// places (a PodGroup of unequal pods under omega, monolithic or mesos).
    #[test]
    fn first_fit_skips_a_task_that_fits_nowhere() {
        let (big, small) = (Resources::new(4000, 1 << 30), Resources::new(500, 1 << 20));
        let tasks: Vec<(PodId, &Resources)> = vec![(PodId(0), &big), (PodId(1), &small), (PodId(2), &small)];
        let room = Room::new(Resources::new(2000, 8 << 30), 110);
        let mut free = vec![Some(room.clone()), Some(room)];
        let mut rng = podlab_cluster::rng::stream(3, "t");
        let placed = random_first_fit(&tasks, &mut free, &mut Vec::new(), &mut rng);
        let pods: Vec<PodId> = placed.iter().map(|(p, _)| *p).collect();
        assert_eq!(pods, [PodId(1), PodId(2)]);
    }

    /// The original's per-task draw on a two-machine cell with room for two tasks each, where
    /// packing and drawing differ: packing puts a two-task job on one machine always; the
    /// original draws a machine for each task (`candidatePool(nextInt(remaining))`), so the
    /// tasks land on the machines the draws name — on two machines about half the time.
    #[test]
    fn per_task_draw_is_the_originals() {
        let task = Resources::new(1000, 1 << 30);
        let tasks: Vec<(PodId, &Resources)> = (0..2).map(|i| (PodId(i), &task)).collect();
        let room = Room::new(Resources::new(2000, 8 << 30), 110);
        let (mut split_drawn, mut split_packed) = (0, 0);
        for seed in 0..200 {
            let mut rng = podlab_cluster::rng::stream(seed, "t");
            let mut replay = rng.clone();
            let mut free = vec![Some(room.clone()), Some(room.clone())];
            let placed = random_first_fit_per_task(&tasks, &mut free, &mut Vec::new(), &mut rng);
            // Both fit wherever drawn: each task goes to the machine its one draw names.
            let expected: Vec<(PodId, NodeId)> =
                (0..2).map(|i| (PodId(i), NodeId(below(&mut replay, 2) as u32))).collect();
            assert_eq!(placed, expected, "seed {seed}");
            split_drawn += usize::from(placed[0].1 != placed[1].1);
            let mut free = vec![Some(room.clone()), Some(room.clone())];
            let packed = random_first_fit(&tasks, &mut free, &mut Vec::new(), &mut rng);
            split_packed += usize::from(packed[0].1 != packed[1].1);
        }
        assert_eq!(split_packed, 0);
        assert!((70..130).contains(&split_drawn), "{split_drawn} of 200 split");
    }

    /// A drawn machine without room leaves the pool (swapped past the candidates' end, as the
    /// original does) and is never drawn again for that job; one that takes a task stays; a
    /// task is left unplaced once the pool is empty.
    #[test]
    fn per_task_draw_drops_full_machines() {
        let task = Resources::new(1000, 1 << 30);
        let tasks: Vec<(PodId, &Resources)> = (0..4).map(|i| (PodId(i), &task)).collect();
        let one = Room::new(Resources::new(1000, 8 << 30), 110);
        let full = Room::new(Resources::new(500, 8 << 30), 110);
        for seed in 0..50 {
            let mut rng = podlab_cluster::rng::stream(seed, "t");
            let mut replay = rng.clone();
            // Machine 0 takes one task, machine 1 none, machine 2 is closed (no room known).
            let mut free = vec![Some(one.clone()), Some(full.clone()), None];
            let placed = random_first_fit_per_task(&tasks, &mut free, &mut Vec::new(), &mut rng);
            assert_eq!(placed, [(PodId(0), NodeId(0))], "seed {seed}");
            // The draws: until machine 0 is drawn, every other machine drawn leaves the pool;
            // after it, machine 0 too. Replayed by hand on the original's pool.
            let mut pool = [0u32, 1, 2];
            let mut remaining = 3;
            let mut room = [1, 0, 0];
            let mut placed_by_hand = Vec::new();
            for t in 0..4u32 {
                while remaining > 0 {
                    let k = below(&mut replay, remaining as u64) as usize;
                    let m = pool[k] as usize;
                    if room[m] > 0 {
                        room[m] -= 1;
                        placed_by_hand.push((PodId(t), NodeId(m as u32)));
                        break;
                    }
                    pool.swap(k, remaining - 1);
                    remaining -= 1;
                }
            }
            assert_eq!(placed, placed_by_hand, "seed {seed}");
        }
    }

    /// A group of unequal pods: each shape draws from a full pool, so a machine too small for
    /// the big pods still takes the small ones.
    #[test]
    fn per_task_draw_takes_shapes_in_turn() {
        let (big, small) = (Resources::new(4000, 1 << 30), Resources::new(500, 1 << 20));
        let tasks: Vec<(PodId, &Resources)> = vec![(PodId(0), &big), (PodId(1), &small), (PodId(2), &small)];
        let room = Room::new(Resources::new(2000, 8 << 30), 110);
        let mut free = vec![Some(room.clone()), Some(room)];
        let mut rng = podlab_cluster::rng::stream(3, "t");
        let placed = random_first_fit_per_task(&tasks, &mut free, &mut Vec::new(), &mut rng);
        let pods: Vec<PodId> = placed.iter().map(|(p, _)| *p).collect();
        assert_eq!(pods, [PodId(1), PodId(2)]);
    }

    /// A job that placed some of its tasks goes on to the attempt limit; one that never placed
    /// any is abandoned after `max_fruitless_attempts` (the original's rule).
    #[test]
    fn abandonment_is_the_originals() {
        let mut t = JobTable::default();
        let job = JobRef::Group(podlab_cluster::GroupId(0));
        t.add_task(job, PodId(0), WorkloadClass::Batch);
        t.add_task(job, PodId(1), WorkloadClass::Batch);
        let retry = Retry { max_fruitless_attempts: 2, max_attempts: 5, ..Retry::default() };
        t.placed(job, &[PodId(0)]);
        assert_eq!(t.after_attempt(job, 1, &retry), AfterAttempt::Retry);
        for _ in 0..4 {
            assert_eq!(t.after_attempt(job, 0, &retry), AfterAttempt::Retry);
        }
        assert_eq!(t.after_attempt(job, 0, &retry), AfterAttempt::Abandon);
    }

    /// The retry rule: retry while tasks are left, abandon after too many fruitless attempts.
    #[test]
    fn retry_then_abandon() {
        let mut t = JobTable::default();
        let job = JobRef::Pod(PodId(0));
        t.add_task(job, PodId(0), WorkloadClass::Batch);
        let retry = Retry { max_fruitless_attempts: 2, ..Retry::default() };
        assert_eq!(t.after_attempt(job, 0, &retry), AfterAttempt::Retry);
        assert_eq!(t.after_attempt(job, 0, &retry), AfterAttempt::Retry);
        assert_eq!(t.after_attempt(job, 0, &retry), AfterAttempt::Abandon);
        assert!(t.jobs.is_empty());
    }
}
