//! The co-scheduling designs' own metrics, from the notes schedulers write: job waits (to the
//! first attempt and to fully scheduled), scheduler busyness (useful and wasted, and the
//! paper's daily median ± MAD), conflicts and retries, abandoned jobs, resources locked in
//! offers, reserved at Permit or hoarded while idle, and Mesos hoarding deadlocks.

use std::collections::BTreeMap;

use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;
use serde::Serialize;

use podlab_cluster::scenario::Scenario;
use podlab_cluster::{ControllerId, GroupId, JobRef, MaybeTime, Note, PodId, Record, Resources, SimTime, Stamped};

use crate::percentiles::{Percentiles, Samples};

const DAY_NS: u64 = 24 * 3600 * 1_000_000_000;

/// Jobs: PodGroups, and pods in no group.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct JobMetrics {
    pub total: u64,
    pub fully_scheduled: u64,
    pub abandoned: u64,
    /// Jobs no scheduler ever attempted.
    pub never_attempted: u64,
    /// From the job's arrival to the start of its first scheduling attempt.
    pub wait_to_first_attempt: Percentiles,
    /// From the job's arrival to the binding of its last task.
    pub wait_to_fully_scheduled: Percentiles,
}

/// One scheduler's work.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SchedulerMetrics {
    pub attempts: u64,
    /// Attempts after a job's first.
    pub retries: u64,
    /// Attempts with at least one conflicting claim.
    pub conflicted_attempts: u64,
    /// Failed transactions per successful one (0: no conflicts; 3: four attempts per success).
    pub conflict_fraction: f64,
    pub busy_ns: u64,
    pub useful_ns: u64,
    pub wasted_ns: u64,
    /// Busy time over the run's length.
    pub busyness: f64,
    /// The paper's definition: attempts that placed nothing record no busy time.
    pub busyness_paper: f64,
    /// The median over days (or over the whole run if shorter) of the daily busyness, and the
    /// median absolute deviation.
    pub busyness_daily_median: f64,
    pub busyness_daily_mad: f64,
}

impl SchedulerMetrics {
    /// Adds another's counts and times (not the ratios computed from them).
    fn add_counts(&mut self, other: &SchedulerMetrics) {
        self.attempts += other.attempts;
        self.retries += other.retries;
        self.conflicted_attempts += other.conflicted_attempts;
        self.busy_ns += other.busy_ns;
        self.useful_ns += other.useful_ns;
        self.wasted_ns += other.wasted_ns;
    }
}

/// Resource-time held without running anything.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct IdleHolding {
    pub cpu_core_seconds: f64,
    pub memory_gib_seconds: f64,
}

/// One Mesos hoarding deadlock: frameworks each holding what another needs.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Deadlock {
    pub formed_ns: u64,
    /// When the cycle broke; the run's end if it never did.
    pub ended_ns: u64,
    pub frameworks: Vec<String>,
    /// What the frameworks in the cycle held when it formed.
    pub held: String,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Deadlocks {
    pub count: u64,
    pub total_ns: u64,
    pub longest_ns: u64,
    pub episodes: Vec<Deadlock>,
}

#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct SchedulingMetrics {
    pub jobs: JobMetrics,
    /// Every scheduler of the policy together — attempts and times summed, busyness averaged
    /// per scheduler — so that policies with different schedulers compare on one row.
    pub all_schedulers: SchedulerMetrics,
    /// By scheduler (controller) name.
    pub schedulers: BTreeMap<String, SchedulerMetrics>,
    /// Mesos: resources locked in outstanding offers.
    pub locked_in_offers: IdleHolding,
    /// Gang: resources reserved by members waiting at Permit.
    pub reserved_at_permit: IdleHolding,
    /// Mesos hoarding: resources held for groups that do not fit yet.
    pub hoarded: IdleHolding,
    pub deadlocks: Deadlocks,
}

/// One job's scheduling attempts: when its first began, and how many one scheduler made (the
/// first scheduler's count here; any other's in [`SchedulingFold::attempted_by_others`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct JobAttempts {
    first: MaybeTime,
    by: ControllerId,
    count: u32,
}

impl Default for JobAttempts {
    fn default() -> Self {
        JobAttempts { first: MaybeTime::NONE, by: ControllerId(u16::MAX), count: 0 }
    }
}

