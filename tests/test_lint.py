"""The lint gate can fail: a budget below today's counts, and an undefined name, each make it fail."""
import importlib.util, json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("lint", ROOT / "scripts" / "lint.py")
lint = importlib.util.module_from_spec(spec); spec.loader.exec_module(lint)


def test_gate_passes_on_the_repository():
    assert lint.main([]) == 0


def test_budget_below_the_counts_fails(tmp_path, monkeypatch, capsys):
    now = lint.counts()
    assert now["E501"] > 0
    b = tmp_path / "budget.json"; b.write_text(json.dumps({"E501": now["E501"] - 1, "E702": now["E702"]}))
    monkeypatch.setattr(lint, "BUDGET", b)
    assert lint.main([]) == 1
    assert "E501" in capsys.readouterr().out


def test_undefined_name_fails(monkeypatch, capsys):
    bad = ROOT / "tests" / "_lint_probe.py"
    bad.write_text("def f():\n    return undefined_name_here\n")
    try: assert lint.main([]) == 1
    finally: bad.unlink()
    assert "F821" in capsys.readouterr().out
