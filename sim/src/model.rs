//! The control plane's latencies and the kubelet's start-up path, drawn from their own seeded
//! streams (one per component, so a draw in one never shifts another's): apiserver requests,
//! etcd commits, watch delivery per watcher, lost watch events and the relists they cause,
//! failed and retried requests, and image pulls with a per-node image cache.

use std::collections::BTreeSet;

use rand_chacha::ChaCha8Rng;

use podlab_cluster::config::{Brownout, ControlPlaneConfig};
use podlab_cluster::rng::stream;
use podlab_cluster::{NodeId, Part, Pod, SimDuration, SimTime};

pub struct ControlPlane {
    pub config: ControlPlaneConfig,
    api: ChaCha8Rng,
    etcd: ChaCha8Rng,
    watch: ChaCha8Rng,
    /// Which requests fail during an apiserver brownout (5xx), and which are throttled (429).
    errors: ChaCha8Rng,
    throttling: ChaCha8Rng,
    /// Which watch events are lost, and how long List calls take.
    drops: ChaCha8Rng,
    list: ChaCha8Rng,
    timeouts: ChaCha8Rng,
    /// Per watcher: when its last watch event arrives, so a watch stream stays in order.
    last_watch: Vec<SimTime>,
    /// Pod status updates (a part started): drawn from a stream of their own, so adding
    /// them shifted no other delivery.
    status: ChaCha8Rng,
    last_status: Vec<SimTime>,
    /// Per client: the theoretical arrival time of its token bucket (GCRA, exact in integers).
    bucket_tat: Vec<SimTime>,
    /// When a deleted pod's kubelet sees the deletion (graceful termination): a stream of
    /// its own, so preemption shifts no other draw.
    termination: ChaCha8Rng,
    /// Per node: the images it has pulled.
    images: Vec<BTreeSet<String>>,
}

/// A uniform draw in [0, 1) with 53 random bits.
fn unit(rng: &mut ChaCha8Rng) -> f64 {
    (rand_core::Rng::next_u64(rng) >> 11) as f64 / (1u64 << 53) as f64
}

fn draw(d: &podlab_cluster::workload::Distribution, rng: &mut ChaCha8Rng) -> SimDuration {
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
            throttling: stream(seed, "control-plane/apiserver-throttling"),
            drops: stream(seed, "control-plane/watch-drops"),
            list: stream(seed, "control-plane/list"),
            timeouts: stream(seed, "control-plane/watch-timeouts"),
            last_watch: vec![SimTime::ZERO; watchers],
            status: stream(seed, "control-plane/watch-status"),
            last_status: vec![SimTime::ZERO; watchers],
            bucket_tat: vec![SimTime::ZERO; watchers],
            termination: stream(seed, "control-plane/termination"),
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

    /// One attempt of a write during an apiserver brownout, the `failures`-th retry: its
    /// apiserver latency is `factor` times longer; it is refused at once with 429 (the
    /// max-in-flight limit), or fails when the request timeout expires, or with a 5xx at its
    /// end. Returns the attempt's time to commit, or how long the failed attempt took, why it
    /// failed, and how long the client waits before the next: a 429's `Retry-After`, else an
    /// exponential backoff (100 ms doubling, at most 10 s: client-go's retry, then the
    /// controller's rate-limited requeue). The 31st attempt goes through (a bound on a
    /// degenerate plan).
    pub fn browned_out_attempt(
        &mut self,
        b: &Brownout,
        failures: u32,
    ) -> Result<SimDuration, (SimDuration, &'static str, SimDuration)> {
        let timeout = b.timeout.unwrap_or(self.config.request_timeout);
        let (api, etcd) = self.write_latency();
        let attempt = SimDuration((api.as_nanos() as f64 * b.latency_factor).round() as u64);
        let u = unit(&mut self.errors);
        let throttled = b.throttle_rate > 0.0 && unit(&mut self.throttling) < b.throttle_rate;
        let backoff = SimDuration::from_millis((100u64 << failures.min(7)).min(10_000));
        if failures >= 30 {
            Ok(attempt + etcd)
        } else if throttled {
            Err((SimDuration::ZERO, "429", b.retry_after))
        } else if attempt + etcd > timeout {
            Err((timeout, "timeout", backoff))
        } else if u < b.error_rate {
            Err((attempt, "5xx", backoff))
        } else {
            Ok(attempt + etcd)
        }
    }

    /// Whether the next watch event to one watcher is lost (`watchDropRate`).
    pub fn watch_event_lost(&mut self) -> bool {
        self.config.watch_drop_rate > 0.0 && unit(&mut self.drops) < self.config.watch_drop_rate
    }

    /// How long a watch lasts before the client renews it: uniform in [T, 2T), as client-go
    /// draws its watch timeouts (`minWatchTimeout` 5 min).
    pub fn watch_timeout(&mut self) -> SimDuration {
        let t = self.config.watch_timeout.as_nanos();
        SimDuration(t + podlab_cluster::rng::below(&mut self.timeouts, t.max(1)))
    }

    /// How long a List of `objects` takes: one apiserver request, plus serialising each object.
    pub fn list_latency(&mut self, objects: u64) -> SimDuration {
        let api = draw(&self.config.api_latency, &mut self.list);
        api + SimDuration(self.config.list_per_object.as_nanos().saturating_mul(objects))
    }

    /// Events for `watcher` are delivered from `at` on (a relist's replay): later watch
    /// events must not overtake them.
    pub fn hold_watch(&mut self, watcher: usize, at: SimTime) -> SimTime {
        let at = at.max(self.last_watch[watcher]);
        self.last_watch[watcher] = at;
        at
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

    /// When a pod of `containers` containers deleted gracefully at `now` has stopped: its
    /// kubelet sees the deletion through its watch, then stops each container, taken to cost
    /// what starting one does (podlab's workloads exit on SIGTERM, well within the 30 s grace
    /// period).
    pub fn termination(&mut self, containers: usize, now: SimTime) -> SimTime {
        let seen = now + draw(&self.config.watch_delay, &mut self.termination);
        seen + SimDuration(self.config.container_start.as_nanos() * containers.max(1) as u64)
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
