"""Decisions a second across the Python boundary, on the scale scenario's shape: `nodes`
nodes and `pods` one-CPU pods arriving one a millisecond and running a minute.

    python python/benchmarks/throughput.py [--json] [NODES PODS]

Measures a Python first-fit in-process, the same class through the exec protocol
(`python -m podlab.exec`), and the Gymnasium environment with a random agent: each the best
of 5 runs. Prints a line for each, or with --json one JSON object (what `podlab bench` reads):
`{"in_process": {"decisions", "seconds", "runs"}, "exec": {…}, "gym": {"steps", "seconds",
"runs"} or {"missing": why}}`."""

import json
import os
import sys
import time

import podlab

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(HERE, "..", "tests")
sys.path.insert(0, TESTS)
from policies import FirstFit  # noqa: E402

RUNS = 5


def scenario(nodes, pods):
    return podlab.parse(
        f"""apiVersion: podlab.dev/v1alpha1
kind: Simulation
metadata: {{name: throughput}}
spec:
  nodePools: [{{name: node, count: {nodes}, cpu: "32", memory: 128Gi}}]
  workload:
    generators:
    - name: web
      count: {pods}
      interArrival: {{distribution: constant, value: 1ms}}
      tasks: {{distribution: constant, value: "1"}}
      runFor: {{distribution: constant, value: 60s}}
      cpu: "1"
      memory: 2Gi
""",
        "throughput.yaml",
    )


def timed(run):
    """The best of RUNS runs' wall time, and the last run's value."""
    best, value = None, None
    for _ in range(RUNS):
        started = time.perf_counter()
        value = run()
        took = time.perf_counter() - started
        best = took if best is None else min(best, took)
    return best, value


def decisions(s, policy):
    """A run keeping no records (as `podlab bench` runs): its pods bound, and its digest."""
    seconds, result = timed(lambda: podlab.run(s, policy, 1, check_invariants=False, records=False))
    return {"decisions": result.summary["pods"]["scheduled"], "seconds": seconds, "runs": RUNS}, result.digest


def gym_steps(s):
    try:
        import numpy as np
        from podlab.gym import PodlabEnv
    except ImportError as missing:
        return {"missing": str(missing)}
    env = PodlabEnv(s)

    def episode():
        rng = np.random.default_rng(0)
        env.reset(seed=1)
        steps, n = 0, env.action_space.n
        while True:
            _, _, terminated, truncated, _ = env.step(int(rng.integers(0, n)))
            steps += 1
            if terminated or truncated:
                return steps

    seconds, steps = timed(episode)
    env.close()
    return {"steps": steps, "seconds": seconds, "runs": RUNS}


def main():
    args = [a for a in sys.argv[1:] if a != "--json"]
    as_json = len(args) < len(sys.argv) - 1
    nodes, pods = (int(a) for a in args[:2]) if len(args) >= 2 else (1000, 10000)
    s = scenario(nodes, pods)
    inside, digest = decisions(s, FirstFit())
    command = f"cd '{TESTS}' && '{sys.executable}' -m podlab.exec policies:FirstFit"
    outside, exec_digest = decisions(s, f"exec:FirstFit={command}")
    assert digest == exec_digest, "in-process and exec must agree"
    gym = gym_steps(s)
    if as_json:
        print(json.dumps({"nodes": nodes, "pods": pods, "in_process": inside, "exec": outside, "gym": gym}))
        return
    for label, figure, unit in [
        ("python first-fit, in-process", inside, "decisions"),
        ("python first-fit, exec protocol", outside, "decisions"),
        ("gymnasium, random agent", gym, "steps"),
    ]:
        if "missing" in figure:
            print(f"{label:<34} not measured: {figure['missing']}")
            continue
        n, best = figure[unit], figure["seconds"]
        print(f"{label:<34} {n:>7} {unit} in {best:.3f} s: {n / best:>9,.0f}/s")


if __name__ == "__main__":
    main()
