"""Learners side by side: several learners run the same notebooks at the same moment, each in a
kernel of their own with ``REGLAB_LEARNER`` set, sharing one machine — one Docker daemon, one
state folder, one set of 127.0.0.1 ports — as in a class. Every cell's outputs are compared
with the committed ones as nbval does (a learner's names mapped back); meanwhile a bystander
learner's lab of the same number keeps its registry running. Afterwards the real state says
nothing of theirs is left: no Docker object labelled with their names, no registry process, no
lab folder, no recorded tag — and the bystander's objects are all still there.
"""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from kernel_runs import LocalKernel, patterns, run_notebook

from reglab import Lab
from reglab.engines.local import LocalEngine, registry_binary
from reglab.naming import Scope
from reglab.state import lab_dirs, scope_root

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = [ROOT / "notebooks" / "01-run-your-own-registry.ipynb",
             ROOT / "notebooks" / "02-keep-your-images-with-volumes.ipynb"]
BYSTANDER = "tl-bystander"


def _env(engine_kind: str, learner: str, tmp_path: Path) -> dict:
    env = dict(os.environ, REGLAB_ENGINE=engine_kind, REGLAB_LEARNER=learner)
    if engine_kind == "local":  # as on a hub without Docker: no daemon at all
        env["DOCKER_HOST"] = f"unix://{tmp_path}/no-docker.sock"
    return env


def _run(engine_kind: str, learner: str, tmp_path: Path) -> list:
    kernel = LocalKernel(_env(engine_kind, learner, tmp_path), cwd=str(ROOT / "notebooks"))
    try:
        failures = []
        for notebook in NOTEBOOKS:
            runs = run_notebook(kernel, notebook, patterns(learner=learner))
            failures += [f"{learner} {notebook.name[:2]} {run}" for run in runs if not run.ok]
        return failures
    finally:
        kernel.shutdown()


def _registry_processes(learner: str) -> list[str]:
    out = subprocess.run(["pgrep", "-af", "docker-registry serve"], capture_output=True, text=True, check=False)
    return [line for line in out.stdout.splitlines() if f"/_learners/{learner}/" in line]


def _leftovers(engine, learner: str) -> list:
    """Everything of ``learner`` still on this machine: engine objects, registry processes, lab
    folders (with their recorded tags and folders)."""
    scope = Scope(None, learner)
    return (engine.objects(scope) + _registry_processes(learner)
            + [str(d) for d in lab_dirs(scope) if d.exists()])


def _engine(kind: str, docker_engine):
    if kind == "docker":
        return docker_engine
    if registry_binary() is None:
        pytest.skip("the registry binary (docker-registry) is missing")
    return LocalEngine()


@pytest.mark.parametrize("engine_kind, count", [("docker", 2), ("local", 10)], ids=["docker-2", "local-10"])
def test_learners_run_the_same_notebooks_at_once_and_leave_nothing(engine_kind, count, engine, tmp_path):
    eng = _engine(engine_kind, engine)
    learners = [f"tl-{engine_kind}-{i}" for i in range(1, count + 1)]
    for learner in learners:  # a killed earlier run's leftovers are not this run's
        Lab("02", engine=eng, echo=False, learner=learner, ensure_images=False).cleanup()
    bystander = Lab("02", engine=eng, echo=False, learner=BYSTANDER)
    try:
        kept = bystander.run_registry(volume="registry-data")
        theirs = sorted(o.name for o in eng.objects(Scope("02", BYSTANDER)))
        assert theirs == ["reglab-tl-bystander-02-registry", "reglab-tl-bystander-02-registry-data"]

        with ThreadPoolExecutor(count) as pool:
            failures = [f for result in pool.map(lambda n: _run(engine_kind, n, tmp_path), learners) for f in result]

        assert failures == [], "\n".join(failures)
        for learner in learners:
            assert _leftovers(eng, learner) == [], learner
        # the bystander's lab 02 is untouched: same objects, registry still answering
        assert sorted(o.name for o in eng.objects(Scope("02", BYSTANDER))) == theirs
        assert eng.state(kept.name) == "running"
        assert kept.api.catalog() == []
    finally:
        bystander.cleanup()
    assert _leftovers(eng, BYSTANDER) == []
    for learner in learners + [BYSTANDER]:  # of a learner's folder, only their image store stays
        assert [p.name for p in scope_root(learner).glob("*") if p.name != "_images"] == [], learner
