//! Deployments and Jobs: the bundled workload scenarios keep their promises under every
//! policy in the ideal and the modelled control plane; rollouts stay within maxSurge and
//! maxUnavailable at every instant; Jobs count, back off and fail as Kubernetes does; bad
//! workload input is refused with a position.

mod common;

use common::run_checked;
use podlab::cluster::Record;
use podlab::cluster::event::Note;
use podlab::cluster::scenario::Scenario;

const WORKLOAD_SCENARIOS: [&str; 4] = [
    "scenarios/rolling-update.yaml",
    "scenarios/rollback.yaml",
    "scenarios/job-parallel.yaml",
    "scenarios/job-backoff.yaml",
];

fn text_of(file: &str) -> String {
    std::fs::read_to_string(common::root().join(file)).unwrap()
}

/// The scenario with `spec.controlPlane: {}` added: the modelled control plane's defaults.
fn modelled(file: &str) -> Scenario {
    let text = text_of(file).replacen("\nspec:\n  seed:", "\nspec:\n  controlPlane: {}\n  seed:", 1);
    assert!(text.contains("controlPlane: {}"), "{file}: the Simulation spec starts with `seed:`");
    podlab::load_str(file, &text).unwrap_or_else(|e| panic!("{e}"))
}

fn ideal(file: &str) -> Scenario {
    podlab::load_str(file, &text_of(file)).unwrap_or_else(|e| panic!("{e}"))
}

/// Every expectation of the four workload scenarios holds under all six policies, in the
/// ideal control plane and with the modelled one (latencies, watch delays, image pulls), with
/// the invariants checked after every record.
#[test]
fn workload_scenarios_hold_under_every_policy_and_both_control_planes() {
    for file in WORKLOAD_SCENARIOS {
        for (plane, scenario) in [("ideal", ideal(file)), ("modelled", modelled(file))] {
            assert_eq!(scenario.policies.len(), 6, "{file} runs under every policy");
            for policy in &scenario.policies {
                let run = run_checked(&scenario, policy, scenario.seed);
                assert!(!run.verdicts.is_empty(), "{file} ({plane}) under {policy}: nothing checked");
                for v in &run.verdicts {
                    assert!(v.holds(), "{file} ({plane}) under {policy}: {:?}", v.failures);
                }
            }
        }
    }
}

/// The rollout notes tell the story in order: revision 1 created, revision 2 started and
/// completed, with ReplicaSet scaling steps between; the new pods are named
/// `<deployment>-<hash>-<suffix>` and the summary measures the update.
#[test]
fn a_rolling_update_is_logged_and_measured() {
    for scenario in [ideal("scenarios/rolling-update.yaml"), modelled("scenarios/rolling-update.yaml")] {
        let run = run_checked(&scenario, "kubernetes", scenario.seed);
        let notes: Vec<Note> = run
            .sim
            .records
            .iter()
            .filter_map(|s| match s.record {
                Record::Note { note, .. } => Some(note),
                _ => None,
            })
            .collect();
        let rollouts: Vec<(u32, bool)> = notes
            .iter()
            .filter_map(|n| match n {
                Note::RolloutStarted { revision, .. } => Some((*revision, true)),
                Note::RolloutComplete { revision, .. } => Some((*revision, false)),
                _ => None,
            })
            .collect();
        assert_eq!(rollouts, [(1, true), (1, false), (2, true), (2, false)]);
        let steps = notes.iter().filter(|n| matches!(n, Note::ScaledReplicaSet { .. })).count();
        assert!(steps >= 4, "a 4-replica update by steps of one takes several scalings: {steps}");
        let final_scenario = &*run.scenario;
        let new_pods: Vec<String> = final_scenario
            .pods
            .iter()
            .filter(|p| p.containers[0].image == "web:v2")
            .map(|p| p.name.to_string())
            .collect();
        assert_eq!(new_pods.len(), 4, "the update replaced the four pods exactly");
        for name in new_pods {
            let parts: Vec<&str> = name.split('-').collect();
            assert_eq!((parts.len(), parts[0], parts[2].len()), (3, "web", 5), "{name}");
        }
        let w = &run.summary.workloads;
        assert_eq!((w.rollouts, w.rollouts_completed), (1, 1));
        assert_eq!(w.min_available_during_rollout, Some(3));
        assert_eq!(w.max_surge_observed, Some(1));
        assert!(w.rollout_duration.max_ns.is_some_and(|d| d > 0));
        if scenario.control_plane.is_some() {
            // The new image is pulled on each node the first time one of its pods lands there.
            let pulled = run.sim.records.iter().any(|s| {
                matches!(&s.record, Record::Started { pod, pull, .. }
                    if final_scenario.pods.spec(*pod).containers[0].image == "web:v2" && pull.as_nanos() > 0)
            });
            assert!(pulled, "web:v2 was never pulled");
        }
    }
}

