"""Shared scenarios for the Python package's tests."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

import podlab  # noqa: E402


def scenario_text(nodes=4, pods=40, run_for="uniform, min: 3s, max: 7s"):
    return f"""apiVersion: podlab.dev/v1alpha1
kind: Simulation
metadata: {{name: python-test}}
spec:
  seed: 3
  nodePools: [{{name: n, count: {nodes}, cpu: "4", memory: 8Gi}}]
  workload:
    generators:
    - name: job
      count: {pods}
      interArrival: {{distribution: exponential, mean: 200ms}}
      tasks: {{distribution: constant, value: 1}}
      runFor: {{distribution: {run_for}}}
      cpu: "1"
      memory: 1Gi
"""


@pytest.fixture
def small():
    return podlab.parse(scenario_text(), "python-test.yaml")


@pytest.fixture
def tests_dir():
    return os.path.dirname(os.path.abspath(__file__))
