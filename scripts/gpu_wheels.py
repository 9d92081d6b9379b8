"""Wheels for running `scripts/gpu_check.py` on a GPU machine without network access, next to that machine's own PyTorch.

    .venv/bin/python scripts/gpu_wheels.py [--dest runs/gpu_wheels] [--python-version 3.12] [--have NAME,...] [--limit-mib 64]

What it puts into DEST (emptied of old wheels first):

* the project itself, `vlarl-*.whl`, built from a temporary copy of the working tree (the source
  tree stays clean);
* the wheels of the packages the check imports - transformers, tokenizers, peft, safetensors,
  mujoco, numpy, fastcore - and of their dependencies, at the versions installed in the environment
  that runs this script (the tested lock), fetched with `pip download` through this machine's pip
  configuration, for the GPU machine's Python (`--python-version`, default 3.12, x86-64 Linux);
* minus what the GPU machine already has (`--have`, default `GPU_MACHINE_HAS` below: its image's
  packages that matter here; `--have none` carries everything), except the model-code packages
  pinned by the lock (`TESTED_PINS`: transformers, peft), which travel at the tested versions;
* never torch, nor what torch itself requires: the GPU machine's PyTorch stays (a CUDA torch is
  gigabytes, far more than can travel).

It prints each wheel's size and the total, and fails with one line when the wheels plus the working
tree (tracked and untracked, not ignored, files) exceed what travels to the GPU machine (64 MiB).

On the GPU machine, from the repository root, with DEST travelling beside the working tree (`runs/`
is git-ignored: name `runs/gpu_wheels` among the paths carried along):

    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site runs/gpu_wheels/*.whl
    export PYTHONPATH=/tmp/site MUJOCO_GL=egl
    python3 scripts/gpu_check.py --out runs/gpu_check       # or: make gpu-check GPU_PYTHON=python3

`--no-deps` installs exactly these wheels and never asks for torch (peft and accelerate name it as a
requirement); `--target` leaves the machine's own site-packages as they are, and PYTHONPATH puts the
tested versions first. The check records which torch ran in its JSON (`env.torch`,
`env.torch_source`: "pinned 2.13.0" or "the machine's own"), with the CUDA version, the device name
and the versions of the other packages. This script is not part of the tests: it needs the package
index.
"""
from __future__ import annotations

import argparse, os, shutil, subprocess, sys, tempfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
IMPORTED = ("transformers", "tokenizers", "peft", "safetensors", "mujoco", "numpy", "fastcore")   # what gpu_check's imports need
PROVIDED = ("torch",)                     # the GPU machine's own, with everything it requires
TESTED_PINS = ("transformers", "peft")    # the model code is tested against the lock's versions: these travel even where present
# Packages of the GPU machine's image (its `pip list`) that the closure above reaches; a dependency named here is not carried.
GPU_MACHINE_HAS = ("absl-py", "accelerate", "annotated-doc", "anyio", "certifi", "click", "etils", "filelock", "fsspec", "h11",
                   "hf-xet", "httpcore", "httpx", "huggingface-hub", "idna", "jinja2", "markdown-it-py", "markupsafe", "mdurl",
                   "mpmath", "networkx", "numpy", "packaging", "peft", "pillow", "psutil", "pygments", "pyyaml", "regex", "rich",
                   "safetensors", "setuptools", "shellingham", "sympy", "tokenizers", "torch", "tqdm", "transformers", "typer",
                   "typing-extensions", "zipp")
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux1_x86_64")


class WheelError(Exception):
    "A failure reported as one line."


def closure(roots, stop=frozenset(), env: dict | None = None) -> dict[str, tuple[str, str]]:
    "`{canonical name: (distribution name, installed version)}` of `roots` and everything they require (with extras), minus `stop`."
    seen, done, todo = {}, set(), [(r, frozenset()) for r in roots]
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        if key in stop or (key, extras) in done: continue
        done.add((key, extras))
        try: dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise WheelError(f"gpu_wheels: {name} is not installed here (run `make setup` first, then use .venv/bin/python)") from None
        seen[key] = (dist.metadata["Name"], dist.version)
        for r in dist.requires or []:
            q = Requirement(r)
            if q.marker is not None and not any(q.marker.evaluate({**(env or {}), "extra": e}) for e in {"", *extras}): continue
            todo.append((q.name, frozenset(q.extras)))
    return seen


def working_tree() -> list[Path]:
    "The files that travel with the working tree: tracked and untracked-but-not-ignored (a read-only git listing)."
    try:
        out = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                             capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise WheelError(f"gpu_wheels: cannot list the working tree with git ({e})") from None
    files = (ROOT / rel for rel in sorted({p for p in out.decode().split("\0") if p}))
    return [f for f in files if f.is_file() and not f.is_symlink()]


