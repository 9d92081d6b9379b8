"""`scripts/gpu_check.py`, the one-call GPU evidence, checked by its `--dry-run` (tiny shapes on the CPU):

* the dry run exits 0 and writes `gpu_check.json` and `gpu_check.md`; every section is there with
  finite, positive numbers, or with a recorded skip (the CUDA column of the time split here);
* the 7B shapes built on the meta device have the real counts: Llama-2-7B with the padded vocabulary,
  the 2176 -> 8704 -> 4096 -> 4096 projector, LoRA rank 32 on q,k,v,o,gate,up,down of 32 layers;
* the bf16 drift of the rollout engine is non-zero, finite and small, float32 is exact, the PPO
  ratio range it implies contains 1;
* a failing, a skipped and an overrunning section are recorded while the others still run (in-process,
  with stand-in sections), and an unknown section name is one error line with exit status 2.

The GPU numbers themselves come from `make gpu-check` on a GPU machine, not from here.
"""
import importlib.util, json, math, os, subprocess, sys, time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "gpu_check.py"
SECTIONS = ("shapes_7b", "lora_ppo_7b", "parity", "time_split")


def _env():
    return {**os.environ, "MUJOCO_GL": os.environ.get("MUJOCO_GL", "egl"), "PYOPENGL_PLATFORM": os.environ.get("PYOPENGL_PLATFORM", "egl"),
            "PYTHONHASHSEED": "0"}


def pos(x, name=""):
    "A finite number > 0."
    assert isinstance(x, (int, float)) and not isinstance(x, bool), f"{name}: {x!r} is not a number"
    assert math.isfinite(x) and x > 0, f"{name}: {x!r} is not finite and positive"
    return x


def finite(x, name=""):
    assert isinstance(x, (int, float)) and math.isfinite(x), f"{name}: {x!r} is not a finite number"
    return x


@pytest.fixture(scope="module")
def dry(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu_check")
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, str(SCRIPT), "--dry-run", "--out", str(out), "--budget-s", "240"], cwd=ROOT, env=_env(),
                       capture_output=True, text=True, timeout=300)
    wall = time.perf_counter() - t0
    assert p.returncode == 0, f"exit {p.returncode}\n{p.stderr[-4000:]}"
    res = json.loads((out / "gpu_check.json").read_text())
    return dict(res=res, md=(out / "gpu_check.md").read_text(), wall=wall, stdout=p.stdout)


def test_every_section_ran(dry):
    res = dry["res"]
    assert list(res["sections"]) == list(SECTIONS)
    for k, s in res["sections"].items():
        assert s["status"] == "ok", f"{k}: {s.get('error') or s.get('reason')}"
        pos(s["seconds"], f"{k}.seconds")
    pos(res["total_s"], "total_s")
    e = res["env"]
    assert e["dry_run"] is True and e["torch"] and e["python"] and e["torch_threads"] == 1
    assert e["torch_source"] in ("pinned 2.13.0", "the machine's own")
    assert e["packages"]["transformers"] and e["packages"]["peft"]


def test_7b_shapes_are_openvla(dry):
    s = dry["res"]["sections"]["shapes_7b"]
    L, d, f, V, r = 32, 4096, 11008, 32064, 32
    assert s["params_llm"] == 2 * V * d + L * (4 * d * d + 3 * d * f + 2 * d) + d          # Llama-2-7B, vocab padded to 32064
    assert s["params_projector"] == (2176 * 8704 + 8704) + (8704 * 4096 + 4096) + (4096 * 4096 + 4096)
    assert s["params_lora"] == L * r * (4 * (d + d) + 2 * (d + f) + (f + d))              # 79,953,920
    assert s["lora_layers"] == 7 * L
    assert s["params_value_head"] == d + 1
    assert s["trainable"] == s["params_lora"] + s["params_value_head"]
    assert s["params_base"] == s["params_dino"] + s["params_siglip"] + s["params_projector"] + s["params_llm"]
    assert 7.4e9 < s["params_base"] < 7.6e9
    assert s["n_patches"] == 256 and s["image_size"] == 224


def test_lora_ppo_step_numbers(dry):
    s = dry["res"]["sections"]["lora_ppo_7b"]
    assert s["device"] == "cpu" and s["config"] == "tiny" and s["dtype"] == "bfloat16"
    assert 0 < s["trainable"] < s["params"]
    assert sorted(s["decode"], key=int) == ["8", "16", "32"]
    for n, d in s["decode"].items():
        pos(d["seconds"], f"decode[{n}]"); pos(d["env_steps_per_s"], f"decode[{n}]")
        assert d["peak_gib"] is None                                    # no GPU memory on the CPU
    t = s["train"]
    assert t["minibatch"] == 16
    for k in ("forward_s", "backward_s", "optimizer_s", "step_s", "grad_norm"): pos(t[k], f"train.{k}")
    finite(t["loss"], "train.loss")
    first = t["first_step"]                                            # rollout log-probs (KV-cache decode) vs the training forward
    assert 0.9 < first["ratio_min"] <= first["ratio_max"] < 1.1, first
    m = s["merge"]
    for k in ("merge_s", "copy_to_rollout_model_s", "weights_gib", "d2h_s", "d2h_gib"): pos(m[k], f"merge.{k}")
    assert 0 <= finite(m["merged_vs_lora_logp_max_abs"]) < 0.05        # the merged rollout model acts like the LoRA model


