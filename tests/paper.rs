//! The Omega paper's model, checked exactly: the two checks of the original simulator's own
//! test suite, and the architectures' defining behaviours.

mod common;

use podlab::cluster::{Note, Record};

use common::{bundled, run_checked};

fn scenario(spec: &str) -> podlab::cluster::scenario::Scenario {
    let text = format!("apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {{name: paper}}\nspec:\n{spec}");
    podlab::load_str("paper.yaml", &text).unwrap_or_else(|e| panic!("{e}"))
}

fn jobs(count: u32, tasks: impl Fn(u32) -> u32) -> String {
    (1..=count)
        .map(|i| {
            format!("    - {{name: job-{i}, at: {i}s, tasks: {}, cpu: \"1\", memory: 1Gi, runFor: {i}s}}\n", tasks(i))
        })
        .collect()
}

/// Exact check 1: one Omega scheduler with t_job = t_task = 1 s on 1,000 one-CPU machines; job
/// i arrives at i s with one task lasting i s. Each decision takes 2 s, so the queue backs up:
/// job 40 commits at 81 s and its task ends at 121 s, the last event of the run.
#[test]
fn omega_exact_check() {
    let s = scenario(&format!(
        "  nodePools: [{{name: m, count: 1000, cpu: \"1\", memory: 1Gi}}]\n  omega:\n    schedulers: [{{name: only, tJob: 1s, tTask: 1s}}]\n  workload:\n    jobs:\n{}",
        jobs(40, |_| 1)
    ));
    let run = run_checked(&s, "omega", 1);
    assert_eq!(run.summary.pods.succeeded, 40);
    let last = run.sim.records.iter().last().unwrap();
    assert_eq!(last.time.as_nanos(), 121_000_000_000, "{:?}", last.record);
    let job40 = s.pod_named("job-40").unwrap();
    let bound_at =
        run.sim.records.iter().find(|r| matches!(r.record, Record::Bound { pod, .. } if pod == job40)).unwrap().time;
    assert_eq!(bound_at.as_nanos(), 81_000_000_000);
}

/// Exact check 2: monolithic, one machine of 10 CPUs; t_job = t_task = 1 s; job i arrives at
/// i s with i tasks. The waits to first attempt are 0, 1, 3 and 6 s: mean 2.5 s.
#[test]
fn monolithic_exact_check() {
    let s = scenario(&format!(
        "  nodePools: [{{name: m, count: 1, cpu: \"10\", memory: 20Gi}}]\n  monolithic: {{batch: {{tJob: 1s, tTask: 1s}}}}\n  workload:\n    jobs:\n{}",
        jobs(4, |i| i)
    ));
    let run = run_checked(&s, "monolithic", 1);
    let starts: Vec<u64> = run
        .sim
        .records
        .iter()
        .filter(|r| matches!(r.record, Record::Note { note: Note::Attempt { .. }, .. }))
        .map(|r| r.time.as_nanos() / 1_000_000_000)
        .collect();
    assert_eq!(starts, [1, 3, 6, 10]);
    let waits: Vec<u64> = starts.iter().zip(1..).map(|(s, i)| s - i).collect();
    assert_eq!(waits, [0, 1, 3, 6]);
    assert_eq!(run.summary.pods.succeeded, 10);
}

/// The hoarding lesson's deadlock is detected from the wait-for graph: it forms when both
/// frameworks hold a node (after their first decision) and breaks when alpha's hoard times out.
#[test]
fn hoarding_deadlock_is_detected_and_measured() {
    let s = bundled("mesos-deadlock.yaml");
    let run = run_checked(&s, "mesos", s.seed);
    let d = &run.summary.scheduling.deadlocks;
    assert_eq!(d.count, 1, "{d:?}");
    assert_eq!(d.episodes[0].frameworks, ["mesos-alpha", "mesos-beta"]);
    assert_eq!((d.episodes[0].formed_ns, d.episodes[0].ended_ns), (115_000_000, 60_000_000_000));
    assert!(run.summary.scheduling.hoarded.cpu_core_seconds > 200.0);
}

