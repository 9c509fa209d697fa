//! The co-scheduling designs' own metrics, from the notes schedulers write: job waits (to the
//! first attempt and to fully scheduled), scheduler busyness (useful and wasted, and the
//! paper's daily median ± MAD), conflicts and retries, abandoned jobs, resources locked in
//! offers, reserved at Permit or hoarded while idle, and Mesos hoarding deadlocks.

use std::collections::BTreeMap;

use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;
use serde::Serialize;

use podlab_cluster::config::WorkloadClass;
use podlab_cluster::pods::PodFacts;
use podlab_cluster::scenario::Scenario;
use podlab_cluster::{
    ControllerId, GroupId, JobRef, MaybeTime, Note, PodId, PodSpec, Record, Resources, SimDuration, SimTime, Stamped,
};

use crate::percentiles::{Percentiles, Samples};

const DAY_NS: u64 = 24 * 3600 * 1_000_000_000;

/// The Omega paper's jobs: PodGroups, and pods in no group (not Kubernetes Jobs).
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
    /// The same counts and waits by workload class (`batch`, `service`): the paper reports
    /// each workload's waits apart.
    pub by_workload: BTreeMap<String, JobWaits>,
    /// The same by the scheduler that first attempted the job (jobs never attempted are in
    /// no scheduler's).
    pub by_scheduler: BTreeMap<String, JobWaits>,
}

/// Jobs of one workload class or one scheduler: how many, and their waits (as
/// [`JobMetrics`]'s).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct JobWaits {
    pub total: u64,
    pub fully_scheduled: u64,
    pub abandoned: u64,
    pub never_attempted: u64,
    pub wait_to_first_attempt: Percentiles,
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
    /// podlab's: conflicted attempts per other attempt, every attempt a transaction (one that
    /// found no room is a success).
    pub conflict_fraction: f64,
    /// The paper's transactions: attempts that claimed at least one task (the original counts
    /// no transaction when a job's first fit finds nothing: `numNoResourcesFound…`).
    /// Successful: no claim conflicted.
    pub transactions_succeeded: u64,
    /// Transactions with at least one conflicting claim.
    pub transactions_failed: u64,
    /// The paper's: failed transactions per successful one (0: no conflicts; 3: four
    /// transactions per success).
    pub conflict_fraction_paper: f64,
    /// Decision time summed over every attempt.
    pub busy_ns: u64,
    pub useful_ns: u64,
    pub wasted_ns: u64,
    /// podlab's: `busy_ns` over the run's length — every attempt's decision time, those that
    /// found no room too. Above 1 when decisions overlap (a Mesos framework walks each offer
    /// as it arrives, as the original does).
    pub busyness: f64,
    /// The paper's: the decision time of its transactions only (useful + wasted; an attempt
    /// that claimed nothing records none) over the run's length.
    pub busyness_paper: f64,
    /// podlab's busyness, day by day: the median over days (or over the whole run if shorter)
    /// and the median absolute deviation.
    pub busyness_daily_median: f64,
    pub busyness_daily_mad: f64,
    /// The paper's busyness as its figures show it: the median of daily values and the median
    /// absolute deviation.
    pub busyness_paper_daily_median: f64,
    pub busyness_paper_daily_mad: f64,
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
        self.transactions_succeeded += other.transactions_succeeded;
        self.transactions_failed += other.transactions_failed;
    }

    /// The two conflict fractions from the counts.
    fn conflict_fractions(&mut self) {
        let ratio = |bad: u64, good: u64| if good == 0 { 0.0 } else { bad as f64 / good as f64 };
        self.conflict_fraction = ratio(self.conflicted_attempts, self.attempts - self.conflicted_attempts);
        self.conflict_fraction_paper = ratio(self.transactions_failed, self.transactions_succeeded);
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
    /// The Omega paper's jobs — a PodGroup, or a pod in none — not Kubernetes' `Job` kind:
    /// named `paper_jobs` in the summary so the two are not confused.
    #[serde(rename = "paper_jobs")]
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
    class: WorkloadClass,
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
    /// Busy time of the paper's transactions (attempts that claimed something).
    paper_busy: u64,
    /// The same by day of the run.
    paper_daily: Vec<u64>,
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
    /// Jobs and waits by workload class (batch, service).
    by_class: [WaitBooks; 2],
    /// Jobs and waits by the controller that first attempted them.
    by_scheduler: Vec<WaitBooks>,
}

