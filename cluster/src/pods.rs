//! The scenario's pods by id: pods held whole (written in the scenario, read from a trace,
//! prefilled, created during the run) and a generator's pods kept as what was drawn for each
//! job — a row of 16 bytes — and rebuilt from the generator's template when asked for.
//!
//! A generated pod differs from its generator's template only in its name, its run time and
//! its PodGroup; its spec is the template's, shared. Holding each as an `Arc<Pod>` cost 72
//! bytes a pod of the run (its allocation and the list's pointer), for a million pods
//! arriving over a day of which a few thousand are alive at once. Ids are as they were when
//! every pod was held: the pods written in the scenario and the prefill first, then each
//! generator's jobs in turn, then the pods made during the run.

use std::borrow::Cow;
use std::sync::Arc;

use ecow::EcoString;

use crate::maybe::Maybe;
use crate::objects::{GroupId, NodeId, Pod, PodId, PodSpec};
use crate::time::SimDuration;

/// Pods a generator's index of jobs steps by (see [`Generated::job_of`]).
const STRIDE: usize = 64;

/// Up to this many generators, a pod's generator is found by scanning them in order.
const FEW_GENERATORS: usize = 8;

thread_local! {
    /// The job [`Generated::job_of`] found last on this thread, by index: a hint, checked
    /// against the rows before it is taken (what is found never depends on it).
    static LAST_JOB: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A scenario's pods by id: held whole, or rebuilt from a generator's template on demand.
#[derive(Clone, Debug, Default)]
pub struct Pods {
    /// Ids from 0: the pods held whole before the first generated one.
    head: Vec<Arc<Pod>>,
    /// Then each generator's pods, in turn.
    generated: Vec<Generated>,
    /// Then the pods created during the run.
    tail: Vec<Arc<Pod>>,
}

/// One generator's jobs: pods `first..end`.
#[derive(Clone, Debug)]
struct Generated {
    /// Its jobs are named `{name}-{n}`; a gang's pods `{name}-{n}-{k}`: this is `{name}-`,
    /// spelled once.
    dashed: String,
    /// What every pod is but its name, run time and group.
    template: Pod,
    first: u32,
    end: u32,
    jobs: Vec<JobRow>,
    /// The job of pod `first + i * STRIDE`, so finding a pod's job searches a few rows.
    job_of_every_stride: Vec<u32>,
}

/// What was drawn for one job: its pods from `first` to the next job's first.
#[derive(Clone, Copy, Debug)]
struct JobRow {
    first: u32,
    group: Maybe<GroupId>,
    run_for: SimDuration,
}

/// A pod's spec, PodGroup and `spec.nodeName` ([`Pods::facts`]).
#[derive(Clone, Copy, Debug)]
pub struct PodFacts<'a> {
    /// Its spec ([`Pods::spec`]).
    pub spec: &'a Arc<PodSpec>,
    /// Its PodGroup ([`Pods::group`]).
    pub group: Option<GroupId>,
    /// Its `spec.nodeName` ([`Pods::node_name`]).
    pub node_name: Option<NodeId>,
}