/// The Omega race: the losing scheduler's attempt conflicts once and its retry succeeds, so its
/// conflict fraction is 1 and half its busy time is wasted.
#[test]
fn omega_race_counts_the_conflict() {
    let s = bundled("omega-race.yaml");
    let run = run_checked(&s, "omega", s.seed);
    let blue = &run.summary.scheduling.schedulers["omega-blue"];
    assert_eq!((blue.attempts, blue.conflicted_attempts, blue.retries), (2, 1, 1));
    assert_eq!(blue.conflict_fraction, 1.0);
    assert_eq!((blue.useful_ns, blue.wasted_ns), (1_000_000_000, 1_000_000_000));
    let red = &run.summary.scheduling.schedulers["omega-red"];
    assert_eq!((red.attempts, red.conflicted_attempts), (1, 0));
}

/// Gang members waiting at Permit hold resources without running: the gang lesson measures it.
#[test]
fn gang_reservations_are_measured() {
    let s = bundled("gang-timeout.yaml");
    let gang = run_checked(&s, "gang", s.seed);
    // Nine 1-CPU members wait about 30 s, twice, and the second batch about 29 s more.
    let held = gang.summary.scheduling.reserved_at_permit.cpu_core_seconds;
    assert!((700.0..820.0).contains(&held), "{held}");
    assert_eq!(run_checked(&s, "kubernetes", s.seed).summary.scheduling.reserved_at_permit.cpu_core_seconds, 0.0);
}

/// The paper's experiment scenario, with parameters set as `--set` would.
fn paper_run(policy: &str, settings: &[(&str, &str)]) -> podlab::PolicyRun {
    let mut s = bundled("paper/omega-paper.yaml");
    for (k, v) in settings {
        podlab::scenario::params::set(&mut s, k, v).unwrap();
    }
    run_checked(&s, policy, s.seed)
}

fn service_t_job(t: &'static str) -> [(&'static str, &'static str); 3] {
    [("omega.service.tJob", t), ("mesos.service.tJob", t), ("monolithic.service.tJob", t)]
}

/// The paper's finding on the service scheduler's decision time (its Figures 5-7): as t_job
/// grows from 0.1 s to 100 s, the monolithic scheduler makes batch jobs wait behind service
/// decisions (head-of-line blocking), Mesos's service framework locks the cell in offers and
/// starves batch, while Omega's batch scheduler goes on unhindered.
#[test]
fn slow_service_decisions_hurt_monolithic_and_mesos_not_omega() {
    let wait = |r: &podlab::PolicyRun| r.summary.scheduling.jobs.wait_to_fully_scheduled.p90_ns.unwrap();
    let scheduled = |r: &podlab::PolicyRun| r.summary.pods.scheduled as f64 / r.summary.pods.total as f64;
    let fast = service_t_job("100ms");
    let slow = service_t_job("100s");

    let (mono_fast, mono_slow) = (paper_run("monolithic", &fast), paper_run("monolithic", &slow));
    assert!(
        wait(&mono_slow) > 100 * wait(&mono_fast),
        "monolithic p90 wait {} → {}",
        wait(&mono_fast),
        wait(&mono_slow)
    );

    let (mesos_fast, mesos_slow) = (paper_run("mesos", &fast), paper_run("mesos", &slow));
    let locked = |r: &podlab::PolicyRun| r.summary.scheduling.locked_in_offers.cpu_core_seconds;
    assert!(
        locked(&mesos_slow) > 5.0 * locked(&mesos_fast),
        "locked {} → {}",
        locked(&mesos_fast),
        locked(&mesos_slow)
    );
    assert!(scheduled(&mesos_slow) < 0.8 * scheduled(&mesos_fast));

    let omega_slow = paper_run("omega", &slow);
    assert!(scheduled(&omega_slow) > 0.98, "{}", scheduled(&omega_slow));
    assert!(wait(&omega_slow) < 2_000_000_000, "omega p90 wait {}", wait(&omega_slow));
    assert!(scheduled(&omega_slow) > scheduled(&mono_slow) && scheduled(&omega_slow) > scheduled(&mesos_slow));
}

