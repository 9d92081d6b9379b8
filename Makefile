# vlarl: the two commands are `make demo` (main job) and `make test` (everything CI checks).
SHELL := /bin/bash
VENV ?= .venv
RUN ?= runs/tabletop
.PHONY: setup setup-dev demo test docs export outputs clean-nbs lock sft-checkpoint ablation compare figures gpu-check gpu-check-dry gpu-wheels

setup:           ## runtime environment (.venv, pinned packages, Debian GL libraries)
	@bash scripts/setup.sh

setup-dev:       ## + notebook/test/docs tooling and Chromium
	@bash scripts/setup.sh --dev

demo: setup      ## the main job: VLA-RL training of the shipped SFT policy on the tabletop suite, then its greedy success on the 250 held-out episodes (2 CPU cores)
	$(VENV)/bin/vlarl train --preset tabletop --out $(RUN) --overwrite
	$(VENV)/bin/vlarl eval --checkpoint $(RUN) --json $(RUN)/heldout.json

SFT_DEVICE ?= cpu
SFT_SUITE ?= spatial
SFT_RUN ?= runs/sft-$(SFT_SUITE)
sft-checkpoint: setup  ## clone a starting policy from nothing with the CPU recipe of 06d_sft (frames, tower pretraining, grounded cloning, four DAgger rounds, 250-episode evals; 59 min measured from a fresh clone on 2 CPU cores) and install it as vlarl/checkpoints/tabletop-sft; SFT_SUITE=goal for another suite, RESUME=1 continues SFT_RUN
	$(VENV)/bin/vlarl sft --suite $(SFT_SUITE) --device $(SFT_DEVICE) --out $(SFT_RUN) $(if $(RESUME),--resume,--overwrite)
	rm -rf vlarl/checkpoints/tabletop-sft && mkdir -p vlarl/checkpoints && cp -r $(SFT_RUN)/policy vlarl/checkpoints/tabletop-sft

ablation: setup  ## the paper's Table 2 on the embedded setup: 6 rows x 3 seeds x 10 iterations, 100 held-out episodes per run (about an hour on 2 CPU cores)
	$(VENV)/bin/vlarl ablate --out runs/ablation --seeds 3 --iterations 10

compare: setup   ## PPO, GRPO and RLOO side by side: 5 methods x 3 seeds x 40 iterations (about 15 min per run on 2 CPU cores); data -> nbs/tutorials/data/estimators
	MUJOCO_GL=egl $(VENV)/bin/python scripts/compare.py --out runs/compare --seeds $(or $(SEEDS),0,1,2)
	$(VENV)/bin/python scripts/figures.py

figures: setup   ## figures shown in the README and course pages, from committed run data -> nbs/images/
	$(VENV)/bin/python scripts/figures.py

GPU_PYTHON ?= $(VENV)/bin/python
GPU_CHECK_OUT ?= runs/gpu_check
gpu-check:       ## GPU evidence in one call (7B-shaped LoRA PPO step, CUDA rollout parity, trainer time split) -> $(GPU_CHECK_OUT)/gpu_check.{json,md}; with the machine's own torch: GPU_PYTHON=python3
	$(GPU_PYTHON) scripts/gpu_check.py --out $(GPU_CHECK_OUT)

gpu-check-dry: setup  ## the same script on tiny shapes on the CPU (what tests/test_gpu_check.py runs)
	$(VENV)/bin/python scripts/gpu_check.py --dry-run --out runs/gpu_check_dry

gpu-wheels: setup  ## wheels for an offline GPU machine (what gpu-check needs besides that machine's torch) -> runs/gpu_wheels
	$(VENV)/bin/python scripts/gpu_wheels.py --dest runs/gpu_wheels

test: setup-dev  ## CI's gates, the notebooks (nbdev-test) and pytest
	@bash scripts/test.sh

docs: setup-dev  ## build the docs site offline into docs/_build/html
	$(VENV)/bin/python scripts/build_docs.py --out docs/_build/html

export:          ## notebooks -> vlarl/ and clean notebooks
	$(VENV)/bin/nbdev-export && $(VENV)/bin/nbdev-clean && $(VENV)/bin/python scripts/make_readme.py

outputs: setup-dev  ## run the notebooks that carry committed outputs (scripts/outputs.py) and write their outputs into them
	MPLBACKEND=Agg PYTHONHASHSEED=0 RAY_AUTH_MODE=disabled MUJOCO_GL=egl PYOPENGL_PLATFORM=egl \
	  $(VENV)/bin/python scripts/run_nbs.py --n-workers 2 --timing --file-re "$$($(VENV)/bin/python scripts/outputs.py regex)"
	$(VENV)/bin/python scripts/outputs.py refresh && $(VENV)/bin/nbdev-clean

clean-nbs:
	$(VENV)/bin/nbdev-clean

lock:            ## re-resolve the lock file from pyproject.toml (needs network access to PyPI)
	rm -rf /tmp/vlarl-lock && python3 -m venv /tmp/vlarl-lock && /tmp/vlarl-lock/bin/pip install -q torch==2.13.0 && \
	/tmp/vlarl-lock/bin/pip install -q -e ".[dev]" && /tmp/vlarl-lock/bin/pip freeze --exclude-editable | \
	sed 's/^torch==2.13.0+cpu/torch==2.13.0/' > constraints.txt
