"""GPU evidence in one prepared call: the 7B-shaped LoRA PPO step, the CUDA rollout engine, the trainer's time split.

    python scripts/gpu_check.py [--out runs/gpu_check] [--dry-run] [--only SECTION,...] [--budget-s 450]

writes `OUT/gpu_check.json` (every number, the environment, each section's status) and
`OUT/gpu_check.md` (short tables of the same). Both are rewritten after every section, so a run that
is cut short still leaves the sections it finished.

Sections, in the order they run; each is timed and guarded (an exception is recorded in the JSON as
`status: "error"` with its message, the other sections still run; a section past the time budget is
stopped by an alarm and recorded the same way):

* `shapes_7b`   - the OpenVLA-7B-shaped model (Llama-2-7B LLM, DINOv2 ViT-L + SigLIP So400m at 224 px,
  the 2176 -> 8704 -> 4096 -> 4096 projector) with LoRA rank 32 on q,k,v,o,gate,up,down and the value
  head, built on the `meta` device: parameter counts per part, bf16 bytes. No memory, runs anywhere.
* `lora_ppo_7b` - the same model with random weights in bfloat16 on the GPU (LoRA adapters and value
  head in float32, as the distributed learner keeps them): build time and memory; peak GPU memory and
  time of one rollout decode of 7 action tokens for 8, 16 and 32 environments
  (`vlarl.rollout.engine.generate_actions`); one PPO step on a minibatch of 16 (`action_logprobs` +
  `ppo_losses` forward, backward, AdamW step, timed separately); the LoRA merge
  (`merged_state_dict`), the copy of the merged weights into a bf16 rollout model (`sync_weights`),
  the device-to-host copy of the merged LoRA targets (what a distributed learner ships to the
  engine) and how far the merged rollout model's log-probs are from the LoRA model's.
* `parity`      - the rollout engine on CUDA (float32 and bfloat16) against the CPU float32 reference, on
  the shipped tiny SFT policy and 16 tabletop observations: greedy token agreement, per-token and
  per-action log-prob drift of the same sampled actions, the engine-decode vs learner-recompute
  mismatch, and what the drift does to the PPO ratio at the first minibatch (ratio range, clip
  fraction) when pi_old is taken from a bf16 engine instead of being recomputed.
* `time_split`  - the single-process trainer (`vlarl.training.trainer.train_step`) on the tiny model, environments
  in CPU worker processes: median seconds of rollout / update / sync per iteration (the first
  iteration is not counted) with the learner on the CPU and on CUDA, same configuration. Should the
  trainer's CPU `torch.Generator` be refused by CUDA sampling, that error is recorded
  (`cuda_as_is_error`) and the CUDA run repeated with the sampling generator on the device.

`--dry-run` runs every section on the CPU with tiny shapes, in well under two minutes on 2 cores: the
7B step on the tiny preset of the same architecture (bf16, LoRA rank 32), the CUDA comparisons with
the CPU standing in for the GPU (recorded as `device: cpu`), the time split with one iteration of
4 steps of the `smoke` preset and its CUDA column recorded as skipped, with one torch thread.
`tests/test_gpu_check.py` runs it. Without `--dry-run` and without CUDA, the GPU sections are
recorded as `skipped: no CUDA`.

On a GPU machine without network access, next to its own PyTorch (torch is far too big to travel):
build the other packages into wheels here with `make gpu-wheels` (`scripts/gpu_wheels.py`, whose
docstring has the details), let `runs/gpu_wheels` travel with the working tree, and there run

    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site runs/gpu_wheels/*.whl
    PYTHONPATH=/tmp/site MUJOCO_GL=egl python3 scripts/gpu_check.py --out runs/gpu_check

The JSON records which torch ran (`env.torch`, `env.torch_source`: the pinned 2.13.0 or the
machine's own), the CUDA version and the device. The tabletop environments render through EGL
(`MUJOCO_GL=egl`); without it the time split records the error and the parity section falls back
to random images (recorded). The GPU numbers belong in `nbs/07g_bench.ipynb` ("GPU check").

Exit status: 0 when every section is ok or skipped, 1 when one of them failed (the files are written
either way), 2 on bad arguments.
"""
from __future__ import annotations

import argparse, gc, json, os, platform, signal, statistics, sys, time, traceback
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")             # headless rendering for the tabletop environments
os.environ.setdefault("PYOPENGL_PLATFORM", os.environ["MUJOCO_GL"])