/// A group's job: its first member's arrival, members arrived and not yet scheduled, the last
/// member's binding, and its attempts.
#[derive(Clone, Copy, Default)]
struct GroupJob {
    created: MaybeTime,
    tasks_left: u32,
    done_at: MaybeTime,
    attempts: JobAttempts,
}

/// `b`, or `a` if that is earlier.
fn earliest(a: MaybeTime, b: SimTime) -> MaybeTime {
    MaybeTime::some(a.get().map_or(b, |a| a.min(b)))
}

/// `b`, or `a` if that is later.
fn latest(a: MaybeTime, b: SimTime) -> MaybeTime {
    MaybeTime::some(a.get().map_or(b, |a| a.max(b)))
}

/// One scheduler's books while its notes are read.
#[derive(Clone, Default)]
struct SchedulerBooks {
    stats: Option<SchedulerMetrics>,
    /// The busy time of its attempt in flight.
    in_flight: Option<u64>,
    /// Busy time by day of the run.
    daily: Vec<u64>,
    /// Busy time of attempts that placed something.
    paper_busy: u64,
}

impl SchedulerBooks {
    fn of(books: &mut Vec<SchedulerBooks>, by: ControllerId) -> &mut SchedulerBooks {
        if books.len() <= by.index() {
            books.resize(by.index() + 1, SchedulerBooks::default());
        }
        &mut books[by.index()]
    }
}

/// Integrates an amount of resources held over time.
#[derive(Default)]
struct Meter {
    held: [u128; 2],
    area: [u128; 2],
    last: SimTime,
}

impl Meter {
    fn advance(&mut self, to: SimTime) {
        // Most policies never hold anything here: no product per record for them.
        if self.held != [0, 0] {
            let dt = u128::from(to.since(self.last).as_nanos());
            for r in 0..2 {
                self.area[r] += self.held[r] * dt;
            }
        }
        self.last = to;
    }

    fn add(&mut self, r: &Resources) {
        self.held[0] += u128::from(r.cpu_milli);
        self.held[1] += u128::from(r.memory_bytes);
    }

    fn sub(&mut self, r: &Resources) {
        self.held[0] = self.held[0].saturating_sub(u128::from(r.cpu_milli));
        self.held[1] = self.held[1].saturating_sub(u128::from(r.memory_bytes));
    }

    fn result(&self) -> IdleHolding {
        IdleHolding {
            cpu_core_seconds: self.area[0] as f64 / 1e3 / 1e9,
            memory_gib_seconds: self.area[1] as f64 / (1u64 << 30) as f64 / 1e9,
        }
    }
}

fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2.0 }
}

/// The scheduling metrics folded over records as they are read. A job of one pod keeps its
/// [`JobAttempts`] in the caller's books of that pod while it is in flight, and is counted by
/// [`SchedulingFold::pod_job_done`]; a group's job is kept here, one per group.
#[derive(Default)]
pub(crate) struct SchedulingFold {
    m: SchedulingMetrics,
    groups: Vec<GroupJob>,
    attempted_by_others: BTreeMap<(ControllerId, JobRef), u32>,
    /// Per scheduler, by controller id (every attempt writes two notes: no name is looked up
    /// for them).
    books: Vec<SchedulerBooks>,
    locked: Meter,
    reserved: Meter,
    hoarded: Meter,
    offers: BTreeMap<u64, Resources>,
    reservations: BTreeMap<PodId, Resources>,
    hoards: BTreeMap<ControllerId, (Resources, Resources)>,
    capacity: Resources,
    allocated: Resources,
    locked_total: Resources,
    /// The deadlock in force: when it formed, its frameworks, what they held.
    open: Option<(SimTime, Vec<ControllerId>, String)>,
    /// Deadlocks over: formed, ended, frameworks, held (named at the end, when the
    /// controllers' names are known).
    episodes: Vec<(SimTime, SimTime, Vec<ControllerId>, String)>,
    wait_to_first_attempt: Samples,
    wait_to_fully_scheduled: Samples,
}

/// Whether a scheduler places the pod (one with `spec.nodeName` is bound by name).
fn by_scheduler(scenario: &Scenario, pod: PodId) -> bool {
    scenario.pods.node_name(pod).is_none()
}

