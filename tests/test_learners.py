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
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path

import docker
import pytest
import second_dockerd
from kernel_runs import LocalKernel, patterns, run_notebook

from reglab import Lab, ports
from reglab.engines.docker import DockerEngine
from reglab.engines.local import LocalEngine, registry_binary
from reglab.naming import Scope
from now import lab_dirs, scope_root, settings, state_root

ROOT = Path(__file__).resolve().parent.parent
NB = {n: next((ROOT / "notebooks").glob(f"{n}-*.ipynb")) for n in ("01", "02", "03")}
BYSTANDER = "tl-bystander"


def _run(env: dict, learner: str, notebooks: list[Path]) -> list[str]:
    kernel = LocalKernel(dict(env, REGLAB_LEARNER=learner), cwd=str(ROOT / "notebooks"))
    try:
        failures = []
        for notebook in notebooks:
            runs = run_notebook(kernel, notebook, patterns(learner=learner))
            failures += [f"{learner} {notebook.name[:2]} {run}" for run in runs if not run.ok]
        return failures
    finally:
        kernel.shutdown()


def _registry_processes(learner: str) -> list[str]:
    out = subprocess.run(["pgrep", "-af", "registry serve"], capture_output=True, text=True, check=False)
    return [line for line in out.stdout.splitlines() if f" {state_root()}/_learners/{learner}/" in line]


def _leftovers(engine, learner: str) -> list:
    """Everything of ``learner`` still here: engine objects (by label), registry processes, lab
    folders (with the tags and folders they record)."""
    scope = Scope(None, learner)
    return (engine.objects.of(scope) + _registry_processes(learner)
            + [_folder(d) for d in lab_dirs(scope) if d.exists()])


def _folder(path: Path) -> str:
    """A lab folder left behind, with what it holds (its state.json says which tags, images,
    containers or volumes the lab's clean-up could not remove)."""
    held = {str(p.relative_to(path)): (p.read_text()[:600] if p.name.endswith(".json") else "")
            for p in sorted(path.rglob("*")) if p.is_file()}
    return f"{path} {held}"


@contextmanager
def own_docker_engine(work: Path):
    """A second Docker daemon on this machine (as a learner's rootless Docker would be): its own
    images, containers and volumes, its own bridge, the same 127.0.0.1 for published ports."""
    if why := second_dockerd.unavailable():
        pytest.skip(why)
    with second_dockerd.second_daemon(work, pool="10.214.0.0/16") as host:
        yield host, DockerEngine(settings().but(docker_host=host), client=docker.DockerClient(base_url=host, timeout=120))


SETUPS = {
    # learners sharing one Docker daemon: their names, labels, volumes, networks and ports never
    # meet. (Notebook 03; 01, 02 and 04 remove images and count layers, and a daemon's images
    # are one namespace for all its users: there Lab() stops in its first cell, tested below, and
    # each learner needs a daemon of their own.)
    "docker-one-engine-2": ("docker", 2, ["03"], False),
    # each learner with a Docker daemon of their own on one machine (rootless Docker per account):
    # notebook 01, which removes hello-world, counts images and wants port 5000 on the one 127.0.0.1
    "docker-own-engines-2": ("docker", 2, ["01"], True),
    # the daemonless engine, as classroom/ runs it: each learner's image store and lab folders are
    # their own (four at once; how many one machine holds is benchmarks/classroom.py's question)
    "local-4": ("local", 4, ["01", "02"], False),
}


@pytest.mark.parametrize("setup", [pytest.param(s, marks=pytest.mark.daemonless) if SETUPS[s][0] == "local" else s
                                   for s in SETUPS])
@pytest.mark.engine
def test_learners_run_the_same_notebooks_at_once_and_leave_nothing(setup, request, tmp_path):
    kind, count, numbers, own_engines = SETUPS[setup]
    notebooks = [NB[n] for n in numbers]
    env = dict(os.environ, REGLAB_ENGINE=kind)
    if kind == "local":
        if registry_binary(None) is None:
            pytest.skip("the registry binary (docker-registry) is missing")
        env["DOCKER_HOST"] = f"unix://{tmp_path}/no-docker.sock"  # no daemon at all
    eng = request.getfixturevalue("engine") if kind == "docker" else LocalEngine()
    learners = [f"tl-{kind}-{i}" for i in range(1, count + 1)]
    with ExitStack() as stack:
        engines, envs = {}, {}
        for i, learner in enumerate(learners):
            envs[learner], engines[learner] = env, eng
            if own_engines:  # the bystander keeps the machine's daemon
                host, engines[learner] = stack.enter_context(own_docker_engine(tmp_path / learner))
                envs[learner] = dict(env, DOCKER_HOST=host)
        for learner in learners:  # a killed earlier run's leftovers are not this run's
            Lab(numbers[0], engine=engines[learner], echo=False, learner=learner, ensure_images=False).cleanup()
        bystander = Lab(numbers[0], engine=eng, echo=False, learner=BYSTANDER)
        try:
            kept = bystander.run_registry(volume="registry-data")
            theirs = sorted(o.name for o in eng.objects.of(Scope(numbers[0], BYSTANDER)))
            assert theirs == [f"reglab-{BYSTANDER}-{numbers[0]}-registry",
                              f"reglab-{BYSTANDER}-{numbers[0]}-registry-data"]

            with ThreadPoolExecutor(count) as pool:
                results = pool.map(lambda learner: _run(envs[learner], learner, notebooks), learners)
                failures = [failure for result in results for failure in result]

            assert failures == [], "\n".join(failures)
            for learner in learners:
                assert _leftovers(engines[learner], learner) == [], learner
            # the bystander's lab of the same number is untouched: its objects, its registry answering
            assert sorted(o.name for o in eng.objects.of(Scope(numbers[0], BYSTANDER))) == theirs
            assert eng.containers.state(kept.name) == "running"
            assert kept.api.catalog() == []
        finally:
            bystander.cleanup()
    assert _leftovers(eng, BYSTANDER) == []
    for learner in learners + [BYSTANDER]:  # of a learner's folder, only their image store stays
        assert [p.name for p in scope_root(learner).glob("*") if p.name not in ("_images", "progress.jsonl")] \
            == [], learner  # a learner's own image store and progress stay theirs


