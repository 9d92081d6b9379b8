"""The distributed layer in several processes (what a notebook cell cannot hold):

* FSDP2 with two gloo ranks (torch.multiprocessing, no Ray): after one PPO step both ranks hold the
  same parameters, and parameters, gradient norm and losses match a single process that takes the
  whole batch (each rank has half of it);
* `dry_run` on a local Ray (`num_cpus=2`): 2 FSDP2 learners, 2 env workers, the inference engine,
  one full iteration, merged LoRA weights in the engine, the engine's log-probs changed;
* faults: an env worker killed mid-rollout is restarted and the iteration completes; a killed
  learner or engine ends the run with a `VlarlError` naming it, without hanging, and the last
  checkpoint stays loadable; a frozen (SIGSTOP) engine ends the run after `timeout_s`.

Every Ray test shares one local Ray session (module fixture), shut down at the end; the fixture then
checks that no process of that session is left.
"""
import io, os, shutil, signal, time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from vlarl.core.base import VlarlError
from vlarl.core.config import TrainConfig
from vlarl.distributed.config import DistConfig
from vlarl.distributed.driver import DistTrainer, dry_run
from vlarl.distributed.learner import Learner, free_port, shard_from_arrays
from vlarl.distributed.actors import start_ray, stop_ray, session_processes
from vlarl.rollout.policy import default_policy_path, load_policy

INSTR = ["put the red cube in the bowl", "put the blue cube on the plate"]


# ----------------------------------------------------------------------------- FSDP2, 2 ranks
def _shard(cols):
    "Steps of 2 envs x 4 steps (env 0: a truncation at t=1 with its final image; env 1: a success at t=2), restricted to `cols`."
    rng = np.random.default_rng(0)
    M, n = 4, 2
    images = rng.integers(0, 256, (M, n, 64, 64, 3), dtype=np.uint8)
    tasks = np.array([[0, 1]] * M)
    term, trunc = np.zeros((M, n), bool), np.zeros((M, n), bool)
    trunc[1, 0], term[2, 1] = True, True
    rewards = np.zeros((M, n), np.float32); rewards[2, 1] = 1.0
    last = rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8)
    final = rng.integers(0, 256, (1, 64, 64, 3), dtype=np.uint8)
    ids = rng.integers(768, 1024, (M, n, 7))
    c = list(cols)
    fidx = np.array([(1, c.index(0))]) if 0 in c else np.zeros((0, 2), np.int64)
    return shard_from_arrays(images[:, c], INSTR, tasks[:, c], ids[:, c], np.zeros((M, len(c), 7)), rewards[:, c], term[:, c], trunc[:, c],
                              final_index=fidx, final_images=final if 0 in c else final[:0], last_images=last[c], last_tasks=tasks[-1, c])


def _rank_main(rank, world, port, out):
    torch.set_num_threads(1)
    cfg = TrainConfig(minibatch_size=8, ppo_epochs=1, lr=1e-3, critic_lr=1e-3, seed=0)
    ln = Learner(rank, world, default_policy_path(), cfg.to_dict(), DistConfig(learners=world).to_dict())
    ln.setup("127.0.0.1", port)
    m = ln.update(_shard([rank] if world == 2 else [0, 1]), iteration=0)
    from torch.distributed.checkpoint.state_dict import get_model_state_dict, StateDictOptions
    full = get_model_state_dict(ln.net, options=StateDictOptions(full_state_dict=True))          # on every rank
    flat = [p for g in ln.opt.param_groups for p in g["params"]]          # the same order in every process
    grads = {i: p.grad.full_tensor().clone() for i, p in enumerate(flat) if p.grad is not None}
    buf = io.BytesIO()
    torch.save(dict(metrics=m, params={k: v.detach().cpu().clone() for k, v in full.items()}, grads=grads), buf)
    Path(out).write_bytes(buf.getvalue())
    ln.close()


def _spawn(world, tmp_path, tag):
    ctx = mp.get_context("spawn")
    port = free_port()
    outs = [tmp_path / f"{tag}_{r}.pt" for r in range(world)]
    ps = [ctx.Process(target=_rank_main, args=(r, world, port, str(outs[r]))) for r in range(world)]
    for p in ps: p.start()
    for p in ps: p.join(timeout=900)           # generous: a loaded CI machine can starve these processes
    for p in ps:
        if p.is_alive(): p.kill(); p.join()
    assert all(p.exitcode == 0 for p in ps), [p.exitcode for p in ps]
    return [torch.load(o, weights_only=False) for o in outs]