impl SchedulingFold {
    fn group(&mut self, group: GroupId) -> &mut GroupJob {
        if self.groups.len() <= group.index() {
            self.groups.resize(group.index() + 1, GroupJob::default());
        }
        &mut self.groups[group.index()]
    }

    /// A pod was created (the first time): its group's job has a task more.
    pub(crate) fn pod_created(&mut self, scenario: &Scenario, pod: PodId, at: SimTime) {
        if let Some(group) = scenario.pods.group(pod)
            && by_scheduler(scenario, pod)
        {
            let job = self.group(group);
            job.created = earliest(job.created, at);
            job.tasks_left += 1;
        }
    }

    /// A created pod's last part was bound: its group's job has a task fewer.
    pub(crate) fn pod_scheduled(&mut self, scenario: &Scenario, pod: PodId, at: SimTime) {
        if let Some(group) = scenario.pods.group(pod)
            && by_scheduler(scenario, pod)
        {
            let job = self.group(group);
            job.tasks_left -= 1;
            job.done_at = latest(job.done_at, at);
        }
    }

    /// A pod's books are done with (it finished, or the run did): counted as a job if it is
    /// one (in no group, placed by a scheduler, created).
    pub(crate) fn pod_job_done(
        &mut self,
        scenario: &Scenario,
        pod: PodId,
        created: Option<SimTime>,
        scheduled: Option<SimTime>,
        attempts: &JobAttempts,
    ) {
        let Some(created) = created else { return };
        if scenario.pods.group(pod).is_some() || !by_scheduler(scenario, pod) {
            return;
        }
        self.job_done(created, u32::from(scheduled.is_none()), scheduled, attempts);
    }

    fn job_done(&mut self, created: SimTime, tasks_left: u32, done_at: Option<SimTime>, attempts: &JobAttempts) {
        let jobs = &mut self.m.jobs;
        jobs.total += 1;
        jobs.fully_scheduled += u64::from(tasks_left == 0);
        match attempts.first.get() {
            Some(first) => self.wait_to_first_attempt.push(first.since(created).as_nanos()),
            None => jobs.never_attempted += 1,
        }
        if let Some(done_at) = done_at.filter(|_| tasks_left == 0) {
            self.wait_to_fully_scheduled.push(done_at.since(created).as_nanos());
        }
    }

