"""A Gymnasium environment: one step per scheduling decision.

Each step shows the agent one pending pod and every node's free resources, and takes its
choice: a node, or wait (the last action). An episode is a run of a scenario with a seed; it
ends when the run does. Pods are asked about in arrival order, each once per instant in which
something changed (a pod arrived, one ended, a binding was refused); a pod the agent makes
wait, or sends to a node without room, stays pending and is asked about again later.

    import gymnasium as gym
    from podlab.gym import PodlabEnv

    env = PodlabEnv("scenario.yaml", reward="wait")
    obs, info = env.reset(seed=1)
    obs, reward, terminated, truncated, info = env.step(env.action_space.sample())

Observation: ``{"pod": [cpu, memory], "nodes": [[free cpu, free memory], …]}``, float32, as
fractions of the largest node's allocatable. ``info["action_mask"]`` marks the nodes where
the pod fits (and wait). Rewards (``reward=``):

- ``"wait"``: minus the pod-seconds spent pending since the last step (negative job wait);
- ``"utilisation"``: the share of the cluster's CPU allocated after the step;
- ``"placed"``: 1 when the step's choice placed its pod, else 0;
- ``"packing"``: minus the share of nodes in use (co-location: fewer nodes is better);
- or a callable ``reward(before, action, after) -> float`` over the ``info`` dicts.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, Optional, Tuple, Union

import gymnasium
import numpy as np
from gymnasium import spaces

from . import Scenario, _native, load

REWARDS = ("wait", "utilisation", "placed", "packing")


class PodlabEnv(gymnasium.Env):
    """podlab as a Gymnasium environment (see the module's documentation)."""

    metadata = {"render_modes": []}

    def __init__(
        self,
        scenario: Union[str, Scenario],
        reward: Union[str, Callable[[Dict[str, Any], int, Dict[str, Any]], float]] = "wait",
        max_steps: Optional[int] = None,
        check_invariants: bool = False,
    ):
        super().__init__()
        self.scenario = scenario if isinstance(scenario, Scenario) else load(scenario)
        if not callable(reward) and reward not in REWARDS:
            raise ValueError(f"reward must be one of {REWARDS} or a callable, not {reward!r}")
        self.reward = reward
        self.max_steps = max_steps
        self.check_invariants = check_invariants
        self.nodes = self.scenario.nodes
        self.wait_action = self.nodes
        self.observation_space = spaces.Dict(
            {
                "pod": spaces.Box(0.0, 1.0, shape=(2,), dtype=np.float32),
                "nodes": spaces.Box(0.0, 1.0, shape=(self.nodes, 2), dtype=np.float32),
            }
        )
        self.action_space = spaces.Discrete(self.nodes + 1)
        self._session: Optional[Any] = None
        self._info: Dict[str, Any] = {}
        self._steps = 0
        self.final: Optional[Dict[str, Any]] = None

    # -- episode ---------------------------------------------------------------------------

    def reset(self, *, seed: Optional[int] = None, options: Optional[Dict[str, Any]] = None):
        super().reset(seed=seed)
        self.close()
        episode_seed = int(self.np_random.integers(0, 2**63 - 1)) if seed is None else int(seed)
        self._session = _native.GymSession(self.scenario, episode_seed, self.check_invariants)
        self._steps = 0
        self.final = None
        obs, info, _ = self._read(self._session.step(None), previous=None)
        self._info = info
        return obs, info

    def step(self, action):
        if self._session is None:
            raise RuntimeError("call reset() before step()")
        if self.final is not None:
            raise RuntimeError("the episode is over: call reset()")
        action = int(action)
        if not 0 <= action <= self.wait_action:
            raise ValueError(f"action {action} is outside 0..{self.wait_action}")
        choice = None if action == self.wait_action else action
        before = self._info
        obs, info, done = self._read(self._session.step(choice), previous=before)
        self._steps += 1
        reward = self._reward(before, action, info)
        self._info = info
        truncated = bool(self.max_steps is not None and self._steps >= self.max_steps and not done)
        return obs, reward, done, truncated, info

    def close(self):
        if self._session is not None:
            self._session.close()
            self._session = None

    # -- reading the run -------------------------------------------------------------------

    def _empty(self) -> Dict[str, np.ndarray]:
        return {"pod": np.zeros(2, dtype=np.float32), "nodes": np.zeros((self.nodes, 2), dtype=np.float32)}

    def _read(self, ask: Tuple, previous: Optional[Dict[str, Any]]):
        if ask[0] == "done":
            _, digest, summary, violations, placed = ask
            self.final = {"digest": digest, "summary": json.loads(summary), "violations": list(violations)}
            info = {
                "now": previous["now"] if previous else 0.0,
                "pending": 0,
                "placed": bool(placed),
                "cpu_used": previous["cpu_used"] if previous else 0.0,
                "nodes_used": previous["nodes_used"] if previous else 0,
                "action_mask": np.zeros(self.nodes + 1, dtype=bool),
                "final": self.final,
            }
            info["action_mask"][self.wait_action] = True
            return self._empty(), info, True
        _, now, pod, raw, pending, placed, cpu_used, nodes_used = ask
        flat = np.frombuffer(raw, dtype=np.float32)
        pod_need = flat[:2].copy()
        nodes = flat[2:].reshape(self.nodes, 2).copy()
        mask = np.empty(self.nodes + 1, dtype=bool)
        np.logical_and(nodes[:, 0] >= pod_need[0], nodes[:, 1] >= pod_need[1], out=mask[:-1])
        mask[-1] = True
        info = {
            "now": now / 1e9,
            "pod": pod,
            "pending": pending,
            "placed": bool(placed),
            "cpu_used": cpu_used,
            "nodes_used": nodes_used,
            "action_mask": mask,
        }
        return {"pod": pod_need, "nodes": nodes}, info, False

    def _reward(self, before: Dict[str, Any], action: int, after: Dict[str, Any]) -> float:
        if callable(self.reward):
            return float(self.reward(before, action, after))
        if self.reward == "wait":
            return -float(before.get("pending", 0)) * max(0.0, after["now"] - before.get("now", 0.0))
        if self.reward == "utilisation":
            return float(after["cpu_used"])
        if self.reward == "placed":
            return 1.0 if after["placed"] else 0.0
        return -float(after["nodes_used"]) / max(1, self.nodes)
