"""The package's import graph: no cycles, no module imports one from a higher layer, and no package imports one
above it in the package order.

Every `import` counts, also the lazy ones inside functions: a cycle through a lazy import still couples
the two modules. A new module must be given a layer here, and its package a place in PACKAGES."""
import ast, re
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "vlarl"

PACKAGES = [                    # the package order, lowest first; packages on one line are peers (neither imports the other)
    ("core",),                  # errors, atomic files, typed configs; the training config
    ("models", "envs", "algorithms"),   # the VLA and its tokens; the environments; PPO, group advantages, curriculum
    ("rollout",),               # the decoding engine, Policy, evaluation
    ("reward",),                # pseudo-labels and the reward model (uses Policy)
    ("training",),              # one iteration's pieces, the run lifecycle, the trainer, SFT
    ("distributed",),           # the scale-out: engines, env workers, learners, actors, driver
    ("experiments",),           # probes, comparisons, ablations, the report
    ("cli",),                   # the `vlarl` command
]
RANK = {p: i for i, ps in enumerate(PACKAGES) for p in ps}

LAYERS = {                      # lower layers never import higher ones; the layers follow the package order
    "vlarl.core.base": 0, "vlarl.core.config": 1,
    "vlarl.models.mdp": 2, "vlarl.models.vla": 2, "vlarl.models.action_tokenizer": 3, "vlarl.models.value": 3, "vlarl.models.lora": 4,
    "vlarl.envs.base": 2, "vlarl.envs.tabletop": 3, "vlarl.envs.libero": 3, "vlarl.envs.expert": 4, "vlarl.envs.vector": 4,
    "vlarl.algorithms.ppo": 2, "vlarl.algorithms.groups": 2, "vlarl.algorithms.curriculum": 2, "vlarl.algorithms.critic_warmup": 3,
    "vlarl.rollout.engine": 5, "vlarl.rollout.policy": 6, "vlarl.rollout.evaluate": 7,
    "vlarl.reward.labels": 8, "vlarl.reward.rprm": 9,
    "vlarl.training.lifecycle": 10, "vlarl.training.iteration": 10, "vlarl.training.trainer": 11, "vlarl.training.pretrain": 11,
    "vlarl.training.dagger": 12, "vlarl.training.sft": 13,
    "vlarl.distributed.config": 14, "vlarl.distributed.actors": 15, "vlarl.distributed.env_worker": 15,
    "vlarl.distributed.vllm_engine": 15, "vlarl.distributed.inference": 16, "vlarl.distributed.learner": 17,
    "vlarl.distributed.driver": 18, "vlarl.distributed.bench": 19,
    "vlarl.experiments.probes": 20, "vlarl.experiments.compare": 20, "vlarl.experiments.ablation": 20, "vlarl.experiments.report": 21,
    "vlarl.cli.main": 22,
}


