//! The control plane's latencies and the kubelet's start-up path, drawn from their own seeded
//! streams (one per component, so a draw in one never shifts another's): apiserver requests,
//! etcd commits, watch delivery per watcher, and image pulls with a per-node image cache.

use std::collections::BTreeSet;

use rand_chacha::ChaCha8Rng;

use podlab_cluster::config::ControlPlaneConfig;
use podlab_cluster::rng::stream;
use podlab_cluster::{NodeId, Part, Pod, SimDuration, SimTime};

pub struct ControlPlane {
    pub config: ControlPlaneConfig,
    api: ChaCha8Rng,
    etcd: ChaCha8Rng,
    watch: ChaCha8Rng,
    /// Which requests fail during an apiserver brownout.
    errors: ChaCha8Rng,
    /// Per watcher: when its last watch event arrives, so a watch stream stays in order.
    last_watch: Vec<SimTime>,
    /// Pod status updates (a part started): drawn from a stream of their own, so adding
    /// them shifted no other delivery.
    status: ChaCha8Rng,
    last_status: Vec<SimTime>,
    /// Per client: the theoretical arrival time of its token bucket (GCRA, exact in integers).
    bucket_tat: Vec<SimTime>,
    /// Per node: the images it has pulled.
    images: Vec<BTreeSet<String>>,
}

fn draw(d: &podlab_cluster::scenario::Distribution, rng: &mut ChaCha8Rng) -> SimDuration {
    SimDuration(d.sample(rng).round().clamp(0.0, 1e15) as u64)
}

impl ControlPlane {
    pub fn new(config: ControlPlaneConfig, seed: u64, watchers: usize, nodes: usize) -> ControlPlane {
        ControlPlane {
            config,
            api: stream(seed, "control-plane/apiserver"),
            etcd: stream(seed, "control-plane/etcd"),
            watch: stream(seed, "control-plane/watch"),
            errors: stream(seed, "control-plane/apiserver-errors"),
            last_watch: vec![SimTime::ZERO; watchers],
            status: stream(seed, "control-plane/watch-status"),
            last_status: vec![SimTime::ZERO; watchers],
            bucket_tat: vec![SimTime::ZERO; watchers],
            images: vec![BTreeSet::new(); nodes],
        }
    }

    /// How long a write takes from the client's request to its commit: the apiserver's
    /// latency and etcd's commit.
    pub fn write_latency(&mut self) -> (SimDuration, SimDuration) {
        let api = draw(&self.config.api_latency, &mut self.api);
        let etcd = draw(&self.config.etcd_commit, &mut self.etcd);
        (api, etcd)
    }

    /// How long a client's write waits for its rate limiter (client-go's token bucket as the
    /// equivalent GCRA: `qps` per second, bursts of `burst`).
    pub fn throttle(&mut self, client: usize, now: SimTime) -> SimDuration {
        let Some((qps, burst)) = self.config.client_qps else { return SimDuration::ZERO };
        let interval = SimDuration(1_000_000_000 / u64::from(qps.max(1)));
        let tolerance = SimDuration(interval.as_nanos() * u64::from(burst.saturating_sub(1)));
        let tat = self.bucket_tat[client].max(now);
        let allowed = SimTime(tat.as_nanos().saturating_sub(tolerance.as_nanos())).max(now);
        self.bucket_tat[client] = tat + interval;
        allowed.since(now)
    }

    /// A write during an apiserver brownout: each attempt takes `factor` times longer, and
    /// fails with probability `error_rate`; the client retries failures after an exponential
    /// backoff (100 ms doubling, at most 10 s), as client-go does. Returns the time until the
    /// request succeeds and how many attempts failed.
    pub fn browned_out_latency(&mut self, factor: f64, error_rate: f64) -> (SimDuration, u32) {
        let mut total = SimDuration::ZERO;
        let mut failures = 0u32;
        loop {
            let (api, etcd) = self.write_latency();
            let attempt = SimDuration((api.as_nanos() as f64 * factor).round() as u64);
            let u = (rand_core::Rng::next_u64(&mut self.errors) >> 11) as f64 / (1u64 << 53) as f64;
            if u >= error_rate || failures >= 30 {
                return (total + attempt + etcd, failures);
            }
            let backoff_ms = (100u64 << failures.min(7)).min(10_000);
            total = total + attempt + SimDuration::from_millis(backoff_ms);
            failures += 1;
        }
    }

    /// When a watch event committed `now` reaches `watcher` (never before its previous one).
    pub fn watch_arrival(&mut self, watcher: usize, now: SimTime) -> SimTime {
        let at = (now + draw(&self.config.watch_delay, &mut self.watch)).max(self.last_watch[watcher]);
        self.last_watch[watcher] = at;
        at
    }

    /// When a pod status update committed `now` reaches `watcher`: after its own delay, never
    /// before the watcher's earlier status updates nor the other events it has been sent so
    /// far (without pushing those later).
    pub fn status_arrival(&mut self, watcher: usize, now: SimTime) -> SimTime {
        let at = (now + draw(&self.config.watch_delay, &mut self.status))
            .max(self.last_status[watcher])
            .max(self.last_watch[watcher]);
        self.last_status[watcher] = at;
        at
    }

    /// The kubelet's start-up of one part bound at `now`: it sees the binding through its
    /// watch, creates the sandbox, pulls the images its node lacks, starts each container.
    /// Returns when the part runs and how much of that was pulling.
    pub fn start_up(&mut self, pod: &Pod, part: Part, node: NodeId, now: SimTime) -> (SimTime, SimDuration) {
        let seen = now + draw(&self.config.watch_delay, &mut self.watch);
        let containers: Vec<&podlab_cluster::objects::Container> = match part {
            Part::Whole => pod.containers.iter().collect(),
            Part::Container(i) => vec![&pod.containers[i as usize]],
        };
        let image_bytes = pod.image_bytes.unwrap_or(self.config.default_image_bytes);
        let mut pull = SimDuration::ZERO;
        for c in &containers {
            let image = if c.image.is_empty() { format!("{}/{}", pod.name, c.name) } else { c.image.clone() };
            if self.images[node.index()].insert(image) {
                let ns = u128::from(image_bytes) * 1_000_000_000 / u128::from(self.config.pull_bytes_per_second.max(1));
                pull = pull + SimDuration(ns.min(u128::from(u64::MAX)) as u64);
            }
        }
        let starts = SimDuration(self.config.container_start.as_nanos() * containers.len() as u64);
        (seen + self.config.sandbox + pull + starts, pull)
    }
}
