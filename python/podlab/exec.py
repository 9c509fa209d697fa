"""Serves a Python policy over podlab's exec protocol, on stdin and stdout.

    python -m podlab.exec mymodule:MyPolicy [--param key=value ...]
    podlab run scenario.yaml --policy 'exec:mine=python -m podlab.exec mymodule:MyPolicy'

``mymodule`` is imported with the current directory on the path; ``MyPolicy`` is instantiated
with no arguments. The same class run in-process (``podlab.run``) decides the same.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any, List, Optional

from . import Session


def load_policy(target: str) -> Any:
    """``module:Class`` (or ``module:factory``) → a fresh policy object."""
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise SystemExit(f"podlab.exec: expected module:Class, got {target!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    module = importlib.import_module(module_name)
    factory = module
    for part in attribute.split("."):
        factory = getattr(factory, part)
    return factory()


def serve(policy: Any, stdin=None, stdout=None) -> None:
    """Answers each line podlab writes until it closes stdin."""
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    session = Session(policy)
    readline = stdin.readline
    write = stdout.write
    flush = stdout.flush
    while True:
        line = readline()
        if not line:
            return
        write(session.exchange(line.decode("utf-8")).encode("utf-8") + b"\n")
        flush()


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m podlab.exec", description=__doc__.splitlines()[0])
    parser.add_argument("policy", help="module:Class of the policy")
    args = parser.parse_args(argv)
    serve(load_policy(args.policy))


if __name__ == "__main__":
    main()
