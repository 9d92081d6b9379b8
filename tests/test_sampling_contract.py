"""The sampling contract: a temperature comes from the run's config and is passed explicitly, or sampling is refused.

Every function or method in the package with a `temperature` parameter has no numeric default (it is required,
or None, which the function must refuse when it samples), each sampling entry point refuses to sample without
one, and `greedy` has the same default wherever `Policy.act`'s interface is claimed."""
import importlib, inspect, pkgutil
import numpy as np
import pytest
import vlarl
from vlarl.core.base import VlarlError


def _functions():
    for m in pkgutil.walk_packages(vlarl.__path__, "vlarl."):
        if m.name.endswith("_modidx") or "vllm_engine" in m.name: continue   # vllm_engine imports vllm lazily but is checked below
        try: mod = importlib.import_module(m.name)
        except ImportError: continue
        for name, obj in vars(mod).items():
            if getattr(obj, "__module__", None) != mod.__name__: continue
            if inspect.isfunction(obj): yield f"{mod.__name__}.{name}", obj
            elif inspect.isclass(obj):
                for mn, meth in vars(obj).items():
                    if inspect.isfunction(meth): yield f"{mod.__name__}.{name}.{mn}", meth


def test_no_numeric_temperature_default():
    found, bad = [], []
    for name, fn in _functions():
        p = inspect.signature(fn).parameters.get("temperature")
        if p is None or name == "vlarl.core.config.TrainConfig.__init__": continue   # the config is where the temperature comes from
        found.append(name)
        if p.default is not inspect.Parameter.empty and p.default is not None: bad.append(f"{name} (default {p.default!r})")
    assert len(found) >= 8, found                     # the check reaches the entry points (decoding, act, evaluate, engines, rollout)
    assert not bad, f"temperature with a numeric default: {bad}"


@pytest.fixture(scope="module")
def policy():
    from vlarl.rollout.policy import load_policy, default_policy_path
    return load_policy(default_policy_path())


def test_sampling_without_temperature_is_refused(policy):
    from vlarl.rollout.engine import generate_actions
    from vlarl.rollout.evaluate import evaluate, best_of_actions
    from vlarl.distributed.inference import TorchEngine
    from vlarl.rollout.policy import default_policy_path
    S = policy.model.config.image_size
    img, ins = np.zeros((1, S, S, 3), np.uint8), ["put the left cube in the bowl"]
    with pytest.raises(VlarlError, match="temperature"): generate_actions(policy.model, policy.batch(img, ins), greedy=False)
    with pytest.raises(VlarlError, match="temperature"): policy.act(img, ins, greedy=False)
    with pytest.raises(VlarlError, match="temperature"): best_of_actions(policy, img, ins, 2)
    with pytest.raises(VlarlError, match="temperature"): evaluate(policy, greedy=False, episodes=1)
    with pytest.raises(VlarlError, match="temperature"): evaluate(policy, best_of=2, episodes=1)
    with pytest.raises(VlarlError, match="temperature"): TorchEngine(default_policy_path()).generate(img, ins, greedy=False)
    a, s = policy.act(img, ins)                        # greedy needs none
    assert a.shape == (1, 7)


def test_greedy_default_is_the_same_wherever_act_is_claimed():
    from vlarl.rollout.policy import Policy
    from vlarl.distributed.driver import EnginePolicy
    want = inspect.signature(Policy.act).parameters["greedy"].default
    assert want is True
    assert inspect.signature(EnginePolicy.act).parameters["greedy"].default is want


def test_cli_refuses_sampling_without_temperature(capsys):
    from vlarl.cli.main import main
    assert main(["eval", "--sample"]) != 0
    assert "--temperature" in capsys.readouterr().err
