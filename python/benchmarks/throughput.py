"""Decisions a second across the Python boundary, on the scale scenario's shape: `nodes`
nodes and `pods` one-CPU pods arriving one a millisecond and running a minute.

    python python/benchmarks/throughput.py [NODES PODS]

Prints: a Python first-fit in-process, the same class through the exec protocol
(`python -m podlab.exec`), and the Gymnasium environment with a random agent."""

import os
import sys
import time

import numpy as np

import podlab

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from policies import FirstFit  # noqa: E402


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


def timed(label, run, decisions):
    best = None
    for _ in range(3):
        started = time.perf_counter()
        value = run()
        took = time.perf_counter() - started
        best = took if best is None else min(best, took)
    n = decisions(value)
    print(f"{label:<34} {n:>7} decisions in {best:.3f} s: {n / best:>9,.0f}/s")
    return value


def main():
    nodes, pods = (int(a) for a in sys.argv[1:3]) if len(sys.argv) > 2 else (1000, 10000)
    s = scenario(nodes, pods)
    bound = lambda r: sum(1 for e in r.events if e["event"] == "bound")  # noqa: E731
    inside = timed("python first-fit, in-process", lambda: podlab.run(s, FirstFit(), 1, check_invariants=False), bound)
    command = f"cd '{os.path.join(HERE, '..', 'tests')}' && '{sys.executable}' -m podlab.exec policies:FirstFit"
    outside = timed(
        "python first-fit, exec protocol",
        lambda: podlab.run(s, f"exec:FirstFit={command}", 1, check_invariants=False),
        bound,
    )
    assert inside.digest == outside.digest, "in-process and exec must agree"

    from podlab.gym import PodlabEnv

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

    timed("gymnasium, random agent (steps)", episode, lambda steps: steps)
    env.close()


if __name__ == "__main__":
    main()
