//! The co-scheduling designs' own metrics, from the notes schedulers write: job waits (to the
//! first attempt and to fully scheduled), scheduler busyness (useful and wasted, and the
//! paper's daily median ± MAD), conflicts and retries, abandoned jobs, resources locked in
//! offers, reserved at Permit or hoarded while idle, and Mesos hoarding deadlocks.

use std::collections::BTreeMap;

use petgraph::algo::tarjan_scc;
use petgraph::graph::DiGraph;
use serde::Serialize;

use podlab_cluster::scenario::Scenario;
use podlab_cluster::{ControllerId, JobRef, Note, PodId, Record, Records, Resources, SimTime};

use crate::outcome::Outcomes;
use crate::summary::Percentiles;

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

/// "Never", in a vector of times in ns.
const NONE: u64 = u64::MAX;

/// Jobs as dense indices: a pod in no group, then the groups.
struct Jobs {
    pods: usize,
}

impl Jobs {
    fn len(&self, scenario: &Scenario) -> usize {
        self.pods + scenario.groups.len()
    }

    fn index(&self, job: JobRef) -> usize {
        match job {
            JobRef::Pod(p) => p.index(),
            JobRef::Group(g) => self.pods + g.index(),
        }
    }
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

/// A job's arrival (its first task's), unscheduled tasks and last binding, in ns (`NONE`: never).
#[derive(Clone, Copy)]
struct JobTimes {
    created: u64,
    tasks_left: u32,
    done_at: u64,
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
        let dt = u128::from(to.since(self.last).as_nanos());
        for r in 0..2 {
            self.area[r] += self.held[r] * dt;
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

pub fn scheduling_metrics(
    scenario: &Scenario,
    controllers: &[String],
    records: &Records,
    outcomes: &Outcomes,
    end: SimTime,
) -> SchedulingMetrics {
    let mut m = SchedulingMetrics::default();
    let name = |c: ControllerId| controllers.get(c.index()).cloned().unwrap_or_else(|| format!("controller-{}", c.0));

    // Jobs, in dense vectors indexed by `Jobs::index` (a run may have millions), times in ns
    // with `NONE` for "never". A pod's own job is read from its outcome; a group's is gathered
    // from its members' here.
    let jobs = Jobs { pods: scenario.pods.len() };
    let by_scheduler = |pod: PodId| scenario.pods[pod.index()].node_name().is_none(); // else bound by name
    let mut groups = vec![JobTimes { created: NONE, tasks_left: 0, done_at: NONE }; scenario.groups.len()];
    for (i, o) in outcomes.pods.iter().enumerate() {
        let pod = PodId(i as u32);
        let (Some(group), Some(at)) = (scenario.pods[pod.index()].group(), o.created_at()) else { continue };
        if !by_scheduler(pod) {
            continue;
        }
        let job = &mut groups[group.index()];
        job.created = job.created.min(at.as_nanos());
        job.tasks_left += u32::from(o.scheduled_at().is_none());
        if let Some(t) = o.scheduled_at() {
            job.done_at = if job.done_at == NONE { t.as_nanos() } else { job.done_at.max(t.as_nanos()) };
        }
    }
    let job_times = |j: usize| match j.checked_sub(jobs.pods) {
        Some(g) => groups[g],
        None => match outcomes.pods.get(j).and_then(|o| Some((o.created_at()?, o.scheduled_at()))) {
            Some((at, scheduled)) if scenario.pods[j].group().is_none() && by_scheduler(PodId(j as u32)) => JobTimes {
                created: at.as_nanos(),
                tasks_left: u32::from(scheduled.is_none()),
                done_at: scheduled.map_or(NONE, SimTime::as_nanos),
            },
            _ => JobTimes { created: NONE, tasks_left: 0, done_at: NONE },
        },
    };
    let job_count = jobs.len(scenario);
    let mut first_attempt = vec![NONE; job_count];
    // Attempts per (scheduler, job): the first scheduler's count inline, any other's aside.
    let mut attempted: Vec<(ControllerId, u32)> = vec![(ControllerId(u16::MAX), 0); job_count];
    let mut attempted_by_others: BTreeMap<(ControllerId, usize), u32> = BTreeMap::new();
    // Per scheduler, by controller id (every attempt writes two notes: no name is looked up
    // for them): its counts, the busy time of its attempt in flight, the busy time of each
    // day, and of attempts that placed something.
    let mut books: Vec<SchedulerBooks> = Vec::new();

    // Holdings and deadlocks.
    let mut locked = Meter::default();
    let mut reserved = Meter::default();
    let mut hoarded = Meter::default();
    let mut offers: BTreeMap<u64, Resources> = BTreeMap::new();
    let mut reservations: BTreeMap<PodId, Resources> = BTreeMap::new();
    let mut hoards: BTreeMap<ControllerId, (Resources, Resources)> = BTreeMap::new();
    let mut capacity = Resources::default();
    let mut allocated = Resources::default();
    let mut locked_total = Resources::default();
    let mut open: Option<Deadlock> = None;

    for s in records.iter().take_while(|s| s.time <= end) {
        locked.advance(s.time);
        reserved.advance(s.time);
        hoarded.advance(s.time);
        let mut hoarding_changed = false;
        match &s.record {
            Record::NodeAdded { node } => capacity.add(&scenario.nodes[node.index()].allocatable),
            Record::Bound { pod, part, .. } => {
                allocated.add(scenario.pods[pod.index()].part_requests(*part));
                if let Some(r) = reservations.remove(pod) {
                    reserved.sub(&r);
                }
                hoarding_changed = true;
            }
            Record::Ended { pod, part, .. } => {
                allocated.sub(scenario.pods[pod.index()].part_requests(*part));
                hoarding_changed = true;
            }
            Record::Note { by, note } => match note {
                Note::Attempt { job, busy, .. } => {
                    let j = jobs.index(*job);
                    first_attempt[j] = first_attempt[j].min(s.time.as_nanos());
                    let n = match &mut attempted[j] {
                        (c, n) if *c == *by || *n == 0 => {
                            *c = *by;
                            n
                        }
                        _ => attempted_by_others.entry((*by, j)).or_insert(0),
                    };
                    *n += 1;
                    let b = SchedulerBooks::of(&mut books, *by);
                    let stats = b.stats.get_or_insert_default();
                    stats.attempts += 1;
                    stats.retries += u64::from(*n > 1);
                    stats.busy_ns += busy.as_nanos();
                    b.in_flight = Some(busy.as_nanos());
                    let day = (s.time.as_nanos() / DAY_NS) as usize;
                    if b.daily.len() <= day {
                        b.daily.resize(day + 1, 0);
                    }
                    b.daily[day] += busy.as_nanos();
                }
                Note::AttemptDone { placed, conflicts, .. } => {
                    let b = SchedulerBooks::of(&mut books, *by);
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
                Note::Abandoned { .. } => m.jobs.abandoned += 1,
                Note::Reserved { pod, part, .. } => {
                    let r = scenario.pods[pod.index()].part_requests(*part).clone();
                    reserved.add(&r);
                    reservations.insert(*pod, r);
                }
                Note::Released { pod, .. } => {
                    if let Some(r) = reservations.remove(pod) {
                        reserved.sub(&r);
                    }
                }
                Note::Offered { offer, resources, .. } => {
                    locked.add(resources);
                    locked_total.add(resources);
                    offers.insert(*offer, resources.clone());
                    hoarding_changed = true;
                }
                Note::OfferClosed { offer, .. } => {
                    if let Some(r) = offers.remove(offer) {
                        locked.sub(&r);
                        locked_total.sub(&r);
                    }
                    hoarding_changed = true;
                }
                Note::Hoard { held, needs } => {
                    if let Some((old, _)) = hoards.get(by) {
                        hoarded.sub(old);
                    }
                    hoarded.add(held);
                    hoards.insert(*by, (held.clone(), needs.clone()));
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
        if hoarding_changed && !hoards.is_empty() {
            let free = capacity.saturating_minus(&allocated).saturating_minus(&locked_total);
            let cycle = deadlocked(&hoards, &free);
            match (&mut open, cycle.is_empty()) {
                (None, false) => {
                    let mut held = Resources::default();
                    for f in &cycle {
                        held.add(&hoards[f].0);
                    }
                    open = Some(Deadlock {
                        formed_ns: s.time.as_nanos(),
                        ended_ns: 0,
                        frameworks: cycle.iter().map(|f| name(*f)).collect(),
                        held: held.to_string(),
                    });
                }
                (Some(_), true) => {
                    let mut d = open.take().expect("open");
                    d.ended_ns = s.time.as_nanos();
                    m.deadlocks.episodes.push(d);
                }
                _ => {}
            }
        }
    }
    locked.advance(end);
    reserved.advance(end);
    hoarded.advance(end);
    if let Some(mut d) = open {
        d.ended_ns = end.as_nanos();
        m.deadlocks.episodes.push(d);
    }
    m.deadlocks.count = m.deadlocks.episodes.len() as u64;
    for d in &m.deadlocks.episodes {
        let length = d.ended_ns - d.formed_ns;
        m.deadlocks.total_ns += length;
        m.deadlocks.longest_ns = m.deadlocks.longest_ns.max(length);
    }
    // By name, as the summary shows them (a name two controllers share adds them up).
    for (id, b) in books.iter().enumerate() {
        if let Some(stats) = &b.stats {
            m.schedulers.entry(name(ControllerId(id as u16))).or_default().add_counts(stats);
        }
    }
    m.locked_in_offers = locked.result();
    m.reserved_at_permit = reserved.result();
    m.hoarded = hoarded.result();

    // The reports' peak: a run may have a million jobs. The attempt counts are done with, and
    // each wait distribution is gathered on its own into a vector of its exact size (counted
    // in the pass that counts the jobs).
    drop(attempted);
    let jobs_with = || {
        first_attempt.iter().enumerate().map(|(j, &first)| (job_times(j), first)).filter(|(job, _)| job.created != NONE)
    };
    let to_first_attempt = |(job, first): (JobTimes, u64)| (first != NONE).then(|| first.saturating_sub(job.created));
    let to_fully_scheduled = |(job, _): (JobTimes, u64)| {
        (job.tasks_left == 0 && job.done_at != NONE).then(|| job.done_at.saturating_sub(job.created))
    };
    let (mut attempted_jobs, mut scheduled_jobs) = (0, 0);
    for (job, first) in jobs_with() {
        m.jobs.total += 1;
        m.jobs.fully_scheduled += u64::from(job.tasks_left == 0);
        m.jobs.never_attempted += u64::from(first == NONE);
        attempted_jobs += usize::from(to_first_attempt((job, first)).is_some());
        scheduled_jobs += usize::from(to_fully_scheduled((job, first)).is_some());
    }
    let mut waits = Vec::with_capacity(attempted_jobs);
    waits.extend(jobs_with().filter_map(to_first_attempt));
    m.jobs.wait_to_first_attempt = Percentiles::of(waits);
    let mut waits = Vec::with_capacity(scheduled_jobs);
    waits.extend(jobs_with().filter_map(to_fully_scheduled));
    m.jobs.wait_to_fully_scheduled = Percentiles::of(waits);

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
