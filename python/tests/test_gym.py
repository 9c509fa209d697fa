"""podlab.gym: Gymnasium's own checker, determinism, and episodes that place every pod."""

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")
from gymnasium.utils.env_checker import check_env  # noqa: E402

import podlab  # noqa: E402
from conftest import scenario_text  # noqa: E402
from podlab.gym import PodlabEnv  # noqa: E402


def env(**kwargs):
    return PodlabEnv(podlab.parse(scenario_text(), "gym-test.yaml"), **kwargs)


def test_gymnasium_checks_the_environment():
    e = env()
    check_env(e, skip_render_check=True)
    e.close()


def play(e, seed, choose):
    obs, info = e.reset(seed=seed)
    total, steps = 0.0, 0
    while True:
        obs, reward, terminated, truncated, info = e.step(choose(obs, info))
        assert e.observation_space.contains(obs)
        total += reward
        steps += 1
        if terminated or truncated:
            return total, steps, info


def first_fit(obs, info):
    fits = np.flatnonzero(info["action_mask"][:-1])
    return int(fits[0]) if len(fits) else len(info["action_mask"]) - 1


def test_an_agent_that_fits_places_every_pod_and_repeats():
    e = env(reward="placed", check_invariants=True)
    total, steps, info = play(e, 3, first_fit)
    assert e.final["violations"] == []
    assert total == 40, "every pod placed once"
    assert steps >= 40
    again = play(e, 3, first_fit)
    assert again[0] == total and again[1] == steps
    digest = e.final["digest"]
    play(e, 3, first_fit)
    assert e.final["digest"] == digest
    e.close()


def test_waiting_costs_pod_seconds():
    e = env(reward="wait")
    rng = np.random.default_rng(0)
    total, steps, _ = play(e, 3, lambda obs, info: int(rng.integers(0, 5)))
    assert total < 0
    lazy = env(reward="wait", max_steps=200)
    lazy_total, lazy_steps, _ = play(lazy, 3, lambda obs, info: 4)  # always wait
    assert lazy_steps == 200
    assert lazy_total < total
    e.close()
    lazy.close()


def test_rewards_can_be_callables_and_bad_names_are_refused():
    e = env(reward=lambda before, action, after: 2.0)
    total, steps, _ = play(e, 1, first_fit)
    assert total == 2.0 * steps
    with pytest.raises(ValueError):
        env(reward="happiness")