def test_fsdp2_two_ranks_match_single_process(tmp_path):
    two = _spawn(2, tmp_path, "two")
    one = _spawn(1, tmp_path, "one")[0]
    a, b = two
    # identical parameters on both ranks after the optimizer step
    assert set(a["params"]) == set(b["params"])
    assert max((a["params"][k] - b["params"][k]).abs().max().item() for k in a["params"]) == 0.0
    # ... and equal to the single process that took the whole batch
    assert max((a["params"][k] - one["params"][k]).abs().max().item() for k in one["params"]) < 1e-5
    # gradient: mean over each half, averaged over ranks == mean over the whole batch
    assert abs(a["metrics"]["losses/grad_norm"] - one["metrics"]["losses/grad_norm"]) < 1e-3 * one["metrics"]["losses/grad_norm"]
    assert max((a["grads"][k] - one["grads"][k]).abs().max().item() for k in one["grads"]) < 1e-5
    # loss parity: the ranks' losses (each over half the rows) average to the full-batch loss
    for k in ("losses/value", "losses/policy", "losses/entropy"):
        assert abs((a["metrics"][k] + b["metrics"][k]) / 2 - one["metrics"][k]) < 1e-4, k
    assert a["metrics"]["learner/rows"] == 4 and one["metrics"]["learner/rows"] == 8
    assert abs(a["metrics"]["losses/ratio_mean"] - 1.0) < 1e-6          # pi_old recomputed with the synced weights


# ----------------------------------------------------------------------------- Ray
@pytest.fixture(scope="module")
def ray_session():
    temp = f"/tmp/vlarl-ray-test-{os.getpid()}"
    os.environ.setdefault("MUJOCO_GL", "egl")
    started = start_ray(DistConfig(num_cpus=2, temp_dir=temp))
    assert started, "a Ray session was already running in the test process"
    try: yield temp
    finally:
        killed = stop_ray(temp, wait_s=30)          # SIGKILLs what is left of this session after 30 s (e.g. a worker Ray was still starting)
        if killed: print(f"ray session teardown: killed leftover processes {killed}")
        time.sleep(1)
        left = session_processes(temp)
        shutil.rmtree(temp, ignore_errors=True)
        assert not left, f"processes of the Ray session still running: {left}"


def _kill(trainer, handle):
    "SIGKILL the process behind an actor handle (as the OOM killer would)."
    info = trainer._wait([handle.info.remote()], ["actor"], "info")[0]
    os.kill(info["pid"], signal.SIGKILL)
    return info["pid"]


def test_dry_run_two_learners(ray_session):
    t0 = time.perf_counter()
    r = dry_run(DistConfig(lora_rank=4, lora_alpha=8.0, env_max_steps=3, timeout_s=120, startup_timeout_s=300))
    c, m = r["checks"], r["metrics"]
    print(f"dry run: {time.perf_counter() - t0:.1f} s (startup {c['startup_seconds']:.1f} s), timings",
          {k: round(v, 2) for k, v in m.items() if k.startswith("timing/")})
    assert c["engine_matches_learner"] < 1e-6          # the engine holds rank 0's merged weights
    assert c["merged_moved"] > 0                        # ... which are not the SFT weights (LoRA merged, not dropped)
    assert c["logp_change"] > 1e-4                      # the engine's log-probs of fixed actions changed
    assert c["logp_mismatch"] < 1e-4                    # learners' pi_old == the engine's log-probs of the rollout
    assert m["learner/rows"] == 4 * 4 and m["learner/valid_rows"] == 16
    assert m["charts/synced_tensors"] == 14 and m["step"] == 1
    assert m["rollout/episodes"] >= 4                   # episode limit 3, 4 steps: every env truncated once
    assert np.isfinite(m["losses/policy"]) and np.isfinite(m["losses/value"])


def test_env_worker_killed_mid_rollout_then_learner_killed(ray_session, tmp_path):
    d = DistConfig(env_max_steps=3, timeout_s=60, startup_timeout_s=300, max_env_restarts=2)
    cfg = TrainConfig(steps_per_update=5, critic_warmup=0, minibatch_size=4, ppo_epochs=1, lr=1e-3, critic_lr=1e-3, seed=0, keep_checkpoints=2)
    killed = []
    def kill_env_at_step_2(tr, t):
        if t == 2 and not killed: killed.append(_kill(tr, tr.envs[0]))
    with DistTrainer(cfg, d) as tr:
        m = tr.train_step(on_step=kill_env_at_step_2)
        assert killed and m["charts/env_restarts"] == 1 and tr.events[0]["worker"] == 0
        assert tr.events[0]["event"] == "env_worker_restart" and "rollout step 2" in tr.events[0]["during"]
        assert m["rollout/discarded_steps"] >= 2 * 1         # env worker 0's 2 envs lost at least their step 2
        assert m["learner/valid_rows"] == 20 - m["rollout/discarded_steps"]
        assert np.isfinite(m["losses/policy"]) and m["step"] == 1
        new_pid = tr._wait([tr.envs[0].info.remote()], ["env worker 0"], "info")[0]["pid"]
        assert new_pid != killed[0]
        ck = tr.save_checkpoint(tmp_path / "run")
        before = load_policy(ck / "policy").model.state_dict()
        # a learner dies: the next iteration stops with an error that names it, without hanging
        _kill(tr, tr.learners[1])
        t0 = time.perf_counter()
        with pytest.raises(VlarlError, match="learner 1 died during PPO update") as e:
            tr.train_step()
        assert time.perf_counter() - t0 < 60
        assert str(ck) in str(e.value)
    after = load_policy(ck / "policy").model.state_dict()                  # the checkpoint is intact and loadable
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert (ck / "value_head.safetensors").exists() and (ck / "state.json").exists()