    /// Reads one record; `pod_job` is the books of the pod whose job an attempt note names
    /// (a job of one pod), if it is in flight.
    pub(crate) fn observe(&mut self, scenario: &Scenario, s: &Stamped, pod_job: Option<&mut JobAttempts>) {
        self.locked.advance(s.time);
        self.reserved.advance(s.time);
        self.hoarded.advance(s.time);
        let mut hoarding_changed = false;
        match &s.record {
            Record::NodeAdded { node } => self.capacity.add(&scenario.nodes[node.index()].allocatable),
            Record::Bound { pod, part, .. } => {
                self.allocated.add(scenario.pods.spec(*pod).part_requests(*part));
                if let Some(r) = self.reservations.remove(pod) {
                    self.reserved.sub(&r);
                }
                hoarding_changed = true;
            }
            Record::Ended { pod, part, .. } => {
                self.allocated.sub(scenario.pods.spec(*pod).part_requests(*part));
                hoarding_changed = true;
            }
            Record::Note { by, note } => match note {
                Note::Attempt { job, busy, .. } => {
                    let attempts = match job {
                        JobRef::Group(g) => Some(&mut self.group(*g).attempts),
                        JobRef::Pod(_) => pod_job,
                    };
                    let mut fresh = JobAttempts::default();
                    let attempts = attempts.unwrap_or(&mut fresh);
                    attempts.first = earliest(attempts.first, s.time);
                    let n = if attempts.by == *by || attempts.count == 0 {
                        attempts.by = *by;
                        &mut attempts.count
                    } else {
                        self.attempted_by_others.entry((*by, *job)).or_insert(0)
                    };
                    *n += 1;
                    let retry = *n > 1;
                    let b = SchedulerBooks::of(&mut self.books, *by);
                    let stats = b.stats.get_or_insert_default();
                    stats.attempts += 1;
                    stats.retries += u64::from(retry);
                    stats.busy_ns += busy.as_nanos();
                    b.in_flight = Some(busy.as_nanos());
                    let day = (s.time.as_nanos() / DAY_NS) as usize;
                    if b.daily.len() <= day {
                        b.daily.resize(day + 1, 0);
                    }
                    b.daily[day] += busy.as_nanos();
                }
                Note::AttemptDone { placed, conflicts, .. } => {
                    let b = SchedulerBooks::of(&mut self.books, *by);
                    let busy = b.in_flight.take().unwrap_or(0);
                    let stats = b.stats.get_or_insert_default();
                    if *conflicts > 0 {
                        stats.conflicted_attempts += 1;
                        stats.wasted_ns += busy;
                    } else {
                        stats.useful_ns += busy;
                    }
                    if *placed > 0 {
                        b.paper_busy += busy;
                    }
                }
                Note::Abandoned { .. } => self.m.jobs.abandoned += 1,
                Note::Reserved { pod, part, .. } => {
                    let r = scenario.pods.spec(*pod).part_requests(*part).clone();
                    self.reserved.add(&r);
                    self.reservations.insert(*pod, r);
                }
                Note::Released { pod, .. } => {
                    if let Some(r) = self.reservations.remove(pod) {
                        self.reserved.sub(&r);
                    }
                }
                Note::Offered { offer, resources, .. } => {
                    self.locked.add(resources);
                    self.locked_total.add(resources);
                    self.offers.insert(*offer, resources.clone());
                    hoarding_changed = true;
                }
                Note::OfferClosed { offer, .. } => {
                    if let Some(r) = self.offers.remove(offer) {
                        self.locked.sub(&r);
                        self.locked_total.sub(&r);
                    }
                    hoarding_changed = true;
                }
                Note::Hoard { held, needs } => {
                    if let Some((old, _)) = self.hoards.get(by) {
                        self.hoarded.sub(old);
                    }
                    self.hoarded.add(held);
                    self.hoards.insert(*by, (held.clone(), needs.clone()));
                    hoarding_changed = true;
                }
                Note::GroupTimedOut { .. }
                | Note::NodeNotReady { .. }
                | Note::NodeReady { .. }
                | Note::Evicted { .. }
                | Note::DeletedPod { .. }
                | Note::RolloutStarted { .. }
                | Note::RolloutComplete { .. }
                | Note::ScaledReplicaSet { .. }
                | Note::JobComplete { .. }
                | Note::JobFailed { .. } => {}
            },
            _ => {}
        }
        if hoarding_changed && !self.hoards.is_empty() {
            let free = self.capacity.saturating_minus(&self.allocated).saturating_minus(&self.locked_total);
            let cycle = deadlocked(&self.hoards, &free);
            match (&mut self.open, cycle.is_empty()) {
                (None, false) => {
                    let mut held = Resources::default();
                    for f in &cycle {
                        held.add(&self.hoards[f].0);
                    }
                    self.open = Some((s.time, cycle, held.to_string()));
                }
                (Some(_), true) => {
                    let (formed, frameworks, held) = self.open.take().expect("open");
                    self.episodes.push((formed, s.time, frameworks, held));
                }
                _ => {}
            }
        }
    }