/// Recreate deletes every old pod before creating a new one: never two revisions at once.
#[test]
fn recreate_never_runs_two_revisions_together() {
    let text = text_of("scenarios/rolling-update.yaml")
        .replace(
            "    type: RollingUpdate\n    rollingUpdate: {maxSurge: 1, maxUnavailable: 1}\n",
            "    type: Recreate\n",
        )
        .replace("minAvailable: 3, maxPods: 5", "maxPods: 4");
    let scenario = podlab::load_str("recreate.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
    for policy in ["kubernetes", "omega"] {
        let run = run_checked(&scenario, policy, 5);
        assert!(run.verdicts.iter().all(|v| v.holds()), "{policy}: {:?}", run.verdicts);
        // Pods bound and not ended, per image, after every record.
        let (mut v1, mut v2) = (0i64, 0i64);
        for r in &run.sim.records {
            let (pod, delta) = match &r.record {
                Record::Bound { pod, .. } => (pod, 1),
                Record::Ended { pod, .. } => (pod, -1),
                _ => continue,
            };
            match run.scenario.pods.spec(*pod).containers[0].image.as_str() {
                "web:v1" => v1 += delta,
                _ => v2 += delta,
            }
            assert!(v1 == 0 || v2 == 0, "{policy} at {}: {v1} v1 pods and {v2} v2 pods", r.time);
        }
        assert_eq!(run.summary.workloads.max_surge_observed, Some(0));
    }
}

/// The failure backoff: the failing Job's pods are created 10 s, 20 s and 40 s after each
/// failure (ideal control plane: exactly), and the Job fails at the fourth failure.
#[test]
fn job_failures_back_off_and_exceed_the_limit() {
    let scenario = ideal("scenarios/job-backoff.yaml");
    let run = run_checked(&scenario, "kubernetes", scenario.seed);
    let s = &*run.scenario;
    let of_migrate = |p: &podlab::cluster::PodId| s.pods.get(*p).name.starts_with("migrate-");
    let created: Vec<u64> = run
        .sim
        .records
        .iter()
        .filter_map(|r| match &r.record {
            Record::PodCreated { pod } if of_migrate(pod) => Some(r.time.as_nanos() / 1_000_000),
            _ => None,
        })
        .collect();
    // Pod k is bound 1 ms after its creation (kube-scheduler's decision time here), fails 5 s
    // later; the next is created after 10, 20, 40 s.
    assert_eq!(created, [0, 15_001, 40_002, 85_003], "creation times in ms");
    let failed_at = run.sim.records.iter().find_map(|r| match &r.record {
        Record::Note { note: Note::JobFailed { job, reason }, .. } if job == "migrate" => Some((r.time, *reason)),
        _ => None,
    });
    assert_eq!(failed_at.map(|(t, why)| (t.as_nanos() / 1_000_000, why)), Some((90_004, "BackoffLimitExceeded")));
    assert_eq!(run.summary.workloads.jobs_failed, 1);
    assert_eq!(run.summary.workloads.job_failed_pods, 4 + created_failures(&run, "seed-data"));
}

fn created_failures(run: &podlab::PolicyRun, job: &str) -> u64 {
    podlab::reports::workloads::job_story(&run.scenario, &run.sim.records, job, run.sim.end).failed.into()
}

/// A Job failing while a pod runs deletes it; `activeDeadlineSeconds` fails a Job that runs
/// too long, and its running pod ends.
#[test]
fn a_deadline_fails_the_job_and_deletes_its_pods() {
    let text = text_of("scenarios/job-parallel.yaml")
        .replace("  parallelism: 2\n", "  parallelism: 2\n  activeDeadlineSeconds: 45\n");
    let text = text.split("  expect:").next().unwrap().to_string()
        + "  expect:\n  - why: the deadline\n    jobs:\n      render: {status: Failed, reason: DeadlineExceeded, succeeded: 2}\n";
    let scenario = podlab::load_str("deadline.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
    for policy in ["kubernetes", "mesos"] {
        let run = run_checked(&scenario, policy, 11);
        assert!(run.verdicts.iter().all(|v| v.holds()), "{policy}: {:?}", run.verdicts);
        assert_eq!(run.summary.pods.running, 0, "{policy}: the Job's pods were deleted");
        let deleted =
            run.sim.records.iter().filter(|r| matches!(r.record, Record::Note { note: Note::DeletedPod { .. }, .. }));
        assert_eq!(deleted.count(), 2, "{policy}: the two active pods at 45 s");
        assert_eq!(run.summary.workloads.jobs_completed, 0);
    }
}

/// A Deployment scaled down while its new pods cannot be placed deletes the pending ones
/// (never bound: `pod-deleted`), and no scheduler binds them afterwards.
#[test]
fn scaling_down_deletes_pending_pods_first() {
    let text = text_of("scenarios/rollback.yaml").replace(
        "  - {at: 5m, scale: {deployment: api, replicas: 5}}\n",
        "  - {at: 4m, scale: {deployment: api, replicas: 40}}\n  - {at: 5m, scale: {deployment: api, replicas: 2}}\n",
    );
    let text = text.split("  expect:").next().unwrap().to_string()
        + "  expect:\n  - why: two left\n    deployments:\n      api: {available: 2}\n";
    let scenario = podlab::load_str("scale.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
    for policy in ["kubernetes", "per-container", "gang", "mesos", "omega", "monolithic"] {
        let run = run_checked(&scenario, policy, 3);
        assert!(run.verdicts.iter().all(|v| v.holds()), "{policy}: {:?}", run.verdicts);
        assert!(run.summary.pods.deleted > 0, "{policy}: 40 replicas of 500m on 8 CPUs leave pods pending");
        assert_eq!(run.summary.pods.pending, 0, "{policy}: every pending pod was deleted");
    }
}

/// Bad workload input is refused with file, line and column.
#[test]
fn bad_workload_input_is_positioned() {
    let base = text_of("scenarios/rollback.yaml");
    let cases = [
        (
            base.replace("deployment: api, container: server", "deployment: apx, container: server"),
            "no Deployment named `apx`",
        ),
        (base.replace("container: server, image", "container: sidecar, image"), "has no container `sidecar`"),
        (
            base.replace(
                "rolloutUndo: {deployment: api}",
                "rolloutUndo: {deployment: api}, scale: {deployment: api, replicas: 1}",
            ),
            "exactly one thing",
        ),
        (
            base.replace(
                "  replicas: 3\n  template:",
                "  replicas: 3\n  strategy: {rollingUpdate: {maxSurge: 0, maxUnavailable: 0%}}\n  template:",
            ),
            "both zero",
        ),
        (
            base.replace(
                "  replicas: 3\n  template:",
                "  replicas: 3\n  strategy: {rollingUpdate: {maxSurge: 120%}}\n  template:",
            ),
            "neither a count",
        ),
        (
            text_of("scenarios/job-backoff.yaml").replace(
                "restartPolicy: Never\n      containers:\n      - name: migrate",
                "restartPolicy: Always\n      containers:\n      - name: migrate",
            ),
            "restartPolicy `Always`",
        ),
        (
            text_of("scenarios/job-backoff.yaml")
                .replace("failure-probability: \"0.5\"", "failure-probability: \"1.5\""),
            "not a probability",
        ),
        (
            base.replace("rolloutUndo: {deployment: api}", "rolloutUndo: {deployment: api, toRevision: 0}"),
            "toRevision 0 is out of range",
        ),
    ];
    for (text, message) in cases {
        let err =
            podlab::load_str("bad.yaml", &text).err().unwrap_or_else(|| panic!("accepted: {message}")).to_string();
        assert!(err.contains(message), "{err}");
        assert!(err.contains("bad.yaml:"), "positioned: {err}");
        assert!(err.contains('^'), "a caret: {err}");
    }
}

/// `minReadySeconds`: a new pod counts as available only 30 s after it runs, so the update
/// waits that long between its two waves (maxSurge 1 + maxUnavailable 1: two pods a wave),
/// and still never drops below 3 available.
#[test]
fn min_ready_seconds_paces_the_rollout() {
    let fast = ideal("scenarios/rolling-update.yaml");
    let text =
        text_of("scenarios/rolling-update.yaml").replace("  replicas: 4\n", "  replicas: 4\n  minReadySeconds: 30\n");
    let slow = podlab::load_str("min-ready.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
    let took = |s: &Scenario| {
        let run = run_checked(s, "kubernetes", 5);
        assert!(run.verdicts.iter().all(|v| v.holds()), "{:?}", run.verdicts);
        run.summary.workloads.rollout_duration.max_ns.expect("the update completed")
    };
    let (fast, slow) = (took(&fast), took(&slow));
    assert!(fast < 1_000_000_000, "without minReadySeconds the ideal rollout takes milliseconds: {fast} ns");
    assert!((60_000_000_000..61_000_000_000).contains(&slow), "two waves of 30 s: {slow} ns");
}

/// `rollout undo` goes back to revision 1's template: the same ReplicaSet (owner) is scaled
/// back up as revision 3, noted as a rollback of revision 1; v2's ReplicaSet ends at zero.
#[test]
fn rollout_undo_scales_the_previous_replicaset_back_up() {
    for scenario in [ideal("scenarios/rollback.yaml"), modelled("scenarios/rollback.yaml")] {
        let run = run_checked(&scenario, "kubernetes", scenario.seed);
        let started: Vec<(u32, Option<u32>)> = run
            .sim
            .records
            .iter()
            .filter_map(|s| match &s.record {
                Record::Note { note: Note::RolloutStarted { revision, rollback_of, .. }, .. } => {
                    Some((*revision, *rollback_of))
                }
                _ => None,
            })
            .collect();
        assert_eq!(started, [(1, None), (2, None), (3, Some(1))]);
        let owners = |image: &str| -> std::collections::BTreeSet<String> {
            run.scenario
                .pods
                .iter()
                .filter(|p| p.containers[0].image == image)
                .filter_map(|p| p.owner.clone())
                .collect()
        };
        assert_eq!(owners("api:v1").len(), 1, "v1's pods, before and after the undo, share one ReplicaSet");
        let last_size = |rs: &str| {
            run.sim
                .records
                .iter()
                .filter_map(|s| match s.record {
                    Record::Note { note: Note::ScaledReplicaSet { replica_set, replicas }, .. }
                        if replica_set == rs =>
                    {
                        Some(replicas)
                    }
                    _ => None,
                })
                .last()
        };
        let v2 = owners("api:v2").into_iter().next().expect("v2 ran");
        assert_eq!(last_size(&v2), Some(0));
        assert_eq!(last_size(&owners("api:v1").into_iter().next().unwrap()), Some(5));
    }
}

/// Six completions two at a time, each 30 s: complete three waves later (ideal control plane;
/// kube-scheduler binds one pod per 1 ms decision, so the last of each pair starts 2 ms after
/// its wave began and the last pod ends at 90 s + 4 ms), and the summary says so.
#[test]
fn a_parallel_job_completes_in_three_waves() {
    let scenario = ideal("scenarios/job-parallel.yaml");
    let run = run_checked(&scenario, "kubernetes", scenario.seed);
    let w = &run.summary.workloads;
    assert_eq!((w.jobs_completed, w.jobs_failed, w.job_failed_pods), (1, 0, 0));
    assert_eq!(w.job_completion_time.max_ns, Some(90_004_000_000));
    assert_eq!(run.summary.pods.succeeded, 6);
}

/// Rollouts and scaling are not replacements: a Deployment that only rolls out and scales
/// loses and recreates nothing in the control-plane metrics.
#[test]
fn rollouts_are_not_counted_as_lost_or_recreated_pods() {
    for scenario in [ideal("scenarios/rollback.yaml"), modelled("scenarios/rollback.yaml")] {
        let run = run_checked(&scenario, "kubernetes", scenario.seed);
        let c = &run.summary.control_plane;
        assert_eq!((c.pods_lost, c.pods_recreated, c.replica_restore.count), (0, 0, 0));
        assert!(run.summary.pods.failed > 0, "old pods were deleted (ended Failed)");
    }
}

/// The failure annotations on bare pods: `fail-after` before `run-for` fails the pod then,
/// after it succeeds at `run-for`; `failure-probability` 1 always fails, 0 never, and 0.5 fails
/// some of 40 runs, the same ones for the same seed.
#[test]
fn failure_annotations_end_pods_failed() {
    let pod = |name: &str, annotations: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, annotations: {{{annotations}}}}}\nspec:\n  containers:\n  - {{name: c, resources: {{requests: {{cpu: 10m}}}}}}\n"
        )
    };
    let mut docs = vec![
        "apiVersion: v1\nkind: Node\nmetadata: {name: n}\nstatus: {allocatable: {cpu: \"4\", memory: 8Gi}}\n"
            .to_string(),
        pod("early", "podlab.dev/run-for: 1m, podlab.dev/fail-after: 10s"),
        pod("late", "podlab.dev/run-for: 10s, podlab.dev/fail-after: 1m"),
        pod("always", "podlab.dev/run-for: 10s, podlab.dev/failure-probability: \"1\""),
        pod("never", "podlab.dev/run-for: 10s, podlab.dev/failure-probability: \"0\""),
    ];
    for i in 0..40 {
        docs.push(pod(&format!("coin-{i}"), "podlab.dev/run-for: 10s, podlab.dev/failure-probability: \"0.5\""));
    }
    let scenario = common::load(&docs);
    let run = run_checked(&scenario, "kubernetes", 7);
    let end = |name: &str| {
        let id = run.scenario.pod_named(name).unwrap();
        run.sim.records.iter().find_map(|s| match &s.record {
            Record::Ended { pod, phase, .. } if *pod == id => Some((s.time.as_nanos() / 1_000_000_000, *phase)),
            _ => None,
        })
    };
    use podlab::cluster::Phase::{Failed, Succeeded};
    assert_eq!(end("early"), Some((10, Failed)));
    assert_eq!(end("late"), Some((10, Succeeded)));
    assert_eq!(end("always").map(|e| e.1), Some(Failed));
    assert_eq!(end("never").map(|e| e.1), Some(Succeeded));
    let coins: Vec<bool> = (0..40).map(|i| end(&format!("coin-{i}")).unwrap().1 == Failed).collect();
    let failed = coins.iter().filter(|f| **f).count();
    assert!((8..=32).contains(&failed), "0.5 of 40: {failed}");
    let again = run_checked(&scenario, "kubernetes", 7);
    assert_eq!(again.sim.digest, run.sim.digest);
}