/// Omega's conflicts: longer service decisions mean more conflicts; all-or-nothing (gang)
/// transactions and coarse-grained (sequence-number) detection each multiply them.
#[test]
fn omega_conflict_modes_rank_as_in_the_paper() {
    let conflicts = |settings: &[(&str, &str)]| {
        let run = paper_run("omega", settings);
        let s = &run.summary.scheduling.schedulers;
        let bad: u64 = s.values().map(|m| m.conflicted_attempts).sum();
        let good: u64 = s.values().map(|m| m.attempts - m.conflicted_attempts).sum();
        bad as f64 / good as f64
    };
    let fast = conflicts(&[("omega.service.tJob", "100ms")]);
    let base = conflicts(&[("omega.service.tJob", "10s")]);
    let gang = conflicts(&[("omega.service.tJob", "10s"), ("omega.transactions", "all-or-nothing")]);
    let coarse = conflicts(&[("omega.service.tJob", "10s"), ("omega.conflictDetection", "coarse")]);
    assert!(fast < base, "t_job: {fast} → {base}");
    assert!(gang > 1.5 * base, "all-or-nothing {gang} vs incremental {base}");
    assert!(coarse > 1.5 * base, "coarse {coarse} vs fine {base}");
}

/// When each named pod's job was attempted (the start of each attempt, in ms) and when the
/// pod was bound (ms).
fn attempts_and_bindings(
    s: &podlab::cluster::scenario::Scenario,
    run: &podlab::PolicyRun,
    pod: &str,
) -> (Vec<u64>, Option<u64>) {
    let id = s.pod_named(pod).unwrap();
    let ms = |r: &podlab::cluster::Stamped| r.time.as_nanos() / 1_000_000;
    let attempts = (run.sim.records.iter())
        .filter(|r| {
            matches!(r.record, Record::Note { note: Note::Attempt { job: podlab::cluster::JobRef::Pod(p), .. }, .. } if p == id)
        })
        .map(|r| ms(&r))
        .collect();
    let bound =
        run.sim.records.iter().find(|r| matches!(r.record, Record::Bound { pod, .. } if pod == id)).map(|r| ms(&r));
    (attempts, bound)
}

/// The paper's Mesos model on one framework (`mesos.offers: whole-cell`).
fn mesos_paper(cell: &str, t_job: &str, extra: &str, jobs: &str) -> podlab::cluster::scenario::Scenario {
    scenario(&format!(
        "  duration: 10m\n  nodePools: [{cell}]\n  mesos:\n    offers: whole-cell\n    refuse: 0s\n    frameworks: [{{name: only, tJob: {t_job}, tTask: 0s}}]\n{extra}  workload:\n    jobs:\n{jobs}"
    ))
}

/// An offer used up mid-walk (`MesosSimulation.scala` ~191–193): three one-CPU jobs arrive at
/// 0 s; the request schedules a round 1 s later, whose offer (the machine's two CPUs) reaches
/// the framework 1 ms after it. The walk takes j1 and j2 — both stamped at the offer's receipt,
/// 1.001 s — and stops: the offer has nothing left, and j3 is not attempted against it. The
/// answer goes 2 × 1 s later. j3 waits, queued, for resources: the end of j1 (a task the
/// framework launched) triggers a round a second later, and j3 is walked on its offer.
#[test]
fn mesos_walk_stops_when_the_offer_is_used_up() {
    let job = |n: u32| format!("    - {{name: j{n}, at: 0s, cpu: \"1\", memory: 1Gi, runFor: 100s}}\n");
    let s =
        mesos_paper("{name: m, count: 1, cpu: \"2\", memory: 8Gi}", "1s", "", &(1..=3).map(job).collect::<String>());
    let run = run_checked(&s, "mesos", 1);
    assert_eq!(attempts_and_bindings(&s, &run, "j1"), (vec![1_001], Some(3_001)));
    assert_eq!(attempts_and_bindings(&s, &run, "j2"), (vec![1_001], Some(3_001)));
    // j1 ends at 103.001 s; the round at 104.001 s; its offer at 104.002 s; answered 1 s on.
    assert_eq!(attempts_and_bindings(&s, &run, "j3"), (vec![104_002], Some(105_002)));
}

