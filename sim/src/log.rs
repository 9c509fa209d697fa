//! The event log: one canonical text line per record, and a BLAKE3 digest of those bytes — the
//! oracle of determinism. Same scenario and seed ⇒ same digest, on any machine.

use std::fmt::Write;

use podlab_cluster::scenario::Scenario;
use podlab_cluster::{EcoString, JobRef, Note, Record, Records, Resources, SimTime, Stamped};

/// Records in order, and the running digest of their canonical lines.
pub struct EventLog {
    records: Records,
    /// Whether `records` keeps what is appended (the digest takes every record either way).
    keep: bool,
    hasher: blake3::Hasher,
    /// Lines not yet hashed: BLAKE3 takes them a few kilobytes at a time, where its wide
    /// instructions pay (the digest is of the same bytes however they are cut).
    lines: String,
    /// The last pod's requests and their canonical text: pods of one template share them.
    requests: Option<(Resources, String)>,
    nodes: NodeNames,
}

/// Every node's name in one string, in id order: the lines of bindings and endings name a
/// node each, and reading it from its `Node` missed the cache twice (the node, then its name)
/// among ten thousand nodes.
#[derive(Default)]
struct NodeNames {
    text: String,
    /// Where each node's name ends in `text`.
    ends: Vec<u32>,
}

impl NodeNames {
    /// Adds the names of nodes the scenario gained (a node's id and name never change).
    fn sync(&mut self, scenario: &Scenario) {
        for node in &scenario.nodes[self.ends.len()..] {
            self.text.push_str(&node.name);
            self.ends.push(u32::try_from(self.text.len()).expect("node names fit in 4 GiB"));
        }
    }

    #[inline]
    fn get(&self, node: podlab_cluster::NodeId) -> &str {
        let i = node.index();
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }
}

/// How many bytes of lines wait before they are hashed.
const HASH_BATCH_BYTES: usize = 16 << 10;

impl Default for EventLog {
    fn default() -> Self {
        EventLog {
            records: Records::new(),
            keep: true,
            hasher: blake3::Hasher::new(),
            lines: String::with_capacity(HASH_BATCH_BYTES + 256),
            requests: None,
            nodes: NodeNames::default(),
        }
    }
}

impl EventLog {
    /// A log that digests its records without keeping them (a run whose reports fold them as
    /// they are written).
    pub fn digest_only() -> EventLog {
        EventLog { keep: false, ..EventLog::default() }
    }

    pub fn append(&mut self, scenario: &Scenario, controllers: &[String], time: SimTime, record: Record) {
        if let Record::PodCreated { pod } = record {
            let spec = scenario.pods.spec(pod);
            if self.requests.as_ref().is_none_or(|(r, _)| *r != spec.requests) {
                self.requests = Some((spec.requests.clone(), spec.requests.to_string()));
            }
            let requests = &self.requests.as_ref().expect("just set").1;
            number(&mut self.lines, time.0);
            self.lines.push_str(" pod-created pod=");
            push_pod_key(&mut self.lines, scenario, pod);
            self.lines.push_str(" requests=");
            self.lines.push_str(requests);
        } else {
            self.nodes.sync(scenario);
            write_canonical(&mut self.lines, scenario, &self.nodes, controllers, time, &record);
        }
        self.lines.push('\n');
        if self.lines.len() >= HASH_BATCH_BYTES {
            self.hasher.update(self.lines.as_bytes());
            self.lines.clear();
        }
        if self.keep {
            self.records.push(Stamped { time, record });
        }
    }

    pub fn records(&self) -> &Records {
        &self.records
    }

    /// `blake3:` and the hex digest of every line so far.
    pub fn digest(&self) -> String {
        let mut hasher = self.hasher.clone();
        hasher.update(self.lines.as_bytes());
        format!("blake3:{}", hasher.finalize().to_hex())
    }

    pub fn into_records(self) -> Records {
        self.records
    }
}

/// `namespace/name`, or the name alone in `default` (as `Pod::key`), after `prefix`.
struct Key<'a> {
    namespace: &'a str,
    /// A generated pod's name is built when asked for (inline: no allocation).
    name: EcoString,
    prefix: &'static str,
}