def test_parity_numbers(dry):
    s = dry["res"]["sections"]["parity"]
    assert s["rows"] == 16 and s["device"] == "cpu"
    f32, b16 = s["float32"], s["bfloat16"]
    assert f32["greedy_token_agreement"] == 1.0                        # the CPU stands in for the GPU: float32 is exact
    assert f32["logp_token_max_abs"] < 1e-5 and f32["engine_vs_learner_same_dtype_max_abs"] < 1e-4
    assert 0 < pos(b16["logp_token_max_abs"]) < 1.0                     # bf16 drifts, a little
    assert b16["logp_token_mean_abs"] <= b16["logp_token_max_abs"]
    assert 0.5 <= b16["greedy_token_agreement"] <= 1.0
    for row in (f32, b16):
        for level in ("sequence", "token"):
            q = row["first_minibatch_vs_fp32_learner"][level]
            assert pos(q["ratio_min"]) <= 1.0 + 1e-6 and pos(q["ratio_max"]) >= 1.0 - 1e-6, q
            assert 0.0 <= q["clipfrac"] <= 1.0


def test_time_split_numbers(dry):
    import torch
    s = dry["res"]["sections"]["time_split"]
    assert s["preset"] == "smoke" and s["iterations"] == 1 and s["cpu"]["counted"] == 1
    for k in ("rollout", "update", "iteration", "env_startup_s", "first_iteration_s"): pos(s["cpu"][k], f"cpu.{k}")
    assert s["cpu"]["iteration"] >= s["cpu"]["rollout"] + s["cpu"]["update"]
    if not torch.cuda.is_available(): assert s["cuda"] == {"skipped": "no CUDA"}
    else: pos(s["cuda"]["iteration"], "cuda.iteration")


def test_markdown_table(dry):
    md = dry["md"]
    assert md.startswith("# GPU check (dry run")
    assert "| section | status | seconds |" in md
    for k in SECTIONS: assert f"| {k} | ok |" in md
    for title in ("## 7B shapes", "## LoRA PPO step", "## Rollout engine", "## Trainer time split"): assert title in md
    assert "| decode 7 action tokens | 32 |" in md and "| update |" in md
    assert "| section | status | seconds |" in dry["stdout"]            # also printed


def _load_module():
    spec = importlib.util.spec_from_file_location("gpu_check_under_test", SCRIPT)
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod


def test_failures_are_recorded_and_the_rest_runs(tmp_path, monkeypatch):
    mod = _load_module()
    def boom(ctx): raise RuntimeError("out of memory (stand-in)")
    def skip(ctx): raise mod.Skip("no CUDA")
    def slow(ctx): time.sleep(30); return {"never": 1.0}
    def fine(ctx): return {"value": 2.5}
    monkeypatch.setattr(mod, "RUNNERS", dict(shapes_7b=boom, lora_ppo_7b=skip, parity=slow, time_split=fine))
    t0 = time.perf_counter()
    res = mod.run(tmp_path, dry_run=False, only=list(SECTIONS), budget_s=3.0)
    assert time.perf_counter() - t0 < 20                               # the overrunning section was stopped
    S = res["sections"]
    assert S["shapes_7b"]["status"] == "error" and "out of memory" in S["shapes_7b"]["error"]
    assert S["lora_ppo_7b"]["status"] == "skipped" and S["lora_ppo_7b"]["reason"] == "no CUDA"
    assert S["parity"]["status"] == "error" and "SectionTimeout" in S["parity"]["error"]
    assert S["time_split"]["status"] == "skipped" and "budget" in S["time_split"]["reason"]
    on_disk = json.loads((tmp_path / "gpu_check.json").read_text())
    assert on_disk["sections"].keys() == S.keys()
    md = (tmp_path / "gpu_check.md").read_text()
    assert "| shapes_7b | error: RuntimeError: out of memory (stand-in) |" in md and "| lora_ppo_7b | skipped: no CUDA |" in md
    monkeypatch.setattr(mod, "RUNNERS", dict(shapes_7b=boom, lora_ppo_7b=fine, parity=fine, time_split=fine))
    assert mod.main(["--out", str(tmp_path / "b"), "--only", "shapes_7b,parity"]) == 1          # a failed section: exit 1
    assert mod.main(["--out", str(tmp_path / "c"), "--only", "parity"]) == 0


def test_unknown_section_is_one_line():
    p = subprocess.run([sys.executable, str(SCRIPT), "--only", "shapes_7b,nope"], cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == ["gpu_check: unknown section(s) nope; choose from shapes_7b, lora_ppo_7b, parity, time_split"]