def working_tree_bytes(skip: Path) -> int:
    "Bytes of the working tree's files, those under `skip` left out."
    return sum(f.stat().st_size for f in working_tree() if skip not in f.resolve().parents)


def _pip(*args, cwd=None):
    p = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args], cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        last = [l for l in (p.stderr or p.stdout).strip().splitlines() if l.strip()]
        raise WheelError(f"gpu_wheels: pip {args[0]} failed: {last[-1] if last else 'exit ' + str(p.returncode)}")
    return p


def project_wheel(dest: Path) -> Path:
    "Build `vlarl-*.whl` from a temporary copy of the working tree (no build/ or egg-info left in the source tree)."
    with tempfile.TemporaryDirectory(prefix="vlarl-wheel-") as tmp:
        for src in working_tree():
            if dest in src.resolve().parents: continue
            to = Path(tmp) / src.relative_to(ROOT)
            to.parent.mkdir(parents=True, exist_ok=True); shutil.copy2(src, to)
        _pip("wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dest), tmp)
    found = sorted(dest.glob("vlarl-*.whl"))
    if not found: raise WheelError("gpu_wheels: building the project wheel produced no vlarl-*.whl")
    return found[-1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Wheels for scripts/gpu_check.py on an offline GPU machine (everything but torch).")
    ap.add_argument("--dest", default="runs/gpu_wheels", help="folder for the wheels (old *.whl there are removed)")
    ap.add_argument("--python-version", default="3.12", help="the GPU machine's Python as X.Y (default 3.12)")
    ap.add_argument("--have", default=",".join(GPU_MACHINE_HAS), help="comma-separated packages the GPU machine already has ('none': carry everything)")
    ap.add_argument("--limit-mib", type=float, default=64.0, help="what travels to the GPU machine: wheels + working tree")
    a = ap.parse_args(argv)
    dest = (ROOT / a.dest).resolve() if not Path(a.dest).is_absolute() else Path(a.dest)
    pyver = a.python_version
    have = set() if a.have.strip().lower() == "none" else {canonicalize_name(n) for n in a.have.split(",") if n.strip()}
    try:
        if not (len(pyver.split(".")) == 2 and all(p.isdigit() for p in pyver.split("."))):
            raise WheelError(f"gpu_wheels: --python-version must look like 3.12, got {pyver!r}")
        env = {"python_version": pyver, "python_full_version": f"{pyver}.0", "platform_machine": "x86_64", "sys_platform": "linux"}
        provided = set(closure(PROVIDED, env=env))                          # torch and its own requirements stay home
        stop = frozenset(provided | (have - {canonicalize_name(n) for n in TESTED_PINS}))
        need = closure(IMPORTED, stop=stop, env=env)
        dest.mkdir(parents=True, exist_ok=True)
        for old in dest.glob("*.whl"): old.unlink()
        target = ["--python-version", pyver, "--implementation", "cp", *(f"--platform={p}" for p in PLATFORMS)]
        reqs = sorted(f"{n}=={v}" for n, v in need.values())
        print(f"gpu_wheels: downloading {len(reqs)} wheels for CPython {pyver} on x86-64 Linux; left out: torch and its requirements, "
              f"and what the GPU machine has ({len(have)} names) except {', '.join(TESTED_PINS)}", file=sys.stderr)
        _pip("download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(dest), *target, *reqs)
        project_wheel(dest)
        wheels = sorted(dest.glob("*.whl"), key=lambda p: -p.stat().st_size)
        tree = working_tree_bytes(dest)
    except WheelError as e:
        print(str(e), file=sys.stderr)
        return 1
    mib = lambda b: b / 2**20
    total = sum(w.stat().st_size for w in wheels)
    for w in wheels: print(f"{mib(w.stat().st_size):8.2f} MiB  {w.name}")
    print(f"{mib(total):8.2f} MiB  {len(wheels)} wheels in {dest}")
    print(f"{mib(tree):8.2f} MiB  working tree")
    print(f"{mib(total + tree):8.2f} MiB  in all (limit {a.limit_mib:g} MiB)")
    if total + tree > a.limit_mib * 2**20:
        print(f"gpu_wheels: wheels {mib(total):.1f} MiB + working tree {mib(tree):.1f} MiB = {mib(total + tree):.1f} MiB "
              f"exceeds the {a.limit_mib:g} MiB that travel to the GPU machine", file=sys.stderr)
        return 1
    rel = os.path.relpath(dest, ROOT)
    print(f"on the GPU machine: python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site {rel}/*.whl && "
          f"PYTHONPATH=/tmp/site MUJOCO_GL=egl python3 scripts/gpu_check.py --out runs/gpu_check")
    return 0


if __name__ == "__main__":
    sys.exit(main())