impl std::fmt::Display for Key<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.prefix)?;
        if self.namespace != "default" {
            f.write_str(self.namespace)?;
            f.write_str("/")?;
        }
        f.write_str(&self.name)
    }
}

/// Appends `n` in decimal (`itoa`: two digits a step, and no UTF-8 check of the digits; every
/// line starts with a time of a dozen digits).
fn number(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends a pod's key as [`Key`] writes it.
fn push_key(out: &mut String, namespace: &str, name: &str) {
    if namespace != "default" {
        out.push_str(namespace);
        out.push('/');
    }
    out.push_str(name);
}

/// Appends pod `pod`'s key as [`Key`] writes it, its name spelled in place.
fn push_pod_key(out: &mut String, scenario: &Scenario, pod: podlab_cluster::PodId) {
    let namespace = &scenario.pods.spec(pod).namespace;
    if namespace != "default" {
        out.push_str(namespace);
        out.push('/');
    }
    scenario.pods.push_name(pod, out);
}

/// The canonical line of a record: `<time ns> <verb> key=value…`, names rather than ids.
/// `nodes` holds the scenario's node names.
fn write_canonical(
    out: &mut String,
    scenario: &Scenario,
    nodes: &NodeNames,
    controllers: &[String],
    time: SimTime,
    record: &Record,
) {
    // Names are written in place, never built: the log writes millions of lines.
    let pod_key = |p: podlab_cluster::PodId| Key {
        namespace: &scenario.pods.spec(p).namespace,
        name: scenario.pods.name(p),
        prefix: "",
    };
    // A job's key with its prefix: `pod/…` or `group/…`.
    let job_key = |j: &JobRef| match j {
        JobRef::Group(g) => {
            let group = &scenario.groups[g.index()];
            Key { namespace: &group.namespace, name: group.name.clone(), prefix: "group/" }
        }
        JobRef::Pod(p) => Key { prefix: "pod/", ..pod_key(*p) },
    };
    let node_name = |n: podlab_cluster::NodeId| nodes.get(n);
    let part_name = |p: podlab_cluster::PodId, part| scenario.pods.spec(p).part_name(part);
    // The kinds every pod writes, pushed piece by piece: the formatting machinery was most of
    // the log's cost. The same bytes as the `write!`s below would give.
    let placement = |out: &mut String, verb: &str, pod: podlab_cluster::PodId, part, node| {
        number(out, time.0);
        out.push_str(verb);
        push_pod_key(out, scenario, pod);
        out.push_str(" part=");
        out.push_str(part_name(pod, part));
        out.push_str(" node=");
        out.push_str(node_name(node));
    };
    // A job's key as its `Display` writes it, pushed piece by piece.
    let push_job = |out: &mut String, job: &JobRef| match job {
        JobRef::Pod(p) => {
            out.push_str("pod/");
            push_pod_key(out, scenario, *p);
        }
        JobRef::Group(g) => {
            let group = &scenario.groups[g.index()];
            out.push_str("group/");
            push_key(out, &group.namespace, &group.name);
        }
    };
    match record {
        Record::Bound { pod, part, node } => return placement(out, " bound pod=", *pod, *part, *node),
        Record::Ended { pod, part, node, phase } => {
            placement(out, " ended pod=", *pod, *part, *node);
            out.push_str(" phase=");
            out.push_str(phase.as_str());
            return;
        }
        Record::GroupCreated { group } => {
            number(out, time.0);
            out.push_str(" group-created group=");
            let group = &scenario.groups[group.index()];
            return push_key(out, &group.namespace, &group.name);
        }
        Record::Note { by, note: Note::Attempt { job, tasks, busy } } => {
            number(out, time.0);
            out.push_str(" attempt by=");
            out.push_str(controllers.get(by.index()).map_or("?", String::as_str));
            out.push_str(" job=");
            push_job(out, job);
            out.push_str(" tasks=");
            number(out, u64::from(*tasks));
            out.push_str(" busy_ns=");
            number(out, busy.as_nanos());
            return;
        }
        Record::Note { by, note: Note::AttemptDone { job, placed, conflicts } } => {
            number(out, time.0);
            out.push_str(" attempt-done by=");
            out.push_str(controllers.get(by.index()).map_or("?", String::as_str));
            out.push_str(" job=");
            push_job(out, job);
            out.push_str(" placed=");
            number(out, u64::from(*placed));
            out.push_str(" conflicts=");
            number(out, u64::from(*conflicts));
            return;
        }
        _ => {}
    }
    let _ = match record {
        Record::GroupCreated { .. } => unreachable!("written piece by piece above"),
        Record::NodeAdded { node } => {
            write!(
                out,
                "{} node-added node={} allocatable={}",
                time.0,
                node_name(*node),
                scenario.nodes[node.index()].allocatable
            )
        }
        Record::PodCreated { pod } => {
            write!(out, "{} pod-created pod={} requests={}", time.0, pod_key(*pod), scenario.pods.spec(*pod).requests)
        }
        Record::Bound { pod, part, node } => {
            write!(
                out,
                "{} bound pod={} part={} node={}",
                time.0,
                pod_key(*pod),
                part_name(*pod, *part),
                node_name(*node)
            )
        }
        Record::BindRefused { pod, part, node, reason } => write!(
            out,
            "{} bind-refused pod={} part={} node={} reason={reason}",
            time.0,
            pod_key(*pod),
            part_name(*pod, *part),
            node_name(*node)
        ),
        Record::Unschedulable { pod, part, message } => {
            write!(
                out,
                "{} unschedulable pod={} part={} message={message:?}",
                time.0,
                pod_key(*pod),
                part_name(*pod, *part)
            )
        }
        Record::Conflict { pod, part, node } => {
            write!(
                out,
                "{} conflict pod={} part={} node={}",
                time.0,
                pod_key(*pod),
                part_name(*pod, *part),
                node_name(*node)
            )
        }
        Record::Started { pod, part, node, pull } => write!(
            out,
            "{} started pod={} part={} node={} pull_ns={}",
            time.0,
            pod_key(*pod),
            part_name(*pod, *part),
            node_name(*node),
            pull.as_nanos()
        ),
        Record::Api { verb, latency } => write!(out, "{} api verb={verb} latency_ns={}", time.0, latency.as_nanos()),
        Record::NodeCrashed { node } => write!(out, "{} node-crashed node={}", time.0, node_name(*node)),
        Record::PodDeleted { pod } => write!(out, "{} pod-deleted pod={}", time.0, pod_key(*pod)),
        Record::Preempted { pod, node, victims } => {
            let victims: Vec<String> = victims.iter().map(|v| pod_key(*v).to_string()).collect();
            write!(
                out,
                "{} preempted pod={} node={} victims={}",
                time.0,
                pod_key(*pod),
                node_name(*node),
                victims.join(",")
            )
        }
        Record::Partitioned { node } => write!(out, "{} partitioned node={}", time.0, node_name(*node)),
        Record::Healed { node } => write!(out, "{} healed node={}", time.0, node_name(*node)),
        Record::EtcdLeaderLost { election } => {
            write!(out, "{} etcd-leader-lost election_ns={}", time.0, election.as_nanos())
        }
        Record::ApiServerBrownout { until, error_rate_permille } => {
            write!(out, "{} apiserver-brownout until_ns={} error_rate_permille={error_rate_permille}", time.0, until.0)
        }
        Record::NodeRecovered { node } => write!(out, "{} node-recovered node={}", time.0, node_name(*node)),
        Record::Tainted { node, key } => write!(out, "{} tainted node={} key={key}", time.0, node_name(*node)),
        Record::Untainted { node, key } => write!(out, "{} untainted node={} key={key}", time.0, node_name(*node)),
        Record::ApiFailed { verb, reason, retry_after } => {
            write!(out, "{} api-failed verb={verb} reason={reason} retry_after_ns={}", time.0, retry_after.as_nanos())
        }
        Record::ControllerCrashed { by } => {
            write!(out, "{} controller-crashed by={}", time.0, controllers.get(by.index()).map_or("?", String::as_str))
        }
        Record::ControllerRestarted { by } => {
            write!(
                out,
                "{} controller-restarted by={}",
                time.0,
                controllers.get(by.index()).map_or("?", String::as_str)
            )
        }
        Record::Relisted { by, objects, latency, missed } => write!(
            out,
            "{} relisted by={} objects={objects} latency_ns={} missed={missed}",
            time.0,
            controllers.get(by.index()).map_or("?", String::as_str),
            latency.as_nanos()
        ),
        Record::WatchLag { events, p50, p99, max } => write!(
            out,
            "{} watch-lag events={events} p50_ns={} p99_ns={} max_ns={}",
            time.0,
            p50.as_nanos(),
            p99.as_nanos(),
            max.as_nanos()
        ),
        Record::Note { by, note } => {
            let by = controllers.get(by.index()).map_or("?", String::as_str);
            let fw = |c: &podlab_cluster::ControllerId| controllers.get(c.index()).map_or("?", String::as_str);
            match note {
                Note::Attempt { .. } | Note::AttemptDone { .. } => unreachable!("written piece by piece above"),
                Note::Abandoned { job: j } => write!(out, "{} abandoned by={by} job={}", time.0, job_key(j)),
                Note::Reserved { pod, part, node } => write!(
                    out,
                    "{} reserved by={by} pod={} part={} node={}",
                    time.0,
                    pod_key(*pod),
                    part_name(*pod, *part),
                    node_name(*node)
                ),
                Note::Released { pod, part, node } => write!(
                    out,
                    "{} released by={by} pod={} part={} node={}",
                    time.0,
                    pod_key(*pod),
                    part_name(*pod, *part),
                    node_name(*node)
                ),
                Note::GroupTimedOut { group } => {
                    write!(out, "{} group-timed-out by={by} group={}", time.0, scenario.groups[group.index()].key())
                }
                Note::Offered { offer, framework, resources } => {
                    write!(
                        out,
                        "{} offered by={by} offer={offer} framework={} resources={resources}",
                        time.0,
                        fw(framework)
                    )
                }
                Note::OfferClosed { offer, launched } => {
                    write!(out, "{} offer-closed by={by} offer={offer} launched={launched}", time.0)
                }
                Note::Hoard { held, needs } => write!(out, "{} hoard by={by} held={held} needs={needs}", time.0),
                Note::NodeNotReady { node } => {
                    write!(out, "{} node-not-ready by={by} node={}", time.0, node_name(*node))
                }
                Note::NodeReady { node } => write!(out, "{} node-ready by={by} node={}", time.0, node_name(*node)),
                Note::Evicted { pod } => write!(out, "{} evicted by={by} pod={}", time.0, pod_key(*pod)),
                Note::RolloutStarted { deployment, revision, replicas, rollback_of } => {
                    let rollback = rollback_of.map_or(String::new(), |r| format!(" rollback-of={r}"));
                    write!(
                        out,
                        "{} rollout-started by={by} deployment={deployment} revision={revision} \
                         replicas={replicas}{rollback}",
                        time.0
                    )
                }
                Note::RolloutComplete { deployment, revision } => {
                    write!(out, "{} rollout-complete by={by} deployment={deployment} revision={revision}", time.0)
                }
                Note::ScaledReplicaSet { replica_set, replicas } => {
                    write!(out, "{} scaled by={by} replicaset={replica_set} replicas={replicas}", time.0)
                }
                Note::DeletedPod { pod } => write!(out, "{} deleted by={by} pod={}", time.0, pod_key(*pod)),
                Note::JobComplete { job } => write!(out, "{} job-complete by={by} job={job}", time.0),
                Note::JobFailed { job, reason } => {
                    write!(out, "{} job-failed by={by} job={job} reason={reason}", time.0)
                }
            }
        }
        Record::Ended { pod, part, node, phase } => write!(
            out,
            "{} ended pod={} part={} node={} phase={}",
            time.0,
            pod_key(*pod),
            part_name(*pod, *part),
            node_name(*node),
            phase.as_str()
        ),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_as_display_writes_them() {
        for n in [0, 7, 10, 99, 1_000_000_007, u64::MAX] {
            let mut out = String::new();
            number(&mut out, n);
            assert_eq!(out, n.to_string());
        }
    }
}
