"""podlab.run and podlab.compare: podlab's own policies, Python policies in-process and
through the exec protocol, and what they return."""

import os
import subprocess
import sys

import pytest

import podlab
from conftest import scenario_text
from policies import FirstFit, Nonsense, Raises, RandomFit


def exec_command(tests_dir, target):
    return f"cd '{tests_dir}' && '{sys.executable}' -m podlab.exec {target}"


def test_a_named_policy_runs_and_returns_tables(small):
    result = podlab.run(small, "kubernetes", seed=1)
    assert result.digest.startswith("blake3:")
    assert result.violations == []
    assert len(result.pods) == 40
    assert set(result.pods[0]) >= {"pod", "nodes", "created_s", "scheduled_s", "phase"}
    assert all(p["phase"] == "Succeeded" for p in result.pods)
    kinds = {e["event"] for e in result.events}
    assert {"node-added", "pod-created", "bound", "ended"} <= kinds
    metrics = result.metrics()
    assert metrics["pods.succeeded"] == 40
    assert metrics["time_to_schedule.count"] == 40


def test_a_python_policy_places_every_pod_and_repeats(small):
    first = podlab.run(small, FirstFit(), seed=5)
    second = podlab.run(small, FirstFit(), seed=5)
    assert first.violations == []
    assert all(p["phase"] == "Succeeded" for p in first.pods)
    bound = [e for e in first.events if e["event"] == "bound"]
    assert len(bound) == 40
    assert first.digest == second.digest
    assert first.policy == "FirstFit"


def test_in_process_and_exec_give_the_same_digest(small, tests_dir):
    for cls in ("FirstFit", "RandomFit"):
        inside = podlab.run(small, {"FirstFit": FirstFit, "RandomFit": RandomFit}[cls](), seed=9, name=cls)
        outside = podlab.run(small, f"exec:{cls}={exec_command(tests_dir, 'policies:' + cls)}", seed=9)
        assert outside.violations == []
        assert inside.digest == outside.digest, cls


def test_a_seeded_random_policy_differs_by_seed_only(small):
    a = podlab.run(small, RandomFit(), seed=1, name="r")
    b = podlab.run(small, RandomFit(), seed=1, name="r")
    c = podlab.run(small, RandomFit(), seed=2, name="r")
    assert a.digest == b.digest != c.digest


def test_the_digest_is_the_same_in_another_process(small):
    here = podlab.run(small, FirstFit(), seed=4).digest
    code = (
        "import podlab, conftest, policies; "
        "s = podlab.parse(conftest.scenario_text(), 'python-test.yaml'); "
        "print(podlab.run(s, policies.FirstFit(), seed=4).digest)"
    )
    there = subprocess.run(
        [sys.executable, "-c", code], cwd=os.path.dirname(__file__), capture_output=True, text=True, check=True
    ).stdout.strip()
    assert here == there


def test_an_exception_ends_the_run_with_a_policy_error(small):
    with pytest.raises(podlab.PolicyError) as caught:
        podlab.run(small, Raises(), seed=1)
    message = str(caught.value)
    assert "policy `Raises`" in message and "the policy gave up" in message
    assert "Traceback" in message  # the traceback stands in for stderr
    assert isinstance(caught.value.__cause__, RuntimeError)


def test_nonsense_ends_the_run_naming_it(small, tests_dir):
    with pytest.raises(podlab.PolicyError, match="pod 12345 was never announced"):
        podlab.run(small, Nonsense(), seed=1)
    with pytest.raises(podlab.PolicyError, match="pod 12345 was never announced"):
        podlab.run(small, f"exec:n={exec_command(tests_dir, 'policies:Nonsense')}", seed=1)


def test_a_crashing_exec_runner_shows_its_stderr(small, tests_dir):
    with pytest.raises(podlab.PolicyError) as caught:
        podlab.run(small, f"exec:raises={exec_command(tests_dir, 'policies:Raises')}", seed=1)
    message = str(caught.value)
    assert "policy `raises`" in message and "exited without answering" in message
    assert "RuntimeError: the policy gave up" in message


def test_compare_gives_one_row_per_run(small):
    rows = podlab.compare(small, ["kubernetes", FirstFit, RandomFit()], seeds=[1, 2])
    assert [(r["policy"], r["seed"]) for r in rows] == [
        ("kubernetes", 1), ("FirstFit", 1), ("RandomFit", 1), ("kubernetes", 2), ("FirstFit", 2), ("RandomFit", 2)
    ]
    assert all(isinstance(r["digest"], str) for r in rows)
    assert len({frozenset(r) for r in rows}) == 1, "every row has the same columns"


def test_params_reach_the_policy(small):
    class Echo(FirstFit):
        def hello(self, seed, params):
            super().hello(seed, params)
            self.seen = params

    policy = Echo()
    podlab.run(small, policy, seed=1, params={"alpha": 0.5})
    assert policy.seen == {"alpha": 0.5}


def test_a_bad_scenario_names_its_line_and_column():
    with pytest.raises(podlab.ScenarioError, match=r"bad\.yaml:\d+:\d+"):
        podlab.parse(scenario_text().replace("count: 4", "count: many"), "bad.yaml")


def test_a_crashed_scheduler_restarts_the_same_way_in_process_and_exec(tests_dir):
    # The bundled scenario: the scheduler dies at 20 ms among 40 arriving pods and restarts
    # 20 s later (a new process, or hello() again in-process), relisting the cluster.
    path = os.path.join(tests_dir, "..", "..", "scenarios", "scheduler-crash.yaml")
    scenario = podlab.load(path)
    inside = podlab.run(scenario, FirstFit(), seed=5, name="ff")
    outside = podlab.run(scenario, f"exec:ff={exec_command(tests_dir, 'policies:FirstFit')}", seed=5)
    assert inside.violations == [] and outside.violations == []
    assert inside.digest == outside.digest
    kinds = [e["event"] for e in inside.events]
    assert "controller-crashed" in kinds and "controller-restarted" in kinds
    assert sum(1 for p in inside.pods if p["phase"] == "Running") == 40


def test_ctrl_c_in_a_policy_is_raised_as_it_came(small):
    class Interrupted(FirstFit):
        def on_events(self, now, events):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        podlab.run(small, Interrupted(), seed=1)