SECTIONS = ("shapes_7b", "lora_ppo_7b", "parity", "time_split")
N_ENVS = (8, 16, 32)            # decode batch sizes
MINIBATCH = 16                  # rows of the PPO step
LORA_RANK, LORA_ALPHA = 32, 16.0
TEMPERATURE = 1.5


class Skip(Exception):
    "A section that cannot run here (recorded as `status: skipped`)."


class SectionTimeout(Exception):
    "Raised by the alarm when a section runs past the time budget."


# ----------------------------------------------------------------------------- helpers
def _torch():
    import torch
    return torch


def _cuda() -> bool:
    return _torch().cuda.is_available()


def _sync(dev):
    if dev.type == "cuda": _torch().cuda.synchronize(dev)


def _timed(fn, dev):
    "`(fn(), seconds)`, the device synchronised before and after."
    _sync(dev); t0 = time.perf_counter()
    out = fn()
    _sync(dev)
    return out, time.perf_counter() - t0


def _reset_peak(dev):
    if dev.type == "cuda": _torch().cuda.reset_peak_memory_stats(dev)


def _peak_gib(dev):
    "Peak allocated GPU memory since the last reset (GiB); None on the CPU."
    return _torch().cuda.max_memory_allocated(dev) / 2**30 if dev.type == "cuda" else None


def _alloc_gib(dev):
    return _torch().cuda.memory_allocated(dev) / 2**30 if dev.type == "cuda" else None


def _free(dev):
    gc.collect()
    if dev.type == "cuda": _torch().cuda.empty_cache()


def _random_batch(cfg, n: int, dev, seed: int) -> dict:
    "A left-padded batch of `n` OpenVLA-length prompts (BOS + 20..30 text tokens) and random pixel values."
    torch = _torch()
    from vlarl.rollout.engine import make_batch
    g = torch.Generator().manual_seed(seed)
    hi = cfg.text_vocab_size - cfg.n_action_bins
    prompts = [[cfg.bos_token_id] + torch.randint(3, hi, (int(L),), generator=g).tolist()
               for L in torch.randint(20, 31, (n,), generator=g)]
    px = torch.randn(n, 6, cfg.image_size, cfg.image_size, generator=g)
    return make_batch(prompts, px, cfg, device=dev)


def _params(m) -> int:
    return sum(p.numel() for p in m.parameters())


# ----------------------------------------------------------------------------- sections
def shapes_7b(ctx: dict) -> dict:
    "The 7B-shaped LoRA actor-critic on the meta device: parameter counts, no memory."
    torch = _torch()
    from vlarl.models.vla import VLA, VLAConfig
    from vlarl.models.value import VLAActorCritic, apply_lora, lora_layers
    cfg = VLAConfig.preset("openvla-7b")
    with torch.device("meta"):
        vla = VLA(cfg)
        base = _params(vla)
        apply_lora(vla, r=LORA_RANK, alpha=LORA_ALPHA)
        ac = VLAActorCritic(vla)
    lm = vla.language_model
    lora = sum(p.numel() for n, p in ac.named_parameters() if "lora_" in n)
    return dict(config="openvla-7b", image_size=cfg.image_size, n_patches=cfg.n_patches, llm_layers=cfg.llm_depth,
                llm_width=cfg.llm_width, vocab_size=cfg.vocab_size, lora_rank=LORA_RANK, lora_alpha=LORA_ALPHA,
                params_base=base, params_dino=_params(vla.vision_backbone.featurizer),
                params_siglip=_params(vla.vision_backbone.fused_featurizer), params_projector=_params(vla.projector),
                params_llm=sum(p.numel() for n, p in lm.named_parameters() if "lora_" not in n),
                params_lora=lora, lora_layers=len(lora_layers(vla)), params_value_head=_params(ac.value_head),
                trainable=sum(p.numel() for p in ac.parameters() if p.requires_grad),
                bf16_weights_gib=base * 2 / 2**30)


def _build_lora_actor_critic(cfg, dev, dtype):
    "A `VLAActorCritic` with random weights in `dtype` on `dev`, LoRA adapters and value head trainable in float32."
    torch = _torch()
    from vlarl.models.vla import VLA
    from vlarl.models.value import VLAActorCritic, apply_lora
    prev = torch.get_default_dtype()
    torch.set_default_dtype(dtype)            # weights are created in dtype on the device: no float32 copy anywhere
    try:
        with torch.device(dev): vla = VLA(cfg)
    finally:
        torch.set_default_dtype(prev)
    apply_lora(vla, r=LORA_RANK, alpha=LORA_ALPHA)
    ac = VLAActorCritic(vla).to(dev)
    for p in ac.parameters():                 # the optimizer's copy of the trainable weights stays float32
        if p.requires_grad and p.dtype != torch.float32: p.data = p.data.float()
    return ac