/// One class's or one scheduler's jobs while they are counted.
#[derive(Default)]
struct WaitBooks {
    counts: JobWaits,
    first: Samples,
    full: Samples,
}

impl WaitBooks {
    fn finish(self) -> JobWaits {
        JobWaits {
            wait_to_first_attempt: self.first.percentiles(),
            wait_to_fully_scheduled: self.full.percentiles(),
            ..self.counts
        }
    }
}

fn class_index(class: WorkloadClass) -> usize {
    match class {
        WorkloadClass::Batch => 0,
        WorkloadClass::Service => 1,
    }
}

/// The counts by day: `values[day] += amount`, the list grown as days come.
fn add_daily(values: &mut Vec<u64>, at: SimTime, amount: u64) {
    let day = (at.as_nanos() / DAY_NS) as usize;
    if values.len() <= day {
        values.resize(day + 1, 0);
    }
    values[day] += amount;
}

/// The median over the run's days of the daily fractions of `daily`, and its median
/// absolute deviation (a last partial day is a fraction of its own length).
fn daily_median_mad(daily: Option<&Vec<u64>>, end_ns: u64) -> (f64, f64) {
    let days = end_ns.div_ceil(DAY_NS);
    let mut fractions: Vec<f64> = (0..days)
        .map(|d| {
            let length = (end_ns - d * DAY_NS).min(DAY_NS);
            daily.and_then(|v| v.get(d as usize)).copied().unwrap_or(0) as f64 / length as f64
        })
        .collect();
    let med = median(&mut fractions);
    let mut deviations: Vec<f64> = fractions.iter().map(|f| (f - med).abs()).collect();
    (med, median(&mut deviations))
}

/// The spec of the pod a record names: from its facts, found once for the record's folds.
fn spec_of<'a>(scenario: &'a Scenario, facts: Option<&PodFacts<'a>>, pod: PodId) -> &'a PodSpec {
    facts.map_or_else(|| &**scenario.pods.spec(pod), |f| &**f.spec)
}

impl SchedulingFold {
    fn group(&mut self, group: GroupId) -> &mut GroupJob {
        if self.groups.len() <= group.index() {
            self.groups.resize(group.index() + 1, GroupJob::default());
        }
        &mut self.groups[group.index()]
    }

    /// A pod was created (the first time): its group's job has a task more.
    pub(crate) fn pod_created(&mut self, pod: &PodFacts<'_>, at: SimTime) {
        // A pod with `spec.nodeName` is bound by name, not placed by a scheduler.
        if let Some(group) = pod.group
            && pod.node_name.is_none()
        {
            let class = pod.spec.workload;
            let job = self.group(group);
            if job.created.get().is_none() {
                job.class = class;
            }
            job.created = earliest(job.created, at);
            job.tasks_left += 1;
        }
    }

    /// A created pod's last part was bound: its group's job has a task fewer.
    pub(crate) fn pod_scheduled(&mut self, pod: &PodFacts<'_>, at: SimTime) {
        if let Some(group) = pod.group
            && pod.node_name.is_none()
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
        pod: &PodFacts<'_>,
        created: Option<SimTime>,
        scheduled: Option<SimTime>,
        attempts: &JobAttempts,
    ) {
        let Some(created) = created else { return };
        if pod.group.is_some() || pod.node_name.is_some() {
            return;
        }
        let class = pod.spec.workload;
        self.job_done(created, u32::from(scheduled.is_none()), scheduled, attempts, class);
    }

    /// The books of a workload class's jobs and of a scheduler's (if the job was attempted).
    fn wait_books(&mut self, class: WorkloadClass, by: Option<ControllerId>) -> [Option<&mut WaitBooks>; 2] {
        if let Some(by) = by
            && self.by_scheduler.len() <= by.index()
        {
            self.by_scheduler.resize_with(by.index() + 1, WaitBooks::default);
        }
        let scheduler = by.and_then(|by| self.by_scheduler.get_mut(by.index()));
        [Some(&mut self.by_class[class_index(class)]), scheduler]
    }