/// A framework takes a new offer while its answer to another is outstanding
/// (`MesosSimulation.scala` ~320–321), and a job's wait ends at the offer's receipt. A's offer
/// arrives at 1.001 s and its answer is due 10 s later; a prefilled task frees the other
/// machine at 3 s; B arrives at 5 s, its request schedules a round at 6 s, and B's offer is
/// walked at once at 6.001 s — not after A's answer.
#[test]
fn mesos_framework_walks_offers_while_answers_are_outstanding() {
    let jobs = "    - {name: a, at: 0s, cpu: \"1\", memory: 1Gi, runFor: 1m}\n    - {name: b, at: 5s, cpu: \"1\", memory: 1Gi, runFor: 1m}\n    prefillJobs:\n    - {name: prefill-p, cpu: \"1\", memory: 1Gi, runFor: 3s}\n";
    let s = mesos_paper("{name: m, count: 2, cpu: \"1\", memory: 1Gi}", "10s", "", jobs);
    let run = run_checked(&s, "mesos", 1);
    assert_eq!(attempts_and_bindings(&s, &run, "a"), (vec![1_001], Some(11_001)));
    assert_eq!(attempts_and_bindings(&s, &run, "b"), (vec![6_001], Some(16_001)));
    let waits = &run.summary.scheduling.jobs.wait_to_first_attempt;
    assert_eq!((waits.count, waits.max_ns), (2, Some(1_001_000_000)));
}

/// Rate-limited rounds (podlab's other rule, `mesos.rounds: rate-limited`) offer at once when
/// the allocator has been idle, and no allocator decision time delays the offer.
#[test]
fn mesos_rounds_are_a_named_option() {
    let jobs = "    - {name: a, at: 0s, cpu: \"1\", memory: 1Gi, runFor: 1m}\n";
    let extra = "    rounds: rate-limited\n    allocatorDecision: 0s\n";
    let s = mesos_paper("{name: m, count: 1, cpu: \"1\", memory: 1Gi}", "1s", extra, jobs);
    let run = run_checked(&s, "mesos", 1);
    assert_eq!(attempts_and_bindings(&s, &run, "a"), (vec![0], Some(1_000)));
}

/// The Mesos model makes progress with long service decisions: on many seeds the paper's
/// scenario with a 30 s service t_job keeps the cell about as busy as Omega does (podlab's
/// earlier framework walked its whole queue against a used-up offer while new offers waited
/// locked in its inbox: on some seeds the cell fell to a third of its utilisation), and every
/// batch job is scheduled.
#[test]
fn mesos_makes_progress_under_long_decisions() {
    for seed in 1..=6 {
        let mut s = bundled("paper/omega-paper.yaml");
        for (k, v) in [("duration", "20m"), ("mesos.service.tJob", "30s"), ("omega.service.tJob", "30s")] {
            podlab::scenario::params::set(&mut s, k, v).unwrap();
        }
        let mesos = run_checked(&s, "mesos", seed);
        let omega = run_checked(&s, "omega", seed);
        let (m, o) = (mesos.summary.utilisation.cpu, omega.summary.utilisation.cpu);
        assert!(m > 0.9 * o, "seed {seed}: mesos cpu {m:.3}, omega {o:.3}");
        let batch = &mesos.summary.scheduling.schedulers["mesos-batch"];
        assert!(batch.attempts > 0, "seed {seed}");
        assert_eq!(mesos.summary.scheduling.jobs.abandoned, 0, "seed {seed}");
    }
}