def lora_ppo_7b(ctx: dict) -> dict:
    "Memory and time of decode, PPO step and LoRA merge at the 7B shapes (tiny shapes in a dry run)."
    torch = _torch()
    from vlarl.models.vla import VLA, VLAConfig
    from vlarl.models.value import merged_state_dict, sync_weights, lora_layers
    from vlarl.rollout.engine import generate_actions, action_logprobs
    from vlarl.algorithms.ppo import ppo_losses
    dry = ctx["dry_run"]
    if not dry and not _cuda(): raise Skip("no CUDA")
    dev = torch.device("cuda" if _cuda() and not dry else "cpu")
    cfg = VLAConfig.preset("tiny" if dry else "openvla-7b")
    repeats = 1 if dry else 2
    torch.manual_seed(0)
    r = dict(config="tiny" if dry else "openvla-7b", device=dev.type, dtype="bfloat16", lora_rank=LORA_RANK,
             temperature=TEMPERATURE, repeats=repeats)
    _free(dev); _reset_peak(dev)
    ac, r["build_s"] = _timed(lambda: _build_lora_actor_critic(cfg, dev, torch.bfloat16), dev)
    r["params"] = _params(ac)
    r["trainable"] = sum(p.numel() for p in ac.parameters() if p.requires_grad)
    r["model_gib"] = _alloc_gib(dev)
    ac.eval()

    # -- rollout decode: 7 action tokens for N environments (KV cache, restricted sampling)
    if not dry: generate_actions(ac, _random_batch(cfg, 2, dev, seed=1), temperature=TEMPERATURE)   # warm-up (kernels, allocator)
    r["decode"] = {}
    for n in N_ENVS:
        b = _random_batch(cfg, n, dev, seed=n)
        _reset_peak(dev)
        times = [_timed(lambda: generate_actions(ac, b, temperature=TEMPERATURE), dev)[1] for _ in range(repeats)]
        s = statistics.median(times)
        r["decode"][str(n)] = dict(seconds=s, peak_gib=_peak_gib(dev), env_steps_per_s=n / s,
                                   prompt_len=int(b["input_ids"].shape[1]) + cfg.n_patches)
        del b
    _free(dev)

    # -- one PPO step on a minibatch: forward (log-probs, entropy, values, losses), backward, AdamW
    b = _random_batch(cfg, MINIBATCH, dev, seed=123)
    with torch.no_grad():
        s = generate_actions(ac, b, temperature=TEMPERATURE)
    ids, old_logp, old_v = s.token_ids, s.logprobs.float(), s.values.float()
    g = torch.Generator().manual_seed(0)
    adv = torch.randn(MINIBATCH, generator=g).to(dev)
    ret = old_v + 0.1 * torch.randn(MINIBATCH, generator=g).to(dev)
    trainable = [p for p in ac.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=2e-5, eps=1e-5, weight_decay=0.0)
    ac.train()

    def step():
        def fwd():
            lp, ent, v = action_logprobs(ac, b, ids, TEMPERATURE, return_entropy=True, return_values=True)
            return ppo_losses(lp, old_logp, adv, v.float(), old_v, ret, ent, clip_eps=0.2, vf_clip=0.2)
        o, t_f = _timed(fwd, dev)
        def bwd():
            opt.zero_grad(set_to_none=True)
            o["loss"].backward()
            return float(torch.nn.utils.clip_grad_norm_(trainable, 1.0))
        gn, t_b = _timed(bwd, dev)
        _, t_o = _timed(opt.step, dev)
        st = dict(forward_s=t_f, backward_s=t_b, optimizer_s=t_o, loss=float(o["loss"].detach()), grad_norm=gn,
                  ratio_min=o["ratio_min"], ratio_max=o["ratio_max"], clipfrac=o["clipfrac"])
        del o
        return st

    _reset_peak(dev)
    first = step()                                                  # also the warm-up (a dry run times only this one)
    steps = [step() for _ in range(repeats)] if not dry else [first]
    med = lambda k: statistics.median(x[k] for x in steps)
    r["train"] = dict(minibatch=MINIBATCH, forward_s=med("forward_s"), backward_s=med("backward_s"), optimizer_s=med("optimizer_s"),
                      step_s=med("forward_s") + med("backward_s") + med("optimizer_s"), peak_gib=_peak_gib(dev),
                      first_step=first, loss=steps[-1]["loss"], grad_norm=steps[-1]["grad_norm"])
    ac.eval(); opt.zero_grad(set_to_none=True)
    del opt, s
    _free(dev)

    # -- LoRA merge and weight copies (the weight sync of a distributed run)
    _reset_peak(dev)
    sd, r_merge = _timed(lambda: merged_state_dict(ac.policy), dev)
    prev = torch.get_default_dtype(); torch.set_default_dtype(torch.bfloat16)
    try:
        with torch.device(dev): rollout = VLA(cfg, init=False)
    finally:
        torch.set_default_dtype(prev)
    _, t_copy = _timed(lambda: sync_weights(rollout, sd), dev)
    keys = [f"{m}.weight" for m in lora_layers(ac.policy)]
    host, t_d2h = _timed(lambda: {k: sd[k].to("cpu") for k in keys}, dev)
    t_d2h = max(t_d2h, 1e-9)
    d2h_gib = sum(v.numel() * v.element_size() for v in host.values()) / 2**30
    all_gib = sum(v.numel() * v.element_size() for v in sd.values()) / 2**30
    del host, sd
    b2 = {k: v[:4] for k, v in b.items()}
    with torch.no_grad():
        lp_lora = action_logprobs(ac, b2, ids[:4], TEMPERATURE).float()
        lp_merged = action_logprobs(rollout, b2, ids[:4], TEMPERATURE).float()
    r["merge"] = dict(merge_s=r_merge, copy_to_rollout_model_s=t_copy, weights_gib=all_gib, copy_gib_per_s=all_gib / t_copy,
                      d2h_s=t_d2h, d2h_gib=d2h_gib, d2h_gib_per_s=d2h_gib / t_d2h, peak_gib=_peak_gib(dev),
                      merged_vs_lora_logp_max_abs=float((lp_lora - lp_merged).abs().max()))
    del rollout, ac, b, b2
    _free(dev)
    return r


