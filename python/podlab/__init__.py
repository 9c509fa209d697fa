"""podlab from Python: run your own scheduling policy on podlab's scenarios.

A policy is a class with ``on_events(now, events) -> actions``: the events and actions of
podlab's exec protocol (``docs/src/protocol.md``) as dicts. ``run`` calls it in-process (no
pipe); ``python -m podlab.exec module:Class`` serves the very same class over the protocol, to
``podlab run --policy 'exec:NAME=python -m podlab.exec module:Class'``. Both go through
``Session``, so a policy decides the same either way — and a deterministic one gives the same
digest either way.

    import podlab

    class FirstFit(podlab.Policy):
        ...

    result = podlab.run("scenario.yaml", policy=FirstFit(), seed=1)
    result.summary["scheduling"]   # dicts and lists, pandas-friendly
    rows = podlab.compare("scenario.yaml", ["kubernetes", FirstFit], seeds=[1, 2, 3])
"""

from __future__ import annotations

import copy
import csv
import io
import json
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Union

from . import _native
from ._native import PROTOCOL_VERSION, PolicyError, Scenario, ScenarioError

# One encoder for every answer: `json.dumps` with `separators` builds a new encoder at every
# call, once per decision.
_encode = json.JSONEncoder(separators=(",", ":")).encode

__all__ = [
    "PROTOCOL_VERSION",
    "Policy",
    "PolicyError",
    "Result",
    "Scenario",
    "ScenarioError",
    "Session",
    "compare",
    "load",
    "parse",
    "policies",
    "run",
]


def load(path: str) -> Scenario:
    """Loads a scenario file (errors name the file, line and column)."""
    return _native.load(str(path))


def parse(text: str, file: str = "scenario.yaml") -> Scenario:
    """Loads a scenario from YAML text."""
    return _native.parse(text, file)


def policies() -> List[str]:
    """podlab's own policies, by name."""
    return list(_native.policies())


