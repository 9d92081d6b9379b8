#!/usr/bin/env python
"""Diagnose a cloned starting policy next to another one (06d_sft's diagnosis), into one JSON file.

    python scripts/sft_diagnosis.py --new runs/sft-spatial --old OLD_POLICY_DIR --out nbs/tutorials/data/sft/diagnosis.json

For each policy: the feature probe (06c_pretrain `feature_probe`: how well a ridge probe on the policy's features
locates the gripper and the named cube, cm RMSE, on fresh layouts no run ever saw), greedy success on the training
states, sampled success at T = 1.0 on the held-out states, and the failure analysis (04b) greedy and at T = 1.0. For
the new run, also the privileged upper bound: the same labels cloned from simulator state (`clone_from_state`,
`state_success`). Held-out greedy success comes from the run's own `eval.json` (made by `vlarl sft`)."""
import argparse, json, sys, time
from pathlib import Path

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--new", required=True, help="run folder of `vlarl sft` (holds policy/, frames.npz, eval.json)")
    ap.add_argument("--old", required=True, help="policy folder to compare with")
    ap.add_argument("--out", required=True, help="JSON file to write")
    ap.add_argument("--episodes", type=int, default=250, help="episodes per success measurement")
    ap.add_argument("--failure-episodes", type=int, default=100, help="episodes per failure-analysis setting")
    ap.add_argument("--towers-only", action="store_true", help="only add the towers' scene error to an existing --out file")
    a = ap.parse_args(argv)
    if a.towers_only:
        out = json.loads(Path(a.out).read_text())
        out["towers"] = towers(Path(a.new))
        from vlarl.core.base import atomic_write_text
        atomic_write_text(Path(a.out), json.dumps(out, indent=1, default=float) + "\n")
        print("towers", out["towers"]); return 0
    import vlarl.envs.tabletop                       # noqa: F401  (sets up the GL backend before mujoco loads)
    import numpy as np
    from vlarl.core.base import atomic_write_text
    from vlarl.rollout.policy import load_policy, env_settings
    from vlarl.rollout.evaluate import evaluate, failure_analysis
    from vlarl.training.pretrain import FrameData, collect_frames, feature_probe, clone_from_state, state_success
    new_dir = Path(a.new)
    t0, out = time.time(), dict(made_by="scripts/sft_diagnosis.py", suite="spatial", policies={})
    run_eval = json.loads((new_dir / "eval.json").read_text())
    for name, folder in (("new", new_dir / "policy"), ("old", Path(a.old))):
        pol = load_policy(folder)
        view = env_settings(pol, "tabletop").get("view", "wide")
        probe_frames = collect_frames("spatial", 60, view=view, poses=0, first_layout=5000, progress=True, seed=1)
        row = dict(folder=str(folder), view=view, meta={k: pol.meta.get(k) for k in ("demos_per_task", "epochs", "pretrain_steps",
                                                                                   "ground_weight", "shift", "train_seconds")})
        row["probe"] = feature_probe(pol, probe_frames, n_frames=2000)
        ev = run_eval if name == "new" else evaluate(pol, "tabletop", "spatial", episodes=a.episodes).to_dict()
        row["heldout_greedy"] = dict(success_rate=ev["success_rate"], ci=list(ev["ci"]), episodes=ev["episodes"])
        tr = evaluate(pol, "tabletop", "spatial", split="train", episodes=min(a.episodes, 150))
        row["train_greedy"] = dict(success_rate=tr.success_rate, ci=list(tr.ci), episodes=tr.episodes)
        t1 = evaluate(pol, "tabletop", "spatial", episodes=a.episodes, greedy=False, temperature=1.0)
        row["heldout_t1"] = dict(success_rate=t1.success_rate, ci=list(t1.ci), episodes=t1.episodes)
        fa = failure_analysis(pol, "spatial", episodes=a.failure_episodes, temperatures=(None, 1.0))
        for s in fa["settings"].values(): s.pop("records")
        row["failures"] = fa
        out["policies"][name] = row
        print(name, json.dumps({k: row[k] for k in ("probe", "heldout_greedy", "train_greedy", "heldout_t1")}, default=float), flush=True)
    frames = FrameData.load(new_dir / "frames.npz")
    net, hist = clone_from_state(frames, steps=15000, hidden=512, batch_size=512)
    out["state_upper_bound"] = dict(final_mse=float(np.mean(hist[-100:])), steps=15000, hidden=512, batch_size=512,
                                    heldout=state_success(net, "spatial", episodes=a.episodes),
                                    train=state_success(net, "spatial", episodes=min(a.episodes, 150), split="train"))
    print("state upper bound", out["state_upper_bound"], flush=True)
    out["seconds"] = round(time.time() - t0, 1)
    out["towers"] = towers(new_dir)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    print(f"-> {a.out} ({out['seconds']:.0f} s)")
    atomic_write_text(Path(a.out), json.dumps(out, indent=1, default=float) + "\n")
    return 0

def towers(run: Path) -> dict:
    "Scene error (cm) of the pretrained towers with their scene head, before and after cloning, on fresh posed layouts."
    import torch
    from vlarl.rollout.policy import load_policy
    from vlarl.training.pretrain import PretrainHeads, collect_frames, scene_error
    pol = load_policy(run / "policy")
    frames = collect_frames("spatial", 20, view="close", poses=3, first_layout=6000, progress=False, seed=2)
    st = torch.load(run / "pretrain.pt", weights_only=False)
    heads = PretrainHeads(pol.config, frames.scene.shape[1])
    heads.load_state_dict(st["heads"])
    after = scene_error(pol, heads, frames)
    pol.model.load_state_dict(st["model"])
    return dict(frames=len(frames), layouts=100, pretrained=scene_error(pol, heads, frames), after_cloning=after)

if __name__ == "__main__": sys.exit(main())