def test_hung_engine_times_out_then_dead_engine_stops_run(ray_session):
    d = DistConfig(learners=1, envs_per_learner=1, env_max_steps=3, timeout_s=8, startup_timeout_s=300)
    cfg = TrainConfig(steps_per_update=3, critic_warmup=0, minibatch_size=2, seed=0)
    with DistTrainer(cfg, d) as tr:
        pid = tr._wait([tr.engine.info.remote()], ["inference engine"], "info", 60)[0]["pid"]
        os.kill(pid, signal.SIGSTOP)                       # alive but silent: the driver must not wait forever
        t0 = time.perf_counter()
        try:
            with pytest.raises(VlarlError, match="inference engine did not answer within 8 s during rollout step 0"):
                tr.train_step()
            assert time.perf_counter() - t0 < 30
        finally: os.kill(pid, signal.SIGCONT)
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(VlarlError, match="inference engine died during rollout step 0; the run stops"):
            tr.train_step()


def test_vllm_missing_is_one_clear_error():
    pytest.importorskip("vlarl.distributed.vllm_engine")
    try:
        import vllm  # noqa: F401
        pytest.skip("vLLM is installed here")
    except ImportError: pass
    from vlarl.distributed.vllm_engine import VLLMEngine
    with pytest.raises(VlarlError, match=r"vLLM is not installed: pip install 'vlarl\[vllm\]'"):
        VLLMEngine(default_policy_path())


def test_learner_killed_then_resume_matches_uninterrupted(ray_session, tmp_path):
    "A learner dies after the checkpoint of iteration 1: the run stops naming it; `resume=True` continues to the end, and the result equals a run that never stopped."
    from vlarl.distributed.driver import train_distributed
    from vlarl.training.lifecycle import latest_checkpoint
    d = DistConfig(lora_rank=4, lora_alpha=8.0, env_max_steps=3, timeout_s=60, startup_timeout_s=300)
    cfg = TrainConfig(steps_per_update=3, iterations=2, critic_warmup=0, minibatch_size=4, ppo_epochs=1, lr=1e-3, critic_lr=1e-3,
                      seed=0, save_every=1, eval_every=0, eval_episodes=4, gif_episodes=0)   # held-out evaluation at the end only
    ref = train_distributed(cfg, d, tmp_path / "ref", progress=False)
    def kill_learner_1(tr, m):
        if tr.iteration == 1: _kill(tr, tr.learners[1])
    run = tmp_path / "run"
    t0 = time.perf_counter()
    with pytest.raises(VlarlError, match="learner 1 died during PPO update .*--resume.*iter_000001"):
        train_distributed(cfg, d, run, progress=False, on_iteration=kill_learner_1)
    assert time.perf_counter() - t0 < 240
    assert latest_checkpoint(run).name == "iter_000001"
    rows = train_distributed(cfg, d, run, resume=True, progress=False)
    assert [r["step"] for r in rows] == [1, 2]
    assert "eval/success_rate" in rows[-1] and "eval/success_rate" not in rows[0]
    skip = lambda r: {k: v for k, v in r.items() if not k.startswith("timing/")}
    for a, b in zip(rows, ref):              # two gloo ranks: the same numbers up to reduction order
        for k in skip(a):
            assert (np.isnan(a[k]) and np.isnan(b[k])) or abs(a[k] - b[k]) <= 1e-5 * max(1.0, abs(b[k])), (k, a[k], b[k])
    sa, sb = (torch.load(x / "checkpoints/iter_000002/train_state.pt", weights_only=True) for x in (run, tmp_path / "ref"))
    assert max((sa["trainable"][k] - sb["trainable"][k]).abs().max().item() for k in sb["trainable"]) < 1e-6
