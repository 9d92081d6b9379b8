"""The `vlarl` command as a user runs it: a subprocess, its exit code, its stderr, its run folder."""
import json, subprocess, sys
from pathlib import Path

VLARL = [str(Path(sys.executable).parent / "vlarl")]


def run(*args, cwd=None):
    return subprocess.run([*VLARL, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def test_demo_writes_run_folder(tmp_path):
    r = run("demo", "--out", str(tmp_path / "demo"))
    assert r.returncode == 0, r.stderr
    d = tmp_path / "demo"
    assert {p.name for p in d.iterdir()} == {"config.yaml", "metrics.jsonl", "conversation.txt", "action_tokenizer.png", "tokenizer"}
    rows = [json.loads(l) for l in (d / "metrics.jsonl").read_text().splitlines()]
    assert rows[0]["step"] == 0 and rows[0]["demo/success"] == 1.0
    assert "VLA:" in (d / "conversation.txt").read_text()
    assert (d / "action_tokenizer.png").stat().st_size > 5000


def test_bad_input_one_line_nonzero_no_folder(tmp_path):
    instr = tmp_path / "instr.txt"
    instr.write_text("put the red cube in the bowl\n")
    r = run("tokenizer", "--instructions", str(instr), "--out", str(tmp_path / "tk"), "--vocab-size", "100")
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "error:" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "tk").exists()


def test_existing_run_folder_refused(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "keep.txt").write_text("x")
    r = run("demo", "--out", str(tmp_path / "run"))
    assert r.returncode == 2 and "not empty" in r.stderr
    assert (tmp_path / "run" / "keep.txt").read_text() == "x"


def test_unknown_command_is_usage_error():
    r = run("trian")
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_bench_writes_json(tmp_path):
    r = run("bench", "--only", "envs", "--repeats", "1", "--json", str(tmp_path / "b.json"))
    assert r.returncode == 0, r.stderr
    res = json.loads((tmp_path / "b.json").read_text())
    assert res["ratios"]["vecenv_vs_serial"] > 0 and res["targets"]["vecenv_vs_serial"] == 1.8
    assert "vecenv_vs_serial" in r.stdout
