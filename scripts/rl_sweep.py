"""One row of the RL sweep from the shipped SFT policy: train a preset with overrides, then score it.

Usage:
  python scripts/rl_sweep.py ID --preset tabletop [--set k=v ...] [--seeds 0 1 2] [--evals greedy,sampled,train]
         [--eval-every N]

Each seed trains into runs/rl-sweep/ID/seedS with one held-out evaluation at the end (greedy, 250 episodes:
the trainer's `evaluate`), then optionally samples at the rollout temperature on the same held-out states and
runs greedy on 150 training states. With --eval-every N the trainer also evaluates every N iterations
(for curves; inside the row's training wall time, which the row says). The run's config, metrics and the scores are copied to
nbs/tutorials/data/rl/ID/seedS/ and one row per seed is appended to nbs/tutorials/data/rl/sweep.jsonl, the
data the pages read through `vlarl.experiments.report`. Wall times are of this machine; say in --machine whether it ran
alone.
"""
import argparse, json, shutil, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("id")
    ap.add_argument("--preset", default="tabletop")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--evals", default="greedy", help="comma list of greedy (always), sampled, train")
    ap.add_argument("--episodes", type=int, default=250, help="held-out episodes of each evaluation")
    ap.add_argument("--eval-every", type=int, default=0,
                    help="also evaluate (greedy, --episodes) every N iterations in training, for curves (0: only at the end)")
    ap.add_argument("--machine", default="2-core CPU, alone")
    ap.add_argument("--note", default="")
    ap.add_argument("--out", default=str(ROOT / "runs" / "rl-sweep"))
    a = ap.parse_args()
    from vlarl.core.base import VlarlError, atomic_write_text
    from vlarl.core.config import preset, apply_overrides
    from vlarl.training.trainer import train
    from vlarl.training.lifecycle import latest_checkpoint
    from vlarl.rollout.policy import load_policy
    from vlarl.rollout.evaluate import evaluate
    evals = {e.strip() for e in a.evals.split(",") if e.strip()} | {"greedy"}
    if evals - {"greedy", "sampled", "train"}: sys.exit(f"error: unknown --evals {sorted(evals - {'greedy', 'sampled', 'train'})}")
    try: base = apply_overrides(preset(a.preset), a.sets + [f"eval_every={a.eval_every}", f"eval_episodes={a.episodes}", "gif_episodes=0"])
    except VlarlError as e: sys.exit(f"error: {e}")
    data = ROOT / "nbs" / "tutorials" / "data" / "rl"
    for s in a.seeds:
        cfg = base.with_overrides([f"seed={s}"], "--seeds")
        run = Path(a.out) / a.id / f"seed{s}"
        t0 = time.time()
        rows = train(cfg, run, overwrite=True)
        wall = time.time() - t0
        last = rows[-1]
        row = dict(id=a.id, seed=s, preset=a.preset, overrides=a.sets, machine=a.machine, note=a.note,
                   heldout=dict(successes=round(last["eval/success_rate"] * last["eval/episodes"]), episodes=int(last["eval/episodes"])),
                   wall_train_s=round(wall, 1), eval_s=round(last.get("timing/eval", float("nan")), 1),
                   rollout_first5=_mean(rows, 0, 5), rollout_last5=_mean(rows, -5, None),
                   iterations=cfg.iterations, temperature=cfg.temperature)
        if a.eval_every:   # the in-training evaluations are inside wall_train_s: say how much
            row["eval_every"] = a.eval_every
            row["evals_in_training_s"] = round(sum(m.get("timing/eval", 0.0) for m in rows), 1)
        pol = load_policy(latest_checkpoint(run) / "policy")
        if "sampled" in evals:
            t1 = time.time(); r = evaluate(pol, cfg.env, cfg.suite, episodes=a.episodes, greedy=False, temperature=cfg.temperature, progress=False)
            row["sampled"] = dict(successes=round(r.success_rate * r.episodes), episodes=r.episodes, temperature=cfg.temperature, s=round(time.time() - t1, 1))
        if "train" in evals:
            t1 = time.time(); r = evaluate(pol, cfg.env, cfg.suite, episodes=150, split="train", progress=False)
            row["train"] = dict(successes=round(r.success_rate * r.episodes), episodes=r.episodes, s=round(time.time() - t1, 1))
        keep = data / a.id / f"seed{s}"
        if keep.exists(): shutil.rmtree(keep)
        keep.mkdir(parents=True)
        for f in ("config.yaml", "metrics.jsonl"): shutil.copy(run / f, keep / f)
        atomic_write_text(keep / "wall.json", json.dumps({"seconds": wall}))
        with open(data / "sweep.jsonl", "a") as f: f.write(json.dumps(row) + "\n")
        print(json.dumps(row), flush=True)


def _mean(rows, lo, hi):
    r = [m for m in rows if m.get("rollout/episodes")][lo:hi]
    n = sum(m["rollout/episodes"] for m in r)
    return round(sum(m["rollout/success_rate"] * m["rollout/episodes"] for m in r) / max(n, 1), 3)


if __name__ == "__main__":
    main()