class Policy:
    """A scheduling policy. Override ``on_events``; ``hello`` and ``sleeping`` are optional.

    ``hello(seed, params)`` is called when the policy's process starts (again after a
    scheduler crash: reset your state there). ``on_events(now, events)`` gets the simulated
    time in nanoseconds and the events since the last call, and returns a list of actions,
    e.g. ``{"type": "bind", "pod": 3, "node": 0}``. ``sleeping()`` says that nothing needs
    deciding until a pod arrives, a binding is refused or a timer fires.
    """

    def hello(self, seed: int, params: Dict[str, Any]) -> None:
        self.seed = seed
        self.params = params

    def on_events(self, now: int, events: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        raise NotImplementedError("a Policy decides in on_events(now, events)")

    def sleeping(self) -> bool:
        return False


class Session:
    """A policy's side of the protocol: one line in, one line out.

    The in-process runner and the exec runner both speak through it, so the same class
    decides the same either way.
    """

    def __init__(self, policy: Any):
        self.policy = policy

    def exchange(self, line: str) -> str:
        message = json.loads(line)
        kind = message.get("type")
        if kind == "hello":
            if message.get("protocol") != PROTOCOL_VERSION:
                raise ValueError(f"podlab speaks protocol {message.get('protocol')}, this package {PROTOCOL_VERSION}")
            hello = getattr(self.policy, "hello", None)
            if hello is not None:
                hello(message["seed"], message.get("params", {}))
            return '{"type":"hello","protocol":%d}' % PROTOCOL_VERSION
        if kind != "events":
            raise ValueError(f"unexpected message {kind!r}")
        answer = self.policy.on_events(message["now"], message["events"])
        if isinstance(answer, dict):
            return _encode(answer)
        sleeping = getattr(self.policy, "sleeping", None)
        sleep = bool(sleeping()) if sleeping is not None else False
        return _encode({"actions": list(answer), "sleep": sleep})


def _flatten(value: Any, prefix: str, out: Dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif value is None or isinstance(value, (int, float)):
        # None stays (a percentile of no samples): every run of a comparison has the same
        # columns.
        out[prefix] = value


class Result:
    """One run: its digest, summary, checks and (unless ``records=False``) its records.

    ``events`` is one dict per record (the run's ``events.jsonl``), ``pods`` one dict per pod
    (``placements.csv``): both lists of dicts, so ``pandas.DataFrame(result.pods)`` is a table.
    """

    def __init__(self, raw: Dict[str, Any]):
        self.policy: str = raw["policy"]
        self.seed: int = raw["seed"]
        self.digest: str = raw["digest"]
        self.summary: Dict[str, Any] = json.loads(raw["summary"])
        self.violations: List[str] = list(raw["violations"])
        self.failed_expectations: List[Any] = [(i, f) for i, f in raw["verdicts"] if f]
        self.events_processed: int = raw["events_processed"]
        self.end_seconds: float = raw["end_ns"] / 1e9
        self._events_text: Optional[str] = raw.get("events")
        self._pods_text: Optional[str] = raw.get("pods")
        self._events: Optional[List[Dict[str, Any]]] = None
        self._pods: Optional[List[Dict[str, Any]]] = None

    @property
    def events(self) -> List[Dict[str, Any]]:
        if self._events is None:
            if self._events_text is None:
                raise ValueError("this run kept no records (records=False)")
            self._events = [json.loads(line) for line in self._events_text.splitlines() if line]
        return self._events

    @property
    def pods(self) -> List[Dict[str, Any]]:
        if self._pods is None:
            if self._pods_text is None:
                raise ValueError("this run kept no records (records=False)")
            self._pods = list(csv.DictReader(io.StringIO(self._pods_text)))
        return self._pods

    def metrics(self) -> Dict[str, Any]:
        """The summary's numbers, flattened to dotted names (``time_to_schedule.p50_ns``)."""
        out: Dict[str, Any] = {}
        _flatten(self.summary, "", out)
        return out

    def __repr__(self) -> str:
        return f"<podlab.Result {self.policy} seed={self.seed} {self.digest[:19]}…>"


PolicyLike = Union[str, Policy, type, Callable[[], Any]]


def _scenario(scenario: Union[str, Scenario]) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load(scenario)


def _name_of(policy: Any) -> str:
    explicit = getattr(policy, "name", None)
    if isinstance(explicit, str) and explicit:
        return explicit
    cls = policy if isinstance(policy, type) else type(policy)
    return cls.__name__


def run(
    scenario: Union[str, Scenario],
    policy: PolicyLike = "kubernetes",
    seed: Optional[int] = None,
    *,
    name: Optional[str] = None,
    params: Optional[Dict[str, Any]] = None,
    check_invariants: bool = True,
    records: bool = True,
    timeout: float = 10.0,
) -> Result:
    """Runs one policy on a scenario.

    ``policy`` is podlab's own (``"kubernetes"``), an external one (``"exec:NAME=COMMAND"``),
    or a Python policy object (called in-process). ``seed`` defaults to the scenario's.
    Raises ``PolicyError`` if the policy crashes, hangs, raises or answers nonsense.
    """
    loaded = _scenario(scenario)
    seed = loaded.seed if seed is None else int(seed)
    params_json = json.dumps(params or {})
    if isinstance(policy, str):
        if policy.startswith("exec:"):
            exec_name, _, command = policy[len("exec:"):].partition("=")
            raw = _native.run_exec(loaded, exec_name, command, seed, params_json, timeout, check_invariants, records)
        else:
            raw = _native.run_named(loaded, policy, seed, check_invariants, records)
        return Result(raw)
    if isinstance(policy, type):
        policy = policy()
    session = Session(policy)
    raw = _native.run_exchange(loaded, name or _name_of(policy), session.exchange, seed, params_json, check_invariants, records)
    return Result(raw)


def compare(
    scenario: Union[str, Scenario],
    policies: Sequence[PolicyLike],
    seeds: Iterable[int] = (1,),
    *,
    check_invariants: bool = True,
) -> List[Dict[str, Any]]:
    """Runs each policy with each seed; one row per run (``policy``, ``seed``, ``digest`` and
    the summary's flattened metrics, the same columns in every row): ``pandas.DataFrame(rows)``
    compares them.

    A policy object is copied for each run (a class is instantiated), so runs do not share
    its state.
    """
    loaded = _scenario(scenario)
    rows: List[Dict[str, Any]] = []
    for seed in seeds:
        for policy in policies:
            fresh = policy if isinstance(policy, (str, type)) else copy.deepcopy(policy)
            result = run(loaded, fresh, seed, check_invariants=check_invariants, records=False)
            row: Dict[str, Any] = {"policy": result.policy, "seed": result.seed, "digest": result.digest}
            row.update(result.metrics())
            rows.append(row)
    # A rectangle: a metric one run lacks (another policy's own scheduler's) is None there.
    columns: Dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    return [{column: row.get(column) for column in columns} for row in rows]
