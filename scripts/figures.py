#!/usr/bin/env python
"""Render the figures shown in markdown (README, course pages) into nbs/images/.

    python scripts/figures.py          # make figures

Notebooks are stored without outputs, so a reader of the repository sees these images instead of
running anything. Each figure is drawn by the same library function the notebooks use: the teaching
figures (GAE, PPO clipping, pseudo-labels, curriculum) from small hand-made inputs in a few seconds,
the estimator comparison from committed run data."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "nbs" / "images"
SIZE, DPI = (7, 3.5), 100

def _save(fig, name: str):
    out = IMAGES / name
    fig.savefig(out, dpi=DPI, bbox_inches="tight")
    import matplotlib.pyplot as plt; plt.close(fig)
    print(f"-> {out.relative_to(ROOT)}")

def gae_figure():
    "GAE (`vlarl.algorithms.ppo.compute_gae`) on a hand-made 12-step episode that succeeds at its last step, for three lambdas."
    import numpy as np, torch, matplotlib.pyplot as plt
    from vlarl.algorithms.ppo import compute_gae
    T, gamma = 12, 0.99
    rew = torch.zeros(T, 1); rew[-1] = 1.0                               # sparse success reward
    val = torch.tensor([.20, .25, .30, .30, .45, .40, .50, .60, .55, .70, .80, .90])[:, None]   # an imperfect critic
    term = torch.zeros(T, 1, dtype=torch.bool); term[-1] = True
    none, t = torch.zeros_like(term), np.arange(T)
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=SIZE, constrained_layout=True)
    ax0.bar(t, rew[:, 0], color="C2", alpha=0.6, label="reward $r_t$")
    ax0.plot(t, val[:, 0], "o-", color="k", label="value $V(s_t)$")
    ax0.set(xlabel="step t", title="episode (terminated at t = 11)", ylim=(0, 1.1)); ax0.legend(fontsize=8, loc="upper left")
    ax1.axhline(0, color="0.8", lw=0.8)
    for lam, c in ((0.0, "C0"), (0.9, "C1"), (1.0, "C3")):
        adv, _ = compute_gae(rew, val, term, none, torch.zeros(1), None, gamma, lam)
        ax1.plot(t, adv[:, 0], "o-", color=c, ms=4, label=rf"$\lambda = {lam:g}$" + {0.0: " (TD error)", 1.0: " (return − V)"}.get(lam, ""))
    ax1.set(xlabel="step t", ylabel=r"$\hat A_t$", title=rf"advantages, $\gamma = {gamma}$"); ax1.legend(fontsize=8)
    _save(fig, "gae.png")

def clipping_figure():
    "Per-sample PPO objective (`vlarl.algorithms.ppo.policy_loss`, negated) against the ratio, for A = +1 and A = -1."
    import torch, matplotlib.pyplot as plt
    from vlarl.algorithms.ppo import policy_loss
    grid = torch.linspace(0.4, 1.6, 241)
    def surrogate(a, **kw): return [-policy_loss(r.log()[None], torch.zeros(1), torch.tensor([a]), **kw)[0].item() for r in grid]
    fig, axs = plt.subplots(1, 2, figsize=SIZE, sharex=True, constrained_layout=True)
    for ax, a in zip(axs, (1.0, -1.0)):
        ax.plot(grid, grid * a, color="0.6", ls="--", label=r"unclipped $\rho \hat A$")
        ax.plot(grid, surrogate(a, clip_eps=0.2), lw=2.2, label=r"clipped, $\epsilon = 0.2$")
        ax.plot(grid, surrogate(a, clip_eps=0.2, clip_eps_high=0.28), lw=1, color="C3", label=r"clip-higher, $\epsilon_{high} = 0.28$")
        ax.axvspan(1.2, 1.6, color="0.93", zorder=0) if a > 0 else ax.axvspan(0.4, 0.8, color="0.93", zorder=0)
        for b in (0.8, 1.2): ax.axvline(b, color="k", lw=0.6, ls=":")
        ax.set(title=rf"$\hat A = {a:+.0f}$ (shaded: zero gradient)", xlabel=r"ratio $\rho = \pi_\theta / \pi_{old}$")
    axs[0].set_ylabel("objective (maximised)"); axs[0].legend(fontsize=8, loc="upper left")
    _save(fig, "clipping.png")

def pseudo_labels_figure():
    "`vlarl.reward.labels.plot_labels` on the hand-made 30-step trajectory of the pseudo-labels notebook."
    import numpy as np, matplotlib.pyplot as plt
    from vlarl.reward.labels import LabelConfig, label_details, plot_labels
    T = 30
    g = np.ones(T); g[10] = 0.5; g[11:20] = 0.0                          # gripper closes at 10, opens at 19
    v = np.ones(T)
    v[4], v[9], v[14], v[15], v[21], v[24], v[26], v[27] = 0.1, 0.0, 0.2, 0.1, 0.05, 0.3, 0.15, 0.15
    act = np.zeros((T, 7)); act[:, 6] = -1; act[9:19, 6] = 1             # the commanded gripper, for the upstream rule
    ep = dict(gripper_openness=g, eef_vel=np.c_[v, np.zeros((T, 2))], actions=act)
    cfg = LabelConfig(horizon=2)
    d = label_details(ep, cfg)
    fig, ax = plt.subplots(figsize=SIZE, constrained_layout=True)
    plot_labels(ep, cfg, ax=ax, title=f"hand-made trajectory: milestones {d['milestones'].tolist()}, keyframes {d['keyframes'].tolist()}")
    _save(fig, "pseudo_labels.png")

def curriculum_figure():
    "`vlarl.algorithms.curriculum.curriculum_probs` of both forms against the success rate, for several temperatures."
    import numpy as np, matplotlib.pyplot as plt
    from vlarl.algorithms.curriculum import curriculum_probs
    s = np.linspace(0, 1, 101)
    fig, axs = plt.subplots(1, 2, figsize=SIZE, sharey=True, constrained_layout=True)
    for ax, form, title in ((axs[0], "paper", "form='paper' (default)\nexp((0.5 − s)/τ)"),
                            (axs[1], "frontier", "form='frontier'\nexp((0.5 − |s − 0.5|)/τ)")):
        for t in (0.1, 0.2, 0.3, 0.5):
            ax.plot(s, len(s) * curriculum_probs(s, t, form=form), lw=2.6 if t == 0.3 else 1.2, label=f"τ = {t}" + (" (default)" if t == 0.3 else ""))
        ax.axhline(1, color="k", ls="--", lw=0.8, label="uniform")
        ax.set(yscale="log", ylim=(1e-4, 30), xlabel="success rate s"); ax.set_title(title, fontsize=10)
    axs[0].set_ylabel("N · P(s)   (1 = uniform)"); axs[1].legend(fontsize=8, loc="lower center")
    _save(fig, "curriculum.png")

def sft_diagnosis_figure():
    "Old and new starting policy (06d_sft): what their features locate, and where their greedy success lands, from committed data."
    import json, numpy as np, matplotlib.pyplot as plt
    f = ROOT / "nbs" / "tutorials" / "data" / "sft" / "diagnosis.json"
    if not f.exists(): print(f"skip: {f.relative_to(ROOT)} missing (scripts/sft_diagnosis.py)"); return
    d = json.loads(f.read_text())
    pols = [("old", "first clone (wide view, no pretraining)", "0.6"), ("new", "pretrained towers + grounding (close view)", "C0")]
    fig, (a0, a1) = plt.subplots(1, 2, figsize=(9, 3.6), constrained_layout=True)
    keys = [("prompt/named cube offset", "named cube\n(last prompt token)"), ("patches/named cube offset", "named cube\n(patch tokens)"),
            ("prompt/gripper", "gripper\n(last prompt token)")]
    x, w = np.arange(len(keys)), 0.28
    for j, (name, label, c) in enumerate(pols):
        pr = d["policies"][name]["probe"]
        a0.bar(x + (j - 1) * w, [pr[k]["rmse_cm"] for k, _ in keys], w, color=c, label=label)
    a0.bar(x + w, [d["policies"]["new"]["probe"][k]["mean_cm"] for k, _ in keys], w, color="w", edgecolor="k", hatch="//",
           label="predicting the mean")
    a0.axhline(2.5, color="C3", lw=0.8, ls="--"); a0.text(x[-1] + 1.5 * w, 2.7, "grasp window", color="C3", fontsize=7, ha="right")
    a0.set_xticks(x, [l for _, l in keys], fontsize=8); a0.set(ylabel="ridge-probe error (cm RMSE)", title="what the features locate")
    a0.legend(fontsize=7)
    groups = [("first clone", "old"), ("new clone", "new")]
    for i, (label, n) in enumerate(groups):
        for j, (key, how, c) in enumerate((("heldout_greedy", "greedy", "0.45"), ("heldout_t1", "sampled, T = 1.0", "C0"))):
            v = d["policies"][n][key]
            r, (lo, hi) = 100 * v["success_rate"], v["ci"]
            x = i + (j - 0.5) * 0.38
            a1.bar(x, r, 0.36, color=c, label=how if i == 0 else None)
            a1.errorbar(x, r, [[r - 100 * lo], [100 * hi - r]], color="k", capsize=3)
            a1.text(x, 100 * hi + 1.5, f"{r:.1f}%", ha="center", fontsize=7)
    v = d["state_upper_bound"]["heldout"]
    r, (lo, hi) = 100 * v["success_rate"], v["ci"]
    a1.bar(2, r, 0.36, color="C2", label="same labels from exact state (greedy)")
    a1.errorbar(2, r, [[r - 100 * lo], [100 * hi - r]], color="k", capsize=3)
    a1.text(2, 100 * hi + 1.5, f"{r:.1f}%", ha="center", fontsize=7)
    a1.axhspan(25, 60, color="C1", alpha=0.12, label="target band")
    a1.set_xticks(range(3), ["first clone", "new clone", "upper bound\nfrom state"], fontsize=8)
    a1.set(ylabel="success, 250 held-out episodes (%)", ylim=(0, 100), title="where the start lands (95% CI)")
    a1.legend(fontsize=7, loc="upper left")
    _save(fig, "sft_diagnosis.png")

def main() -> int:
    import matplotlib; matplotlib.use("Agg")
    from vlarl.experiments.compare import plot_comparison
    IMAGES.mkdir(parents=True, exist_ok=True)
    for draw in (gae_figure, clipping_figure, pseudo_labels_figure, curriculum_figure, sft_diagnosis_figure): draw()
    data = ROOT / "nbs" / "tutorials" / "data" / "estimators"
    if not any(data.glob("*/seed*/metrics.jsonl")):
        print(f"error: no comparison runs under {data.relative_to(ROOT)} (make compare)", file=sys.stderr); return 2
    out = IMAGES / "estimators.png"
    plot_comparison(data, out)
    print(f"-> {out.relative_to(ROOT)}")
    return 0

if __name__ == "__main__": sys.exit(main())