/// Where a pod is held.
enum Slot<'a> {
    Held(&'a Arc<Pod>),
    Generated(&'a Generated),
}

impl Generated {
    fn job_of(&self, pod: u32) -> usize {
        let i = (pod - self.first) as usize;
        if self.jobs.len() == (self.end - self.first) as usize {
            // Every job is one pod: pod `first + i` is job `i`.
            return i;
        }
        // A thread asks about a job's pods together (created, bound, named, folded): the job
        // it found last, if its rows show it holds `pod`, spares the search and its cache
        // misses. Checked against the rows, so it is right whatever it was found in.
        let last = LAST_JOB.with(std::cell::Cell::get);
        if self.jobs.get(last).is_some_and(|row| row.first <= pod) && pod < self.next_first(last) {
            return last;
        }
        let from = self.job_of_every_stride[i / STRIDE] as usize;
        let to = self.job_of_every_stride.get(i / STRIDE + 1).map_or(self.jobs.len(), |&j| j as usize + 1);
        let job = from + self.jobs[from..to].partition_point(|row| row.first <= pod) - 1;
        LAST_JOB.with(|last| last.set(job));
        job
    }

    /// The first pod after job `job`'s.
    fn next_first(&self, job: usize) -> u32 {
        self.jobs.get(job + 1).map_or(self.end, |next| next.first)
    }

    fn tasks(&self, job: usize) -> u32 {
        self.jobs.get(job + 1).map_or(self.end, |next| next.first) - self.jobs[job].first
    }

    /// `{name}-{n}`, or `{name}-{n}-{k}` for the `k`-th pod of a gang, piece by piece.
    fn spell(&self, job: usize, pod: u32, mut push: impl FnMut(&str)) {
        let mut digits = itoa::Buffer::new();
        push(&self.dashed);
        push(digits.format(job));
        if self.tasks(job) > 1 {
            push("-");
            push(digits.format(pod - self.jobs[job].first));
        }
    }

    fn name(&self, job: usize, pod: u32) -> EcoString {
        let mut name = EcoString::new();
        self.spell(job, pod, |piece| name.push_str(piece));
        name
    }

    fn build(&self, job: usize, pod: u32) -> Pod {
        let mut built = self.template.clone();
        built.name = self.name(job, pod);
        built.set_run_for(Some(self.jobs[job].run_for));
        built.set_group(self.jobs[job].group.get());
        built
    }
}

impl From<Vec<Arc<Pod>>> for Pods {
    fn from(held: Vec<Arc<Pod>>) -> Pods {
        Pods { head: held, ..Pods::default() }
    }
}

impl Pods {
    /// How many pods there are (ids are `0..len`).
    pub fn len(&self) -> usize {
        self.generated_end() as usize + self.tail.len()
    }

    /// Whether there is no pod.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn generated_end(&self) -> u32 {
        self.generated.last().map_or(self.head.len() as u32, |g| g.end)
    }

    fn slot(&self, pod: PodId) -> Slot<'_> {
        let id = pod.0;
        if let Some(held) = self.head.get(pod.index()) {
            return Slot::Held(held);
        }
        // Every record's spec, name and job is found here, several times a pod on both of a
        // run's threads: a scenario's few generators are scanned in order, cheaper than a
        // binary search's bounds and branches; many are searched.
        if self.generated.len() <= FEW_GENERATORS {
            if let Some(g) = self.generated.iter().find(|g| id < g.end) {
                return Slot::Generated(g);
            }
        } else if id < self.generated_end() {
            return Slot::Generated(&self.generated[self.generated.partition_point(|g| g.end <= id)]);
        }
        Slot::Held(&self.tail[(id - self.generated_end()) as usize])
    }

    /// Pod `pod`: borrowed when held, built when generated. Panics past the end, as indexing.
    pub fn get(&self, pod: PodId) -> Cow<'_, Arc<Pod>> {
        match self.slot(pod) {
            Slot::Held(held) => Cow::Borrowed(held),
            Slot::Generated(g) => Cow::Owned(Arc::new(g.build(g.job_of(pod.0), pod.0))),
        }
    }

    /// Pod `pod`'s spec, which a generated pod shares with its template: no pod is built.
    pub fn spec(&self, pod: PodId) -> &Arc<PodSpec> {
        match self.slot(pod) {
            Slot::Held(held) => &held.spec,
            Slot::Generated(g) => &g.template.spec,
        }
    }

    /// Pod `pod`'s PodGroup (see [`Pod::group`]), without building it.
    pub fn group(&self, pod: PodId) -> Option<GroupId> {
        match self.slot(pod) {
            Slot::Held(held) => held.group(),
            Slot::Generated(g) => g.jobs[g.job_of(pod.0)].group.get(),
        }
    }

    /// What a fold of the records reads of pod `pod` — its spec, PodGroup and
    /// `spec.nodeName` — found at once (a generated pod's job is searched for once, not for
    /// each of them).
    pub fn facts(&self, pod: PodId) -> PodFacts<'_> {
        match self.slot(pod) {
            Slot::Held(held) => PodFacts { spec: &held.spec, group: held.group(), node_name: held.node_name() },
            Slot::Generated(g) => {
                PodFacts { spec: &g.template.spec, group: g.jobs[g.job_of(pod.0)].group.get(), node_name: None }
            }
        }
    }

    /// Pod `pod`'s run time (see [`Pod::run_for`]), without building it.
    pub fn run_for(&self, pod: PodId) -> Option<SimDuration> {
        match self.slot(pod) {
            Slot::Held(held) => held.run_for(),
            Slot::Generated(g) => Some(g.jobs[g.job_of(pod.0)].run_for),
        }
    }

    /// Pod `pod`'s `spec.nodeName` (a generated pod has none), without building it.
    pub fn node_name(&self, pod: PodId) -> Option<NodeId> {
        match self.slot(pod) {
            Slot::Held(held) => held.node_name(),
            Slot::Generated(_) => None,
        }
    }

    /// [`Pod::ending`] of pod `pod`, without building it.
    pub fn ending(&self, pod: PodId, exits: &mut impl rand_core::Rng) -> Option<(SimDuration, crate::Phase)> {
        // One lookup for both (every part's start asks).
        match self.slot(pod) {
            Slot::Held(held) => held.spec.ending_after(held.run_for(), exits),
            Slot::Generated(g) => g.template.spec.ending_after(Some(g.jobs[g.job_of(pod.0)].run_for), exits),
        }
    }

    /// Pod `pod`'s name, without building the rest of it.
    pub fn name(&self, pod: PodId) -> EcoString {
        match self.slot(pod) {
            Slot::Held(held) => held.name.clone(),
            Slot::Generated(g) => g.name(g.job_of(pod.0), pod.0),
        }
    }

    /// Appends pod `pod`'s name to `out` (the event log names millions of pods).
    pub fn push_name(&self, pod: PodId, out: &mut String) {
        match self.slot(pod) {
            Slot::Held(held) => out.push_str(&held.name),
            Slot::Generated(g) => g.spell(g.job_of(pod.0), pod.0, |piece| out.push_str(piece)),
        }
    }

    /// Appends pod `pod`'s key to `out` — `namespace/name`, or the name alone in `default`, as
    /// [`Pod::key`] writes it — and returns its spec: the event log's lines name a pod and
    /// then read its spec (a part's name, its requests), and this finds the pod once for both.
    pub fn push_key(&self, pod: PodId, out: &mut String) -> &Arc<PodSpec> {
        let namespace = |spec: &PodSpec, out: &mut String| {
            if spec.namespace != "default" {
                out.push_str(&spec.namespace);
                out.push('/');
            }
        };
        match self.slot(pod) {
            Slot::Held(held) => {
                namespace(&held.spec, out);
                out.push_str(&held.name);
                &held.spec
            }
            Slot::Generated(g) => {
                namespace(&g.template.spec, out);
                g.spell(g.job_of(pod.0), pod.0, |piece| out.push_str(piece));
                &g.template.spec
            }
        }
    }

    /// Every pod in id order; a generated one is built as it is reached.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Cow<'_, Arc<Pod>>> + '_ {
        (0..self.len() as u32).map(|id| self.get(PodId(id)))
    }

    /// Every pod's spec, in id order, without building a pod.
    pub fn specs(&self) -> impl ExactSizeIterator<Item = &PodSpec> + Clone + '_ {
        (0..self.len() as u32).map(|id| &**self.spec(PodId(id)))
    }

    /// Every spec a pod has, without a pass over every pod: the held pods' (which may repeat)
    /// and each generator's template's, which its pods share.
    pub fn distinct_specs(&self) -> impl Iterator<Item = &PodSpec> + '_ {
        let held = self.head.iter().chain(&self.tail).map(|p| &*p.spec);
        held.chain(self.generated.iter().map(|g| &*g.template.spec))
    }

    /// Adds a pod held whole, after every other; returns its id.
    pub fn push(&mut self, pod: Arc<Pod>) -> PodId {
        let id = PodId(self.len() as u32);
        if self.generated.is_empty() {
            self.head.push(pod);
        } else {
            self.tail.push(pod);
        }
        id
    }

    /// The pods held whole before any generated one.
    pub fn held(&self) -> &[Arc<Pod>] {
        &self.head
    }

    /// The pods held whole, while no generated pod follows them (a prefill rearranges its own).
    pub fn held_mut(&mut self) -> &mut Vec<Arc<Pod>> {
        assert!(self.generated.is_empty(), "pods are rearranged only before any is generated");
        &mut self.head
    }

    /// Starts a generator's pods: its jobs follow with [`Pods::push_job`].
    pub fn start_generator(&mut self, name: &str, template: Pod) {
        assert!(self.tail.is_empty(), "generated pods come before the run's");
        let first = self.generated_end();
        self.generated.push(Generated {
            dashed: format!("{name}-"),
            template,
            first,
            end: first,
            jobs: Vec::new(),
            job_of_every_stride: Vec::new(),
        });
    }

    /// The current generator's next job of `tasks` pods (a gang in `group` when more than
    /// one); returns its first pod's id.
    pub fn push_job(&mut self, tasks: u32, run_for: SimDuration, group: Option<GroupId>) -> PodId {
        debug_assert!(tasks > 0, "a job has a pod");
        let g = self.generated.last_mut().expect("a generator was started");
        let job = g.jobs.len() as u32;
        let first = g.end;
        g.jobs.push(JobRow { first, group: group.into(), run_for });
        g.end += tasks;
        // Every stride point this job covers has it as its job.
        while g.first as usize + g.job_of_every_stride.len() * STRIDE < g.end as usize {
            g.job_of_every_stride.push(job);
        }
        PodId(first)
    }

    /// Frees what the lists hold beyond their length.
    pub fn shrink_to_fit(&mut self) {
        self.head.shrink_to_fit();
        for g in &mut self.generated {
            g.jobs.shrink_to_fit();
            g.job_of_every_stride.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Resources;

    fn template() -> Pod {
        let mut pod = Pod::single("task", Resources::new(1000, 1 << 30));
        pod.name = "task".into();
        pod
    }

    /// A generated pod is the pod its job would have been held as, whatever the job sizes.
    #[test]
    fn generated_pods_are_rebuilt_as_held() {
        let mut pods = Pods::default();
        pods.push(Arc::new(template()));
        pods.start_generator("web", template());
        let sizes = [1u32, 3, 1, 70, 1, 1, 130, 2];
        let mut expected = vec![template()];
        for (n, &tasks) in sizes.iter().enumerate() {
            let group = (tasks > 1).then_some(GroupId(n as u32));
            let run_for = SimDuration(n as u64 * 1000);
            let first = pods.push_job(tasks, run_for, group);
            assert_eq!(first.index(), expected.len());
            for k in 0..tasks {
                let mut pod = template();
                pod.name = if tasks > 1 { format!("web-{n}-{k}") } else { format!("web-{n}") }.into();
                pod.set_run_for(Some(run_for));
                pod.set_group(group);
                expected.push(pod);
            }
        }
        // A generator of single pods finds a pod's job by its index alone.
        pods.start_generator("one", template());
        for n in 0..200u32 {
            let run_for = SimDuration(u64::from(n));
            pods.push_job(1, run_for, None);
            let mut pod = template();
            pod.name = format!("one-{n}").into();
            pod.set_run_for(Some(run_for));
            expected.push(pod);
        }
        let made = pods.push(Arc::new(template()));
        expected.push(template());
        assert_eq!(made.index(), expected.len() - 1);
        assert_eq!(pods.len(), expected.len());
        for (i, want) in expected.iter().enumerate() {
            let id = PodId(i as u32);
            assert_eq!(**pods.get(id), *want, "pod {i}");
            assert_eq!(pods.name(id), want.name);
            let mut pushed = String::from(">");
            pods.push_name(id, &mut pushed);
            assert_eq!(pushed, format!(">{}", want.name));
            assert_eq!(pods.group(id), want.group());
            let facts = pods.facts(id);
            assert_eq!((facts.group, facts.node_name, &**facts.spec), (want.group(), want.node_name(), &*want.spec));
            let mut key = String::new();
            assert_eq!(**pods.push_key(id, &mut key), *want.spec);
            assert_eq!(key, want.key());
            assert_eq!(pods.run_for(id), want.run_for());
            assert_eq!(pods.node_name(id), want.node_name());
            assert_eq!(**pods.spec(id), *want.spec);
        }
    }

    /// A pod's generator is found by scanning a few generators and by searching many: with 3
    /// and with 20 (past `FEW_GENERATORS`), each pod is named by its own, and the run's pods
    /// after them are held.
    #[test]
    fn generators_are_found_few_or_many() {
        for generators in [3u32, 20] {
            let mut pods = Pods::default();
            pods.push(Arc::new(template()));
            let mut names = vec!["task".to_string()];
            for g in 0..generators {
                pods.start_generator(&format!("g{g}"), template());
                for n in 0..=(g % 3) {
                    pods.push_job(1, SimDuration(1), None);
                    names.push(format!("g{g}-{n}"));
                }
            }
            pods.push(Arc::new(template()));
            names.push("task".to_string());
            let found: Vec<String> = (0..pods.len() as u32).map(|i| pods.name(PodId(i)).to_string()).collect();
            assert_eq!(found, names, "{generators} generators");
        }
    }
}