def _observations(n: int):
    "`n` tabletop observations (uint8 images, instructions) over the suite's tasks and initial states; random images if rendering fails."
    import numpy as np
    try:
        from vlarl.envs.base import make_env
        env = make_env("tabletop", "spatial")
        try:
            imgs, instr = [], []
            for i in range(n):
                t = i % len(env.task_names)
                imgs.append(env.reset(t, i // len(env.task_names))["agentview_image"]); instr.append(env.instructions[t])
        finally:
            env.close()
        return np.stack(imgs), instr, "tabletop spatial"
    except SectionTimeout:
        raise
    except Exception as e:                                  # no GL here: the comparison still means something on noise
        rng = np.random.default_rng(0)
        from vlarl.envs.tabletop import SUITES
        ins = [t.instruction for t in SUITES["spatial"].tasks]
        return rng.integers(0, 256, (n, 64, 64, 3), dtype=np.uint8), [ins[i % len(ins)] for i in range(n)], f"random ({type(e).__name__}: {e})"


def _ratio_stats(new, old, seed: int = 0) -> dict:
    "PPO ratio diagnostics (`vlarl.algorithms.ppo.policy_loss`) of log-probs `new` against `old` `[B, 7]`, sequence and token level."
    torch = _torch()
    from vlarl.algorithms.ppo import policy_loss
    adv = torch.randn(new.shape[0], generator=torch.Generator().manual_seed(seed))
    out = {}
    for level in ("sequence", "token"):
        _, st = policy_loss(new.float().cpu(), old.float().cpu(), adv, clip_eps=0.2, level=level)
        out[level] = dict(ratio_min=st["ratio_min"], ratio_max=st["ratio_max"], ratio_mean=st["ratio_mean"],
                          clipfrac=st["clipfrac"], approx_kl=st["approx_kl"])
    return out


def parity(ctx: dict) -> dict:
    "The rollout engine on CUDA (fp32, bf16) against CPU fp32 on the tiny SFT policy."
    torch = _torch()
    from vlarl.rollout.policy import load_policy, default_policy_path
    from vlarl.rollout.engine import generate_actions, action_logprobs
    if not _cuda() and not ctx["dry_run"]: raise Skip("no CUDA")
    dev = torch.device("cuda" if _cuda() else "cpu")
    path = default_policy_path()
    imgs, instr, source = _observations(16)
    ref = load_policy(path, device="cpu")
    ref.model.eval()
    b = ref.batch(imgs, instr)
    with torch.no_grad():
        greedy_ref = generate_actions(ref.model, b, temperature=TEMPERATURE, greedy=True)
        sampled = generate_actions(ref.model, b, temperature=TEMPERATURE, generator=torch.Generator().manual_seed(0))
        lp_ref = action_logprobs(ref.model, b, sampled.token_ids, TEMPERATURE).float()       # the float32 learner: [B, 7]
    r = dict(device=dev.type, reference="cpu float32", rows=len(instr), images=source, temperature=TEMPERATURE)
    if dev.type == "cpu": r["note"] = "no CUDA: the CPU stands in for the GPU (same code path, float32 rows are exact by construction)"
    for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        p = load_policy(path, device=dev, dtype=dtype)
        p.model.eval()
        bd = p.batch(imgs, instr)
        with torch.no_grad():
            gd = generate_actions(p.model, bd, temperature=TEMPERATURE, greedy=True)
            lp = action_logprobs(p.model, bd, sampled.token_ids.to(dev), TEMPERATURE).float().cpu()
            lp_own = action_logprobs(p.model, bd, gd.token_ids, TEMPERATURE).float().cpu()
        same_tok = gd.token_ids.cpu() == greedy_ref.token_ids
        same_row = same_tok.all(1)
        d = (lp - lp_ref).abs()
        row = dict(greedy_token_agreement=float(same_tok.float().mean()), greedy_action_agreement=float(same_row.float().mean()),
                   logp_token_max_abs=float(d.max()), logp_token_mean_abs=float(d.mean()),
                   logp_action_max_abs=float((lp.sum(1) - lp_ref.sum(1)).abs().max()),
                   greedy_logp_max_abs=float((gd.logprobs.float().cpu() - greedy_ref.logprobs)[same_row].abs().max()) if same_row.any() else None,
                   engine_vs_learner_same_dtype_max_abs=float((gd.logprobs.float().cpu() - lp_own).abs().max()),
                   # pi_old from this engine, the float32 learner's log-probs of the same actions at the first minibatch
                   first_minibatch_vs_fp32_learner=_ratio_stats(lp_ref, lp),
                   # pi_old from this engine's decode, the learner recomputing with the same weights and dtype
                   first_minibatch_same_dtype=_ratio_stats(lp_own, gd.logprobs))
        r[name] = row
        del p
        _free(dev)
    return r


@contextmanager
def _sampling_generator_on_device(device: str):
    "Give `train_step`'s rollout a `torch.Generator` on the learner's device (same seed); the PPO shuffle keeps its CPU one."
    torch = _torch()
    import vlarl.training.trainer as trainer
    orig = trainer._generator
    def on_device(cfg, it, purpose):
        g = orig(cfg, it, purpose)
        return torch.Generator(device=device).manual_seed(g.initial_seed()) if purpose == 1 else g
    trainer._generator = on_device
    try: yield
    finally: trainer._generator = orig


def _trainer_split(cfg, iterations: int) -> dict:
    "Median seconds per phase of `train_step` (first iteration not counted), as `vlarl.distributed.bench.time_split` measures the single process."
    import numpy as np
    from vlarl.core.base import seed_everything
    from vlarl.training.trainer import TrainState, train_step, make_optimizer
    from vlarl.envs.vector import VectorEnv
    from vlarl.envs.base import split_ids
    from vlarl.rollout.evaluate import n_held_out
    from vlarl.rollout.policy import load_policy, default_policy_path
    from vlarl.models.value import VLAActorCritic
    from vlarl.algorithms.curriculum import Curriculum
    seed_everything(cfg.seed)
    pol = load_policy(default_policy_path() if cfg.policy == "default" else cfg.policy, device=cfg.device)
    ac = VLAActorCritic(pol.model).to(cfg.device)
    t0 = time.perf_counter()
    with VectorEnv(cfg.n_envs, cfg.env, cfg.suite, n_workers=cfg.n_workers) as vec:
        startup = time.perf_counter() - t0
        keys = [(t, i) for t in range(len(vec.task_names)) for i in split_ids(vec.num_init_states, n_held_out(cfg.env, vec))[0]]
        st = TrainState(cfg, pol, ac, make_optimizer(ac, cfg), Curriculum(keys, seed=cfg.seed + 1), vec)
        rows = [train_step(st) for _ in range(iterations)]
    counted = rows[1:] if len(rows) > 1 else rows
    out = {p: float(np.median([m[f"timing/{p}"] for m in counted])) for p in ("rollout", "gae", "update", "sync")}
    out["iteration"] = out["rollout"] + out["gae"] + out["update"] + out["sync"]
    out.update(env_startup_s=startup, iterations=iterations, counted=len(counted),
               first_iteration_s=sum(rows[0][f"timing/{p}"] for p in ("rollout", "gae", "update", "sync")))
    return out


def time_split(ctx: dict) -> dict:
    "The single-process trainer with the learner on the CPU and on CUDA, environments in CPU workers."
    torch = _torch()
    from vlarl.core.config import preset, TrainConfig
    if ctx["dry_run"]:
        base, iterations = preset("smoke", steps_per_update=4, critic_warmup=0, iterations=1), 1
    else:
        # the plain algorithm (TrainConfig's defaults), no critic warmup: every iteration times a PPO update
        base, iterations = TrainConfig(n_envs=16, n_workers=4, steps_per_update=32, critic_warmup=0, iterations=3), 3
    r = dict(preset="smoke" if ctx["dry_run"] else "defaults", n_envs=base.n_envs, n_workers=base.n_workers,
             steps_per_update=base.steps_per_update, minibatch_size=base.minibatch_size, iterations=iterations,
             torch_threads=torch.get_num_threads())
    for dev in ("cpu", "cuda"):
        if dev == "cuda" and not _cuda():
            r[dev] = dict(skipped="no CUDA"); continue
        cfg = TrainConfig.from_dict({**base.to_dict(), "device": dev})
        try:
            r[dev] = _trainer_split(cfg, iterations)
        except SectionTimeout:
            raise
        except Exception as e:
            r[dev] = dict(error=f"{type(e).__name__}: {e}")
            if dev == "cuda" and "generator" in str(e).lower():
                # The trainer seeds its rollout sampling with a CPU torch.Generator, which torch.multinomial refuses for CUDA
                # tensors: record that, then measure with a generator on the device so that the time split still comes back.
                r["cuda_as_is_error"] = r[dev]["error"]
                try:
                    with _sampling_generator_on_device(dev): r[dev] = _trainer_split(cfg, iterations)
                    r[dev]["workaround"] = "rollout sampling generator created on the device (vlarl.training.trainer._generator patched for this run)"
                except SectionTimeout:
                    raise
                except Exception as e2:
                    r[dev] = dict(error=f"{type(e2).__name__}: {e2}")
        _free(torch.device(dev))
    if "iteration" in r["cpu"] and "iteration" in r.get("cuda", {}):
        r["cpu_over_cuda"] = {p: r["cpu"][p] / r["cuda"][p] if r["cuda"][p] > 0 else None for p in ("rollout", "update", "iteration")}
    if "error" in r["cpu"] or "error" in r.get("cuda", {}):
        raise RuntimeError("; ".join(f"{d}: {r[d]['error']}" for d in ("cpu", "cuda") if "error" in r.get(d, {})))
    return r


RUNNERS = dict(shapes_7b=shapes_7b, lora_ppo_7b=lora_ppo_7b, parity=parity, time_split=time_split)


# ----------------------------------------------------------------------------- environment and report
def environment(dry_run: bool) -> dict:
    "What ran: Python, torch (the pinned 2.13.0 or the machine's own), CUDA, the device, the key packages."
    torch = _torch()
    from importlib import metadata
    def ver(name):
        try: return metadata.version(name)
        except metadata.PackageNotFoundError: return None
    tv = torch.__version__
    e = dict(dry_run=dry_run, started=datetime.now(timezone.utc).isoformat(timespec="seconds"), python=platform.python_version(),
             platform=platform.platform(), cpu_count=os.cpu_count(), torch_threads=torch.get_num_threads(), torch=tv, torch_file=str(Path(torch.__file__).parent),
             torch_source="pinned 2.13.0" if tv.split("+")[0] == "2.13.0" else "the machine's own",
             cuda_available=torch.cuda.is_available(), cuda_version=torch.version.cuda,
             cudnn=torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None,
             packages={p: ver(p) for p in ("vlarl", "transformers", "peft", "tokenizers", "safetensors", "mujoco", "numpy")})
    if torch.cuda.is_available():
        pr = torch.cuda.get_device_properties(0)
        e.update(device_name=pr.name, device_count=torch.cuda.device_count(), device_memory_gib=pr.total_memory / 2**30,
                 device_capability=f"{pr.major}.{pr.minor}")
    else:
        e.update(device_name=None)
    return e


def _g(x, fmt="{:.3g}"):
    return "-" if x is None else fmt.format(x)


def _md_shapes(s: dict) -> list[str]:
    L = ["## 7B shapes (meta device)", "", "| part | parameters |", "|---|---|"]
    L += [f"| {k[7:]} | {s[k]:,} |" for k in ("params_dino", "params_siglip", "params_projector", "params_llm", "params_base",
                                               "params_lora", "params_value_head")]
    return L + ["", f"bf16 weights {s['bf16_weights_gib']:.1f} GiB; LoRA rank {s['lora_rank']} on {s['lora_layers']} projections."]


def _md_lora(s: dict) -> list[str]:
    t, m = s["train"], s["merge"]
    L = [f"## LoRA PPO step: {s['config']} shapes, {s['dtype']} on {s['device']}", "",
         f"model {_g(s['model_gib'], '{:.1f}')} GiB, built in {s['build_s']:.1f} s; {s['params']:,} parameters, {s['trainable']:,} trainable", "",
         "| what | rows | seconds | peak GiB |", "|---|---|---|---|"]
    L += [f"| decode 7 action tokens | {n} | {d['seconds']:.3f} | {_g(d['peak_gib'], '{:.1f}')} |" for n, d in s["decode"].items()]
    L += [f"| PPO forward (log-probs, entropy, values, losses) | {t['minibatch']} | {t['forward_s']:.3f} | {_g(t['peak_gib'], '{:.1f}')} |",
          f"| PPO backward | {t['minibatch']} | {t['backward_s']:.3f} | |",
          f"| AdamW step | {t['minibatch']} | {t['optimizer_s']:.3f} | |",
          f"| LoRA merge (`merged_state_dict`) | | {m['merge_s']:.3f} | {_g(m['peak_gib'], '{:.1f}')} |",
          f"| copy into the rollout model ({m['weights_gib']:.2f} GiB) | | {m['copy_to_rollout_model_s']:.3f} | |",
          f"| device to host, merged LoRA targets ({m['d2h_gib']:.2f} GiB) | | {m['d2h_s']:.3f} | |"]
    return L + ["", f"merged rollout model vs LoRA model: max abs log-prob difference {m['merged_vs_lora_logp_max_abs']:.2e}"]


def _md_parity(s: dict) -> list[str]:
    L = [f"## Rollout engine on {s['device']} vs {s['reference']} (tiny SFT policy, {s['rows']} observations)", "",
         "| dtype | greedy tokens equal | max abs d log p, token | per action | engine vs learner, same dtype | "
         "ratio vs fp32 learner (sequence) | clip fraction |", "|---|---|---|---|---|---|---|"]
    for name in ("float32", "bfloat16"):
        d = s[name]; q = d["first_minibatch_vs_fp32_learner"]["sequence"]
        L.append(f"| {name} | {d['greedy_token_agreement']:.3f} | {d['logp_token_max_abs']:.2e} | {d['logp_action_max_abs']:.2e} | "
                 f"{d['engine_vs_learner_same_dtype_max_abs']:.2e} | {q['ratio_min']:.4f} .. {q['ratio_max']:.4f} | {q['clipfrac']:.3f} |")
    return L + ["", f"images: {s['images']}" + (f"; {s['note']}" if s.get("note") else "")]


def _md_split(s: dict) -> list[str]:
    cu = s.get("cuda", {})
    L = [f"## Trainer time split: single process, `{s['preset']}` config, {s['n_envs']} envs in {s['n_workers']} CPU worker(s), "
         f"{s['steps_per_update']} steps per iteration, " + (f"median of iterations 2..{s['iterations']}" if s["iterations"] > 1 else "one iteration"), "",
         "| phase (s) | learner on CPU | learner on CUDA |", "|---|---|---|"]
    return L + [f"| {p} | {s['cpu'][p]:.3f} | " + (f"{cu[p]:.3f} |" if p in cu else f"{cu.get('skipped', cu.get('error', '-'))} |")
                for p in ("rollout", "gae", "update", "sync", "iteration")]


RENDER = dict(shapes_7b=_md_shapes, lora_ppo_7b=_md_lora, parity=_md_parity, time_split=_md_split)


def markdown(res: dict) -> str:
    "Short tables of the result (a section that cannot be rendered gets a line saying so; the JSON has it all)."
    e, S = res["env"], res["sections"]
    L = [f"# GPU check{' (dry run: tiny shapes on the CPU)' if e['dry_run'] else ''}", "",
         f"{e.get('device_name') or 'no CUDA device'}; torch {e['torch']} ({e['torch_source']}), CUDA {e['cuda_version'] or '-'}; "
         f"Python {e['python']}; {e['started']}", "", "| section | status | seconds |", "|---|---|---|"]
    for k, s in S.items():
        st = s["status"] + (f": {s.get('reason') or s.get('error', '')}" if s["status"] != "ok" else "")
        L.append(f"| {k} | {st.replace('|', '/').splitlines()[0][:160]} | {s['seconds']:.1f} |")
    for k, s in S.items():
        if s["status"] != "ok" or k not in RENDER: continue
        try: L += [""] + RENDER[k](s)
        except Exception as err: L += ["", f"## {k}", "", f"(not rendered: {type(err).__name__}: {err}; see the JSON)"]
    return "\n".join(L + ["", f"total {res['total_s']:.1f} s"]) + "\n"


def _write(res: dict, out: Path):
    out.mkdir(parents=True, exist_ok=True)
    for name, text in (("gpu_check.json", json.dumps(res, indent=1, default=str) + "\n"), ("gpu_check.md", markdown(res))):
        tmp = out / f".{name}.tmp"
        tmp.write_text(text); os.replace(tmp, out / name)


def _on_alarm(signum, frame):
    raise SectionTimeout("the time budget ran out during this section")


def _run_section(name: str, ctx: dict, seconds: float) -> dict:
    "One section under an alarm of `seconds`: its record with `status` ok, skipped or error."
    has_alarm = hasattr(signal, "SIGALRM")
    if has_alarm: signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return dict(status="ok", **RUNNERS[name](ctx))
    except Skip as e:
        return dict(status="skipped", reason=str(e))
    except Exception as e:                              # one failure (OOM, timeout, missing GL) must not cost the other sections
        return dict(status="error", error=f"{type(e).__name__}: {e}"[:2000], traceback=traceback.format_exc(limit=8)[-4000:])
    finally:
        if has_alarm: signal.setitimer(signal.ITIMER_REAL, 0)


def run(out: Path, dry_run: bool, only: list[str], budget_s: float) -> dict:
    "Run the sections, writing the JSON and the Markdown after each one."
    res = dict(env=environment(dry_run), sections={}, total_s=0.0)
    t_start = time.perf_counter()                          # the budget counts from the first section
    ctx = dict(dry_run=dry_run)
    previous = signal.signal(signal.SIGALRM, _on_alarm) if hasattr(signal, "SIGALRM") else None
    try:
        for name in only:
            left = budget_s - (time.perf_counter() - t_start)
            t0, c0 = time.perf_counter(), time.process_time()
            if left < 1:
                rec = dict(status="skipped", reason=f"time budget of {budget_s:.0f} s used up")
            else:
                print(f"gpu_check: {name} ...", file=sys.stderr, flush=True)
                rec = _run_section(name, ctx, left)
                try: _free(_torch().device("cuda" if _cuda() else "cpu"))
                except Exception: pass
            rec["seconds"] = time.perf_counter() - t0
            rec["cpu_s"] = time.process_time() - c0        # this process's CPU time (on a busy machine, seconds >> cpu_s / threads)
            res["sections"][name] = rec
            res["total_s"] = time.perf_counter() - t_start
            print(f"gpu_check: {name}: {rec['status']} ({rec['seconds']:.1f} s)" + (f" {rec.get('error', '')}" if rec["status"] == "error" else ""),
                  file=sys.stderr, flush=True)
            _write(res, out)
    finally:
        if previous is not None: signal.signal(signal.SIGALRM, previous)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="GPU evidence in one call: 7B-shaped LoRA PPO step, CUDA rollout parity, trainer time split.")
    ap.add_argument("--out", default="runs/gpu_check", help="folder for gpu_check.json and gpu_check.md")
    ap.add_argument("--dry-run", action="store_true", help="tiny shapes on the CPU (what the tests run)")
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated sections to run (default all: {','.join(SECTIONS)})")
    ap.add_argument("--budget-s", type=float, default=450.0, help="wall-clock budget of all sections; a section past it is stopped and recorded")
    a = ap.parse_args(argv)
    only = [s.strip() for s in a.only.split(",") if s.strip()]
    bad = [s for s in only if s not in SECTIONS]
    if bad or not only:
        print(f"gpu_check: unknown section(s) {', '.join(bad) or '(none given)'}; choose from {', '.join(SECTIONS)}", file=sys.stderr)
        return 2
    if a.dry_run:       # tiny shapes gain nothing from more threads, and on a busy 2-core machine spinning threads cost 3x
        _torch().set_num_threads(1)
    res = run(Path(a.out), a.dry_run, only, a.budget_s)
    out = Path(a.out)
    print(markdown(res))
    print(f"gpu_check: wrote {out / 'gpu_check.json'} and {out / 'gpu_check.md'} in {res['total_s']:.1f} s", file=sys.stderr)
    return 1 if any(s["status"] == "error" for s in res["sections"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
