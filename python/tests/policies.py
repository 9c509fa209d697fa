"""Policies the tests run in-process and through `python -m podlab.exec`."""

import random

import podlab


class FirstFit(podlab.Policy):
    """Each pending pod, in arrival order, to the first node (by id) with room for its CPU,
    memory and a pod slot — podlab's Rust and JavaScript first-fit clients, in Python.

    `cursor` skips the nodes at the front that are full to the last millicore, byte or slot:
    no pod that asks for CPU and memory fits there, so the choice is the plain scan's."""

    def hello(self, seed, params):
        super().hello(seed, params)
        self.free = []          # node id -> [cpu, memory, slots], or None
        self.requests = {}      # pod id -> (cpu, memory)
        self.placed = {}        # pod id -> node id
        self.pending = []
        self.cursor = 0

    def _charge(self, pod, node, sign):
        cpu, memory = self.requests.get(pod, (0, 0))
        free = self.free[node]
        free[0] -= sign * cpu
        free[1] -= sign * memory
        free[2] -= sign
        if sign < 0 and node < self.cursor:
            self.cursor = node

    def _hear(self, e):
        kind = e["type"]
        if kind == "pod-added":
            r = e["requests"]
            self.requests[e["pod"]] = (r["cpu"], r["memory"])
            if "node" not in e:
                self.pending.append(e["pod"])
        elif kind == "ended":
            if self.placed.pop(e["pod"], None) is not None:
                self._charge(e["pod"], e["node"], -1)
            self.requests.pop(e["pod"], None)
        elif kind == "bound":
            if self.placed.get(e["pod"]) != e["node"]:
                self.placed[e["pod"]] = e["node"]
                self._charge(e["pod"], e["node"], 1)
        elif kind == "node-added":
            a = e["allocatable"]
            while len(self.free) <= e["node"]:
                self.free.append(None)
            self.free[e["node"]] = [a["cpu"], a["memory"], e["max_pods"]]
            self.cursor = min(self.cursor, e["node"])
        elif kind == "bind-refused":
            if self.placed.pop(e["pod"], None) is not None:
                self._charge(e["pod"], e["node"], -1)
            self.pending.append(e["pod"])
        elif kind == "pod-deleted":
            self.pending = [p for p in self.pending if p != e["pod"]]

    def _fit(self, cpu, memory):
        free = self.free
        start = self.cursor if cpu > 0 and memory > 0 else 0
        for i in range(start, len(free)):
            f = free[i]
            if f is None:
                continue
            if f[0] >= cpu and f[1] >= memory and f[2] >= 1:
                return i
            if i == self.cursor and (f[0] <= 0 or f[1] <= 0 or f[2] <= 0):
                self.cursor = i + 1
        return None

    def on_events(self, now, events):
        for e in events:
            self._hear(e)
        actions, waiting = [], []
        for pod in self.pending:
            cpu, memory = self.requests[pod]
            node = self._fit(cpu, memory)
            if node is None:
                waiting.append(pod)
                continue
            self.placed[pod] = node
            self._charge(pod, node, 1)
            actions.append({"type": "bind", "pod": pod, "node": node})
        self.pending = waiting
        return actions

    def sleeping(self):
        return not self.pending


class RandomFit(FirstFit):
    """A random node with room, drawn from the seed podlab hands it: deterministic."""

    def hello(self, seed, params):
        super().hello(seed, params)
        self.rng = random.Random(seed)

    def _fit(self, cpu, memory):
        fits = [i for i, f in enumerate(self.free) if f and f[0] >= cpu and f[1] >= memory and f[2] >= 1]
        return self.rng.choice(fits) if fits else None


class Raises(FirstFit):
    def on_events(self, now, events):
        if now > 0:
            raise RuntimeError("the policy gave up at %d" % now)
        return super().on_events(now, events)


class Nonsense(FirstFit):
    def on_events(self, now, events):
        return [{"type": "bind", "pod": 12345, "node": 0}]