    fn job_done(
        &mut self,
        created: SimTime,
        tasks_left: u32,
        done_at: Option<SimTime>,
        attempts: &JobAttempts,
        class: WorkloadClass,
    ) {
        let jobs = &mut self.m.jobs;
        jobs.total += 1;
        jobs.fully_scheduled += u64::from(tasks_left == 0);
        let first = attempts.first.get().map(|first| first.since(created).as_nanos());
        match first {
            Some(wait) => self.wait_to_first_attempt.push(wait),
            None => jobs.never_attempted += 1,
        }
        let full = done_at.filter(|_| tasks_left == 0).map(|done_at| done_at.since(created).as_nanos());
        if let Some(wait) = full {
            self.wait_to_fully_scheduled.push(wait);
        }
        let by = first.map(|_| attempts.by);
        for books in self.wait_books(class, by).into_iter().flatten() {
            books.counts.total += 1;
            books.counts.fully_scheduled += u64::from(tasks_left == 0);
            books.counts.never_attempted += u64::from(first.is_none());
            first.into_iter().for_each(|w| books.first.push(w));
            full.into_iter().for_each(|w| books.full.push(w));
        }
    }

    /// Reads one record; `pod_job` is the books of the pod whose job an attempt note names
    /// (a job of one pod), if it is in flight.
    pub(crate) fn observe(
        &mut self,
        scenario: &Scenario,
        s: &Stamped,
        pod: Option<&PodFacts<'_>>,
        pod_job: Option<&mut JobAttempts>,
    ) {
        self.locked.advance(s.time);
        self.reserved.advance(s.time);
        self.hoarded.advance(s.time);
        let mut hoarding_changed = false;
        match &s.record {
            Record::NodeAdded { node } => self.capacity.add(&scenario.nodes[node.index()].allocatable),
            Record::Bound { pod: id, part, .. } => {
                self.allocated.add(spec_of(scenario, pod, *id).part_requests(*part));
                if let Some(r) = self.reservations.remove(id) {
                    self.reserved.sub(&r);
                }
                hoarding_changed = true;
            }
            Record::Ended { pod: id, part, .. } => {
                self.allocated.sub(spec_of(scenario, pod, *id).part_requests(*part));
                hoarding_changed = true;
            }
            Record::Note { by, note } => match note {
                Note::Attempt { job, busy, .. } => self.attempt(*by, *job, *busy, s.time, pod_job),
                Note::AttemptDone { placed, conflicts, .. } => self.attempt_done(*by, *placed, *conflicts, s.time),
                Note::Abandoned { job } => {
                    self.m.jobs.abandoned += 1;
                    let class = match job {
                        JobRef::Pod(pod) => scenario.pods.spec(*pod).workload,
                        JobRef::Group(g) => self.group(*g).class,
                    };
                    for books in self.wait_books(class, Some(*by)).into_iter().flatten() {
                        books.counts.abandoned += 1;
                    }
                }
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
            self.find_deadlock(s.time);
        }
    }

    /// A scheduler's attempt began: the job's first attempt and its count (by the scheduler
    /// that made its first, else apart), and the scheduler's busy time.
    fn attempt(
        &mut self,
        by: ControllerId,
        job: JobRef,
        busy: SimDuration,
        time: SimTime,
        pod_job: Option<&mut JobAttempts>,
    ) {
        let attempts = match job {
            JobRef::Group(g) => Some(&mut self.group(g).attempts),
            JobRef::Pod(_) => pod_job,
        };
        let mut fresh = JobAttempts::default();
        let attempts = attempts.unwrap_or(&mut fresh);
        attempts.first = earliest(attempts.first, time);
        let n = if attempts.by == by || attempts.count == 0 {
            attempts.by = by;
            &mut attempts.count
        } else {
            self.attempted_by_others.entry((by, job)).or_insert(0)
        };
        *n += 1;
        let retry = *n > 1;
        let b = SchedulerBooks::of(&mut self.books, by);
        let stats = b.stats.get_or_insert_default();
        stats.attempts += 1;
        stats.retries += u64::from(retry);
        stats.busy_ns += busy.as_nanos();
        b.in_flight = Some(busy.as_nanos());
        add_daily(&mut b.daily, time, busy.as_nanos());
    }

    /// A scheduler's attempt ended: its busy time was useful or wasted, and a claim's a
    /// transaction of the paper's.
    fn attempt_done(&mut self, by: ControllerId, placed: u32, conflicts: u32, time: SimTime) {
        let b = SchedulerBooks::of(&mut self.books, by);
        let busy = b.in_flight.take().unwrap_or(0);
        let stats = b.stats.get_or_insert_default();
        if conflicts > 0 {
            stats.conflicted_attempts += 1;
            stats.wasted_ns += busy;
        } else {
            stats.useful_ns += busy;
        }
        // The paper's transaction: an attempt that claimed something (placed or
        // conflicted), its time useful or wasted (`recordUsefulTimeScheduling`,
        // `recordWastedTimeScheduling`); the others record no busy time.
        if placed + conflicts > 0 {
            stats.transactions_succeeded += u64::from(conflicts == 0);
            stats.transactions_failed += u64::from(conflicts > 0);
            b.paper_busy += busy;
            add_daily(&mut b.paper_daily, time, busy);
        }
    }

    /// The frameworks' hoards changed: a deadlock opens when their holdings form a cycle no
    /// free room breaks, and closes when none is left.
    fn find_deadlock(&mut self, time: SimTime) {
        let free = self.capacity.saturating_minus(&self.allocated).saturating_minus(&self.locked_total);
        let cycle = deadlocked(&self.hoards, &free);
        match (&mut self.open, cycle.is_empty()) {
            (None, false) => {
                let mut held = Resources::default();
                for f in &cycle {
                    held.add(&self.hoards[f].0);
                }
                self.open = Some((time, cycle, held.to_string()));
            }
            (Some(_), true) => {
                let (formed, frameworks, held) = self.open.take().expect("open");
                self.episodes.push((formed, time, frameworks, held));
            }
            _ => {}
        }
    }

    /// The metrics at the run's `end`, once every pod's job is counted.
    pub(crate) fn finish(mut self, controllers: &[String], end: SimTime) -> SchedulingMetrics {
        self.locked.advance(end);
        self.reserved.advance(end);
        self.hoarded.advance(end);
        for job in std::mem::take(&mut self.groups) {
            if let Some(created) = job.created.get() {
                self.job_done(created, job.tasks_left, job.done_at.get(), &job.attempts, job.class);
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
        for (class, books) in [WorkloadClass::Batch, WorkloadClass::Service].into_iter().zip(self.by_class) {
            if books.counts.total > 0 || books.counts.abandoned > 0 {
                m.jobs.by_workload.insert(class.as_str().to_string(), books.finish());
            }
        }
        for (id, books) in self.by_scheduler.into_iter().enumerate() {
            if books.counts.total > 0 || books.counts.abandoned > 0 {
                let waits = books.finish();
                m.jobs.by_scheduler.insert(name(controllers, ControllerId(id as u16)), waits);
            }
        }

        let end_ns = end.as_nanos().max(1);
        for (id, name) in controllers.iter().enumerate() {
            let id = ControllerId(id as u16);
            let Some(stats) = m.schedulers.get_mut(name) else { continue };
            stats.busyness = stats.busy_ns as f64 / end_ns as f64;
            let b = books.get(id.index());
            stats.busyness_paper = b.map_or(0, |b| b.paper_busy) as f64 / end_ns as f64;
            stats.conflict_fractions();
            (stats.busyness_daily_median, stats.busyness_daily_mad) = daily_median_mad(b.map(|b| &b.daily), end_ns);
            (stats.busyness_paper_daily_median, stats.busyness_paper_daily_mad) =
                daily_median_mad(b.map(|b| &b.paper_daily), end_ns);
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
        t.busyness_paper_daily_median += m.busyness_paper_daily_median / n;
        t.busyness_paper_daily_mad += m.busyness_paper_daily_mad / n;
    }
    t.conflict_fractions();
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