    /// The metrics at the run's `end`, once every pod's job is counted.
    pub(crate) fn finish(mut self, controllers: &[String], end: SimTime) -> SchedulingMetrics {
        self.locked.advance(end);
        self.reserved.advance(end);
        self.hoarded.advance(end);
        for job in std::mem::take(&mut self.groups) {
            if let Some(created) = job.created.get() {
                self.job_done(created, job.tasks_left, job.done_at.get(), &job.attempts);
            }
        }
        let mut m = self.m;
        self.episodes.extend(self.open.map(|(formed, frameworks, held)| (formed, end, frameworks, held)));
        m.deadlocks.episodes = (self.episodes.into_iter())
            .map(|(formed, ended, frameworks, held)| Deadlock {
                formed_ns: formed.as_nanos(),
                ended_ns: ended.as_nanos(),
                frameworks: frameworks.iter().map(|f| name(controllers, *f)).collect(),
                held,
            })
            .collect();
        m.deadlocks.count = m.deadlocks.episodes.len() as u64;
        for d in &m.deadlocks.episodes {
            let length = d.ended_ns - d.formed_ns;
            m.deadlocks.total_ns += length;
            m.deadlocks.longest_ns = m.deadlocks.longest_ns.max(length);
        }
        // By name, as the summary shows them (a name two controllers share adds them up).
        let books = self.books;
        for (id, b) in books.iter().enumerate() {
            if let Some(stats) = &b.stats {
                m.schedulers.entry(name(controllers, ControllerId(id as u16))).or_default().add_counts(stats);
            }
        }
        m.locked_in_offers = self.locked.result();
        m.reserved_at_permit = self.reserved.result();
        m.hoarded = self.hoarded.result();
        m.jobs.wait_to_first_attempt = self.wait_to_first_attempt.percentiles();
        m.jobs.wait_to_fully_scheduled = self.wait_to_fully_scheduled.percentiles();

        let end_ns = end.as_nanos().max(1);
        for (id, name) in controllers.iter().enumerate() {
            let id = ControllerId(id as u16);
            let Some(stats) = m.schedulers.get_mut(name) else { continue };
            stats.busyness = stats.busy_ns as f64 / end_ns as f64;
            let b = books.get(id.index());
            stats.busyness_paper = b.map_or(0, |b| b.paper_busy) as f64 / end_ns as f64;
            let successes = stats.attempts - stats.conflicted_attempts;
            stats.conflict_fraction =
                if successes == 0 { 0.0 } else { stats.conflicted_attempts as f64 / successes as f64 };
            let days = end_ns.div_ceil(DAY_NS);
            let mut fractions: Vec<f64> = (0..days)
                .map(|d| {
                    let length = (end_ns - d * DAY_NS).min(DAY_NS);
                    b.and_then(|b| b.daily.get(d as usize)).copied().unwrap_or(0) as f64 / length as f64
                })
                .collect();
            let med = median(&mut fractions);
            let mut deviations: Vec<f64> = fractions.iter().map(|f| (f - med).abs()).collect();
            stats.busyness_daily_median = med;
            stats.busyness_daily_mad = median(&mut deviations);
        }
        m.all_schedulers = total(&m.schedulers);
        m
    }
}

/// A controller's name by id (a note of an unknown one names it by number).
fn name(controllers: &[String], c: ControllerId) -> String {
    controllers.get(c.index()).cloned().unwrap_or_else(|| format!("controller-{}", c.0))
}

/// Sums the schedulers' counts and times; busyness becomes the mean per scheduler.
fn total(each: &BTreeMap<String, SchedulerMetrics>) -> SchedulerMetrics {
    let mut t = SchedulerMetrics::default();
    let n = each.len().max(1) as f64;
    for m in each.values() {
        t.add_counts(m);
        t.busyness += m.busyness / n;
        t.busyness_paper += m.busyness_paper / n;
        t.busyness_daily_median += m.busyness_daily_median / n;
        t.busyness_daily_mad += m.busyness_daily_mad / n;
    }
    let successes = t.attempts - t.conflicted_attempts;
    t.conflict_fraction = if successes == 0 { 0.0 } else { t.conflicted_attempts as f64 / successes as f64 };
    t
}

/// The frameworks caught in a cycle of waiting: A waits for B when A's group does not fit in
/// what A holds, what A still lacks is more than is free, and B holds resources.
fn deadlocked(hoards: &BTreeMap<ControllerId, (Resources, Resources)>, free: &Resources) -> Vec<ControllerId> {
    let ids: Vec<ControllerId> = hoards.keys().copied().collect();
    let mut graph = DiGraph::<ControllerId, ()>::new();
    let nodes: Vec<_> = ids.iter().map(|id| graph.add_node(*id)).collect();
    for (a, id_a) in ids.iter().enumerate() {
        let (held_a, needs_a) = &hoards[id_a];
        let waiting = !needs_a.is_zero() && !needs_a.fits_in(held_a);
        if !waiting || needs_a.saturating_minus(held_a).fits_in(free) {
            continue;
        }
        for (b, id_b) in ids.iter().enumerate() {
            if a != b && !hoards[id_b].0.is_zero() {
                graph.add_edge(nodes[a], nodes[b], ());
            }
        }
    }
    let mut caught: Vec<ControllerId> =
        tarjan_scc(&graph).into_iter().filter(|scc| scc.len() > 1).flatten().map(|n| graph[n]).collect();
    caught.sort();
    caught
}