@pytest.mark.daemonless
def test_a_kept_port_is_passed_over_by_every_other_lab_until_released(tmp_path):
    """The port lock a lab keeps from its first registry to its cleanup (reglab.ports): another
    owner — another learner's lab, in this process or any other — cannot keep it meanwhile."""
    locks = tmp_path / "locks"
    assert ports.hold(5123, "127.0.0.1", "reglab-ada-02", locks)
    assert ports.hold(5123, "127.0.0.1", "reglab-ada-02", locks)  # the same lab again (a re-run cell)
    assert not ports.hold(5123, "127.0.0.1", "reglab-bob-02", locks)
    other_process = subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; from reglab import ports; "
                               "print(ports.hold(5123, '127.0.0.1', 'reglab-eve-02', Path(sys.argv[1])))", str(locks)],
        capture_output=True, text=True)
    assert other_process.stdout.strip() == "False", other_process.stderr
    ports.release("reglab-ada-02")
    assert ports.hold(5123, "127.0.0.1", "reglab-bob-02", locks)
    ports.release("reglab-bob-02")


@pytest.mark.docker
def test_a_notebook_removing_shared_images_stops_in_its_first_cell_beside_another_learner(engine):
    """Two learners on one Docker daemon: notebook 03 runs beside another learner's lab, but notebooks
    01, 02 and 04 (which remove and count images every user of the daemon shares) stop in their
    first cell with one sentence, before creating anything; alone again, they start."""
    from reglab.errors import SharedEngine

    ada = Lab("03", engine=engine, echo=False, learner="tl-ada", ensure_images=False)
    try:
        ada.run_registry(volume="registry-data")
        assert Lab("03", engine=engine, echo=False, learner="tl-bob", ensure_images=False).cleanup() == []
        for number in ("01", "02", "04"):
            with pytest.raises(SharedEngine) as stopped:
                Lab(number, engine=engine, echo=False, learner="tl-bob", ensure_images=False)
            text = str(stopped.value)
            assert "tl-ada" in text and "REGLAB_ENGINE=local" in text and "\n" not in text
            assert engine.objects.of(Scope(number, "tl-bob")) == []
    finally:
        ada.cleanup()
    Lab("01", engine=engine, echo=False, learner="tl-bob", ensure_images=False).cleanup()


@pytest.mark.docker
def test_reset_starts_one_lab_over_from_the_notebook_and_the_command_line(engine, tmp_path):
    """lab.reset() and `python -m reglab reset` remove one lab's things and nothing of another's."""
    keep = Lab("03", engine=engine, echo=False, learner="tl-reset", ensure_images=False)
    lab = Lab("02", engine=engine, echo=False, learner="tl-reset", ensure_images=False)
    try:
        kept = keep.run_registry(volume="registry-data")
        lab.run_registry(volume="registry-data")
        assert {m.kind for m in lab.reset()} == {"container", "volume"}
        assert engine.objects.of(Scope("02", "tl-reset")) == []
        lab.run_registry()  # the same lab object starts again
        assert engine.objects.of(Scope("02", "tl-reset")) != []
        env = dict(os.environ, REGLAB_LEARNER="tl-reset", REGLAB_ENGINE="docker")
        done = subprocess.run([sys.executable, "-m", "reglab", "reset", "02"], env=env, capture_output=True,
                              text=True, check=False)
        assert done.returncode == 0 and "lab 02 of learner tl-reset is reset" in done.stdout, done.stderr
        assert engine.objects.of(Scope("02", "tl-reset")) == []
        assert engine.containers.state(kept.name) == "running"  # the other lab is untouched
    finally:
        keep.cleanup()
        lab.cleanup()