def modules() -> dict:
    out = {}
    for f in PKG.rglob("*.py"):
        if f.name == "_modidx.py" or "__pycache__" in f.parts: continue
        rel = f.relative_to(PKG.parent).with_suffix("")
        out[".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)] = f
    return out


def edges(mods: dict) -> dict:
    "module -> the vlarl modules it imports (packages' empty __init__ excluded)."
    res = {}
    for m, f in mods.items():
        pkg = m if f.name == "__init__.py" else m.rsplit(".", 1)[0]
        deps = set()
        for n in ast.walk(ast.parse(f.read_text())):
            if isinstance(n, ast.ImportFrom):
                if n.level:
                    base = pkg.split(".")[:len(pkg.split(".")) - (n.level - 1)]
                    tgt = ".".join(base + ([n.module] if n.module else []))
                else: tgt = n.module or ""
                if not tgt.startswith("vlarl"): continue
                deps |= {f"{tgt}.{a.name}" for a in n.names if f"{tgt}.{a.name}" in mods}
                if tgt in mods: deps.add(tgt)
            elif isinstance(n, ast.Import):
                deps |= {a.name for a in n.names if a.name in mods}
        res[m] = {d for d in deps if d != m and mods[d].name != "__init__.py"}
    return res


def cycles(g: dict) -> list:
    "Strongly connected components with more than one module (Tarjan)."
    idx, low, stack, on, out, c = {}, {}, [], set(), [], [0]
    def visit(v):
        idx[v] = low[v] = c[0]; c[0] += 1; stack.append(v); on.add(v)
        for w in g.get(v, ()):
            if w not in idx: visit(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], idx[w])
        if low[v] == idx[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(sorted(comp))
    for v in g:
        if v not in idx: visit(v)
    return out


def test_every_module_has_a_layer():
    mods = {m for m, f in modules().items() if f.name != "__init__.py"}
    assert not sorted(mods - set(LAYERS)), f"give these modules a layer in LAYERS: {sorted(mods - set(LAYERS))}"


def test_no_import_cycles():
    assert cycles(edges(modules())) == []


def test_no_upward_imports():
    bad = [f"{m} (layer {LAYERS[m]}) imports {d} (layer {LAYERS[d]})" for m, ds in edges(modules()).items() if m in LAYERS
           for d in sorted(ds) if d in LAYERS and LAYERS[d] > LAYERS[m]]
    assert bad == []


def package(m: str) -> str:
    "The sub-package of module `m` (`vlarl.training.trainer` -> `training`); `vlarl` itself has none."
    return m.split(".")[1] if "." in m else ""


def named_modules(mods: dict) -> dict:
    "module -> the vlarl modules it names in a string (`'vlarl.envs.tabletop:TabletopEnv'`, loaded by importlib)."
    res = {}
    for m, f in mods.items():
        refs = {s.value.split(":")[0] for s in ast.walk(ast.parse(f.read_text())) if isinstance(s, ast.Constant)
                and isinstance(s.value, str) and re.fullmatch(r"vlarl(\.\w+)+(:\w+)?", s.value)}
        res[m] = {r for r in refs if r in mods and r != m and mods[r].name != "__init__.py"}
    return res


def upward_packages(g: dict, rank: dict) -> list:
    "Imports from a module to one in a package of the same or a higher rank (its own package excepted)."
    return [f"{m} ({package(m)}) imports {d} ({package(d)})" for m, ds in sorted(g.items()) for d in sorted(ds)
            if package(d) != package(m) and rank[package(d)] >= rank[package(m)]]


def test_every_module_is_in_a_package():
    bad = sorted(m for m in modules() if m != "vlarl" and package(m) not in RANK)
    assert bad == [], f"put these in a package listed in PACKAGES: {bad}"


def test_package_order():
    "A module imports only from its own package or from packages below it (lazy imports and importlib strings too)."
    mods = modules()
    g, named = edges(mods), named_modules(mods)
    assert upward_packages({m: g[m] | named[m] for m in g if package(m)}, RANK) == []


def test_layers_follow_the_package_order():
    bad = [(a, b) for a in LAYERS for b in LAYERS if RANK[package(a)] < RANK[package(b)] and LAYERS[a] >= LAYERS[b]]
    assert bad == []


def test_the_checks_can_fail():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    rank = {"core": 0, "models": 1, "envs": 1, "rollout": 2}
    g = {"vlarl.core.base": {"vlarl.rollout.engine"}, "vlarl.models.vla": {"vlarl.envs.base", "vlarl.models.mdp"},
         "vlarl.rollout.engine": {"vlarl.core.base", "vlarl.models.vla"}}
    assert upward_packages(g, rank) == ["vlarl.core.base (core) imports vlarl.rollout.engine (rollout)",
                                        "vlarl.models.vla (models) imports vlarl.envs.base (envs)"]


def imported_names(mods: dict) -> list:
    "(module, source module, name) for every `from vlarl... import name` in the package."
    out = []
    for m, f in mods.items():
        pkg = m if f.name == "__init__.py" else m.rsplit(".", 1)[0]
        for n in ast.walk(ast.parse(f.read_text())):
            if not isinstance(n, ast.ImportFrom): continue
            src = ".".join(pkg.split(".")[:len(pkg.split(".")) - (n.level - 1)] + ([n.module] if n.module else [])) if n.level else n.module or ""
            if src.startswith("vlarl"): out += [(m, src, a.name) for a in n.names]
    return out


def private_imports(names: list) -> list:
    return [f"{m} imports {s}.{a}" for m, s, a in names if a.startswith("_") and not a.startswith("__")]


def test_no_private_names_across_modules():
    assert private_imports(imported_names(modules())) == []


def test_policy_is_imported_from_where_it_lives():
    bad = [f"{m} imports Policy from {s}" for m, s, a in imported_names(modules()) if a == "Policy" and s != "vlarl.rollout.policy"]
    assert bad == []


def test_the_name_checks_can_fail():
    assert private_imports([("vlarl.a", "vlarl.b", "_x"), ("vlarl.a", "vlarl.b", "y")]) == ["vlarl.a imports vlarl.b._x"]
