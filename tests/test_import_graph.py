"""The package's import graph: no cycles, and no module imports one from a higher layer.

Every `import` counts, also the lazy ones inside functions: a cycle through a lazy import still couples
the two modules. A new module must be given a layer here."""
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "vlarl"

LAYERS = {                      # lower layers never import higher ones
    "vlarl.core.base": 0,
    "vlarl.models.mdp": 1, "vlarl.models.action_tokenizer": 1, "vlarl.core.config": 1, "vlarl.algorithms.ppo": 1, "vlarl.algorithms.groups": 1, "vlarl.algorithms.curriculum": 1,
    "vlarl.algorithms.critic_warmup": 2,
    "vlarl.models.vla": 2, "vlarl.models.value": 2, "vlarl.models.lora": 2, "vlarl.envs.base": 2, "vlarl.distributed.config": 2,
    "vlarl.distributed.actors": 3,
    "vlarl.envs.tabletop": 3, "vlarl.envs.libero": 3, "vlarl.envs.expert": 3, "vlarl.envs.vector": 3, "vlarl.rollout.engine": 3,
    "vlarl.rollout.policy": 4, "vlarl.training.iteration": 4, "vlarl.training.lifecycle": 4, "vlarl.distributed.env_worker": 4,
    "vlarl.training.sft": 5, "vlarl.training.pretrain": 5, "vlarl.training.dagger": 5, "vlarl.rollout.evaluate": 5, "vlarl.reward.labels": 5, "vlarl.reward.rprm": 5, "vlarl.distributed.vllm_engine": 5,
    "vlarl.training.trainer": 6, "vlarl.experiments.probes": 6,
    "vlarl.distributed.inference": 7, "vlarl.distributed.learner": 7, "vlarl.experiments.ablation": 7, "vlarl.experiments.compare": 7,
    "vlarl.distributed.driver": 8, "vlarl.experiments.report": 8,
    "vlarl.distributed.bench": 9,
    "vlarl.cli.main": 10,
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


def test_the_checks_can_fail():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


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