/// Distributions state the paper's workloads exactly: the original's task counts are
/// `max(1, ceil(Exp(mean)))`; offsets may be negative; a bad shape is an error at its line.
#[test]
fn distributions_state_the_paper_exactly() {
    let generator = |tasks: &str| {
        format!(
            "  duration: 1h\n  nodePools: [{{name: m, count: 10, cpu: \"8\", memory: 32Gi}}]\n  workload:\n    generators:\n    - {{name: b, until: 1h, interArrival: {{distribution: exponential, mean: 10s, offset: -1s, atLeast: 0s}}, tasks: {tasks}, runFor: {{distribution: constant, value: 1m}}, cpu: 100m, memory: 1Gi}}\n"
        )
    };
    let s = scenario(&generator(r#"{distribution: exponential, mean: "3", rounding: ceil, atLeast: "1"}"#));
    let jobs = podlab::scenario::instantiate(&s, 7).unwrap();
    assert!(jobs.pods.len() > 100);
    let bad = |tasks: &str| {
        podlab::load_str(
            "paper.yaml",
            &format!(
                "apiVersion: podlab.dev/v1alpha1\nkind: Simulation\nmetadata: {{name: paper}}\nspec:\n{}",
                generator(tasks)
            ),
        )
        .unwrap_err()
        .to_string()
    };
    assert!(bad(r#"{distribution: exponential, mean: "3", rounding: up}"#).contains("rounding"));
    assert!(
        bad(r#"{distribution: exponential, mean: "3", rounding: ceil, step: "0"}"#).contains("`step` must be above 0")
    );
    assert!(bad(r#"{distribution: exponential, mean: "3", step: "2"}"#).contains("`step` belongs to a `rounding`"));
    assert!(
        bad(r#"{distribution: exponential, mean: "3", atLeast: "5", atMost: "2"}"#)
            .contains("`atMost` is below `atLeast`")
    );
}

/// The metrics as the paper counts them, beside podlab's: waits per workload class and per
/// scheduler (the monolithic exact check's 2.5 s mean, all batch); the race's transactions
/// (blue: one failed, one successful: a conflict fraction of 1 both ways); and an attempt that
/// claims nothing (a task too big for every machine) is no transaction and records no busy
/// time as the paper counts it, while podlab counts its decision time.
#[test]
fn metrics_as_the_paper_counts_them() {
    let s = scenario(&format!(
        "  nodePools: [{{name: m, count: 1, cpu: \"10\", memory: 20Gi}}]\n  monolithic: {{batch: {{tJob: 1s, tTask: 1s}}}}\n  workload:\n    jobs:\n{}",
        jobs(4, |i| i)
    ));
    let run = run_checked(&s, "monolithic", 1);
    let jobs = &run.summary.scheduling.jobs;
    for waits in [&jobs.by_workload["batch"], &jobs.by_scheduler["monolithic"]] {
        assert_eq!((waits.total, waits.fully_scheduled), (4, 4));
        assert_eq!(waits.wait_to_first_attempt.mean_ns, Some(2_500_000_000));
    }
    assert!(!jobs.by_workload.contains_key("service"));

    let race = bundled("omega-race.yaml");
    let run = run_checked(&race, "omega", race.seed);
    let blue = &run.summary.scheduling.schedulers["omega-blue"];
    assert_eq!((blue.transactions_succeeded, blue.transactions_failed), (1, 1));
    assert_eq!((blue.conflict_fraction_paper, blue.busyness_paper), (1.0, blue.busyness));

    let s = scenario(
        "  duration: 10m\n  nodePools: [{name: m, count: 2, cpu: \"1\", memory: 1Gi}]\n  omega:\n    schedulers: [{name: only, tJob: 1s, tTask: 0s}]\n  workload:\n    jobs:\n    - {name: huge, at: 0s, cpu: \"2\", memory: 1Gi, runFor: 1m}\n",
    );
    let run = run_checked(&s, "omega", 1);
    let only = &run.summary.scheduling.schedulers["omega-only"];
    assert_eq!((only.attempts, only.transactions_succeeded, only.transactions_failed), (101, 0, 0));
    assert_eq!((only.busyness_paper, only.conflict_fraction_paper), (0.0, 0.0));
    assert!(only.busyness > 0.16, "{}", only.busyness);
    assert_eq!(run.summary.scheduling.jobs.by_workload["batch"].abandoned, 1);
}