/// A Deployment whose pods end by themselves is replaced forever: without a duration the run
/// would never end, so the loader refuses it, pointing at the Deployment.
#[test]
fn endless_replacement_needs_a_duration() {
    let text = text_of("scenarios/rollback.yaml").replace("  duration: 7m\n", "").replace(
        "    metadata: {labels: {app: api}}\n",
        "    metadata: {labels: {app: api}, annotations: {podlab.dev/run-for: 1m}}\n",
    );
    let err = podlab::load_str("endless.yaml", &text).expect_err("refused").to_string();
    assert!(err.contains("Deployment `api` replaces every pod that ends"), "{err}");
    assert!(err.contains("endless.yaml:18:"), "at the Deployment's name: {err}");
}

/// A Job created later by `spec.timeline` (`Job/<name>`) starts then: its first pod, its
/// deadline and its completion time all count from its creation.
#[test]
fn a_job_created_later_starts_then() {
    let text = text_of("scenarios/job-parallel.yaml")
        .replace("  policies: [", "  timeline:\n  - {at: 2m, create: [Job/render]}\n  policies: [")
        .replace("  - at: 45s\n", "  - at: 2m45s\n");
    let scenario = podlab::load_str("later.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
    let run = run_checked(&scenario, "kubernetes", 11);
    assert!(run.verdicts.iter().all(|v| v.holds()), "{:?}", run.verdicts);
    let first = run.sim.records.iter().find(|s| matches!(s.record, Record::PodCreated { .. })).unwrap();
    assert_eq!(first.time.as_nanos(), 120_000_000_000);
    assert_eq!(run.summary.workloads.job_completion_time.max_ns, Some(90_004_000_000));
    let bad = text.replace("create: [Job/render]", "create: [Job/paint]");
    let err = podlab::load_str("later.yaml", &bad).expect_err("no such Job").to_string();
    assert!(err.contains("`Job/paint` is not in this scenario"), "{err}");
}

/// Scaling in the middle of a rolling update is proportional, as Kubernetes does it: with
/// 4 replicas (surge 1) at 1 new + 4 old pods, `scale --replicas=8` makes the allowed 9 pods
/// 7 old (4 × 9/5 rounded) and 2 new; the rollout then goes on to 8 new pods.
#[test]
fn scaling_during_a_rollout_is_proportional() {
    let text = text_of("scenarios/rolling-update.yaml")
        .replace("  replicas: 4\n", "  replicas: 4\n  minReadySeconds: 30\n")
        .replace("{maxSurge: 1, maxUnavailable: 1}", "{maxSurge: 1, maxUnavailable: 0}")
        .replace(
            "  - {at: 2m, setImage: {deployment: web, container: app, image: \"web:v2\"}}\n",
            "  - {at: 2m, setImage: {deployment: web, container: app, image: \"web:v2\"}}\n  - {at: 2m10s, scale: {deployment: web, replicas: 8}}\n",
        )
        .replace("  duration: 5m\n", "  duration: 20m\n");
    let text = text.split("  expect:").next().unwrap().to_string()
        + "  expect:\n  - why: scaled and rolled out\n    deployments:\n      web: {available: 8, revision: 2, image: \"web:v2\", minAvailable: 4, maxPods: 9}\n";
    let scenario = podlab::load_str("proportional.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
    let run = run_checked(&scenario, "kubernetes", 5);
    assert!(run.verdicts.iter().all(|v| v.holds()), "{:?}", run.verdicts);
    let s = &*run.scenario;
    let at = |t_ns: u64, image: &str| {
        let mut n = 0i64;
        for r in run.sim.records.iter().take_while(|r| r.time.as_nanos() <= t_ns) {
            match &r.record {
                Record::PodCreated { pod } if s.pods.spec(*pod).containers[0].image == image => n += 1,
                Record::Ended { pod, .. } | Record::PodDeleted { pod }
                    if s.pods.spec(*pod).containers[0].image == image =>
                {
                    n -= 1
                }
                _ => {}
            }
        }
        n
    };
    let after_scale = 130_000_000_000 + 1_000_000_000;
    assert_eq!((at(after_scale, "web:v1"), at(after_scale, "web:v2")), (7, 2));
}

/// An Indexed Job: pods `<job>-<index>-<suffix>` labelled with their completion index; a
/// failed index is run again (a new pod, same index) until each of 0…5 has succeeded once.
#[test]
fn an_indexed_job_completes_every_index_once() {
    let text = text_of("scenarios/job-parallel.yaml")
        .replace("  parallelism: 2\n", "  parallelism: 2\n  completionMode: Indexed\n  backoffLimit: 20\n")
        .replace("{podlab.dev/run-for: 30s}", "{podlab.dev/run-for: 30s, podlab.dev/failure-probability: \"0.3\"}");
    let text = text.split("  expect:").next().unwrap().to_string()
        + "  expect:\n  - why: every index\n    jobs:\n      render: {status: Complete, succeeded: 6, maxActive: 2}\n";
    let scenario = podlab::load_str("indexed.yaml", &text).unwrap_or_else(|e| panic!("{e}"));
    for policy in ["kubernetes", "omega"] {
        let run = run_checked(&scenario, policy, 11);
        assert!(run.verdicts.iter().all(|v| v.holds()), "{policy}: {:?}", run.verdicts);
        let s = &*run.scenario;
        let mut succeeded = std::collections::BTreeMap::new();
        for r in &run.sim.records {
            if let Record::Ended { pod, phase, .. } = &r.record {
                let p = &s.pods.get(*pod);
                let index: u32 = p.labels["batch.kubernetes.io/job-completion-index"].parse().unwrap();
                assert!(p.name.starts_with(&format!("render-{index}-")), "{}", p.name);
                if *phase == podlab::cluster::Phase::Succeeded {
                    *succeeded.entry(index).or_insert(0) += 1;
                }
            }
        }
        assert_eq!(succeeded, (0..6).map(|i| (i, 1)).collect(), "{policy}");
        assert!(run.summary.workloads.job_failed_pods > 0, "{policy}: some run failed (0.3 of at least 6)");
    }
    let unset = text.replace("  completions: 6\n", "");
    let err = podlab::load_str("indexed.yaml", &unset).expect_err("needs completions").to_string();
    assert!(err.contains("an Indexed Job needs `completions`"), "{err}");
}

/// Generated pods are copies of one template: a generator's pods share one spec (memory per
/// pod is then the per-pod part), while each keeps its own name, gang and run time.
#[test]
fn generated_pods_share_their_template_spec() {
    let text = "apiVersion: podlab.dev/v1alpha1
kind: Simulation
metadata: {name: shared-specs}
spec:
  seed: 1
  policies: [kubernetes]
  nodePools: [{name: node, count: 2, cpu: \"8\", memory: 16Gi}]
  workload:
    generators:
    - name: web
      count: 20
      interArrival: {distribution: exponential, mean: 1s}
      tasks: {distribution: constant, value: \"2\"}
      runFor: {distribution: exponential, mean: 10s}
      cpu: 100m
      memory: 64Mi
";
    let base = podlab::load_str("t.yaml", text).unwrap_or_else(|e| panic!("{e}"));
    let s = podlab::scenario::instantiate(&base, 1).unwrap();
    assert_eq!(s.pods.len(), 40);
    let first = &s.pods.get(podlab::cluster::PodId(0)).spec;
    assert!(s.pods.iter().all(|p| std::sync::Arc::ptr_eq(&p.spec, first)), "one spec for the generator");
    let names: std::collections::BTreeSet<_> = s.pods.iter().map(|p| p.name.clone()).collect();
    assert_eq!(names.len(), s.pods.len(), "every pod named apart");
    assert!(
        s.pods.iter().any(|p| p.run_for() != s.pods.get(podlab::cluster::PodId(0)).run_for()),
        "run times stay per pod"
    );
}
