"""The lab sheets (labs/), proven live under both engines.

Every exercise, executed unsolved, reports no task done (one ``✘`` per check, no ``✔``) and leaves
nothing; every solution is validated by nbval with full output comparison — its committed
outputs show every check ``✔`` and a clean-up that looked again and found nothing left — in the
main session (labs/solutions is a test path) under Docker, and by ``make test`` again under the
daemonless engine. After a kernel killed half-way, the lab solved again by the same learner
leaves nothing either: containers and volumes named for the learner but typed without reglab's
labels included, dangling volumes, registry processes, tags.

Parallel-safe: every run here is scoped to a learner of its own (``REGLAB_LEARNER``), so it never
touches another run's objects; each sheet has its own ports, and a set-up registry whose port
went meanwhile takes the next free one.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from reglab.engines.local import LocalEngine
from reglab.naming import Scope
from now import State, work_root
from reglab.tasks import SHEETS, sheet_class

ROOT = Path(__file__).resolve().parent.parent
LABS = ROOT / "labs"
SOURCES = sorted((LABS / "sources").glob("*.py"))
ENGINES = ["docker", pytest.param("local", marks=pytest.mark.daemonless)]  # the latter beside the Docker tests
CHECK = re.compile(r"^sheet\.q(\d+)\.check\(\)$")

sys.path.insert(0, str(ROOT / "scripts"))
import build_labs


def lab_id(path: Path) -> str:
    return f"lab-{path.stem[:2]}"


def _env(engine_kind: str, learner: str, tmp_path: Path) -> dict:
    env = os.environ.copy()
    env["REGLAB_ENGINE"] = engine_kind
    env["REGLAB_LEARNER"] = learner
    if engine_kind == "local":  # as on Binder or a classroom hub: no Docker daemon at all
        env["DOCKER_HOST"] = f"unix://{tmp_path}/no-docker.sock"
    return env


def _sanitize_with(learner: str, tmp_path: Path) -> Path:
    """tests/sanitize.cfg, after rules that make a learner's names read as the committed ones."""
    path = tmp_path / f"sanitize-{learner}.cfg"
    path.write_text(f"[learner-names]\nregex: reglab-{learner}-\nreplace: reglab-\n\n"
                    f"[learner-folders]\nregex: /{learner}/\nreplace: /\n\n"
                    + (ROOT / "tests" / "sanitize.cfg").read_text())
    return path


def _docker(engine_kind: str, request):
    """The Docker engine (the session's fixture) under Docker; None under the daemonless engine,
    whose tests never reach the daemon (they run beside the Docker ones: scripts/test.sh)."""
    return request.getfixturevalue("engine") if engine_kind == "docker" else None


def _leftovers(engine_kind: str, lab: str, learner: str, docker_engine, dangling_before: set[str]) -> list[str]:
    """Everything of ``lab`` for ``learner`` that still exists: objects (labelled or only named for the
    lab), anonymous volumes left behind, image tags in the lab's ports and images that lost their last
    tag but still carry a digest of them, registry processes, folders."""
    scope = Scope(lab, learner)
    prefix = scope.prefix + "-"
    base = sheet_class(lab).port_base
    in_ports = re.compile(rf"^127\.0\.0\.1:({'|'.join(str(p) for p in range(base, base + 10))})/")
    left = [f"{o.kind} {o.name}" for o in (docker_engine if engine_kind == "docker" else LocalEngine()).objects.of(scope)]
    if engine_kind == "docker":
        client = docker_engine.client
        left += [f"container {c.name}" for c in client.containers.list(all=True) if c.name.startswith(prefix)]
        left += [f"volume {v.name}" for v in client.volumes.list() if v.name.startswith(prefix)]
        left += [f"dangling volume {v.name}" for v in client.volumes.list(filters={"dangling": True})
                 if v.name not in dangling_before]
        images = docker_engine.images.list()
    else:
        out = subprocess.run(["pgrep", "-af", "registry serve"], capture_output=True, text=True, check=False)
        left += [line for line in out.stdout.splitlines() if str(State(scope).dir) + "/" in line]
        images = LocalEngine().images.list()
    left += [f"tag {t}" for info in images for t in info.tags if in_ports.match(t)]
    left += [f"dangling image {info.id[7:19]} ({d})" for info in images if not info.tags
             for d in info.repo_digests if in_ports.match(d)]
    left += [f"folder {d}" for d in (State(scope).dir, work_root(learner) / lab) if d.exists()]
    return sorted(set(left))


def _dangling(engine_kind: str, docker_engine) -> set[str]:
    if engine_kind != "docker":
        return set()
    return {v.name for v in docker_engine.client.volumes.list(filters={"dangling": True})}


def check_lines(cells: list[tuple[str, str]]) -> dict[int, list[str]]:
    """The lines each ``sheet.qN.check()`` cell printed, by task number."""
    return {int(m.group(1)): text.strip().splitlines() for code, text in cells if (m := CHECK.match(code.strip()))}


def _nbval(path: Path, env: dict, sanitize: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                           "--nbval", "--nbval-current-env", "--nbval-sanitize-with", str(sanitize),
                           "--nbval-cell-timeout=300", str(path)],
                          cwd=ROOT, capture_output=True, text=True, env=env, check=False)


# ----------------------------------------------------------------------------- static: fast, no engine


@pytest.mark.daemonless
def test_every_lab_has_a_sheet_and_sources_build_the_committed_notebooks():
    assert [lab_id(s) for s in SOURCES] == list(SHEETS)
    assert [p for s in SOURCES for p in build_labs.stale(s)] == []


@pytest.mark.daemonless
def test_committed_solutions_show_every_task_done_and_exercises_no_output():
    for source in SOURCES:
        solution, exercise = build_labs.targets(source)
        tasks = [v for v in vars(sheet_class(lab_id(source))).values() if type(v).__name__ == "_TaskSpec"]
        cells = [(c.source, "".join(o.get("text", "") for o in c.outputs))
                 for c in nbformat.read(solution, as_version=4).cells if c.cell_type == "code"]
        lines = check_lines(cells)
        assert sorted(lines) == sorted(t.number for t in tasks), solution.name
        for number, printed in lines.items():
            assert len(printed) == 1 and printed[0].startswith(f"✔ Task {number} · "), (solution.name, printed)
        assert not any("✘" in text or "Traceback" in text for _, text in cells), solution.name
        ex = nbformat.read(exercise, as_version=4)
        assert all(not c.get("outputs") for c in ex.cells if c.cell_type == "code"), exercise.name
        assert build_labs.PLACEHOLDER in "".join(c.source for c in ex.cells), exercise.name


@pytest.mark.daemonless
def test_sheets_have_their_own_ports_and_help_for_every_task():
    blocks = set()
    for lab in SHEETS:
        cls = sheet_class(lab)
        assert cls.port_base >= 5100, f"{lab} must stay away from the notebooks' ports (5000 and up)"
        assert cls.port_base // 10 not in blocks
        blocks.add(cls.port_base // 10)
        specs = [v for v in vars(cls).values() if type(v).__name__ == "_TaskSpec"]
        assert 1 <= len(specs) <= 6, lab
        assert all(s.hint and s.solution and s.title for s in specs), lab


# ----------------------------------------------------------------------------- live: both engines


def run_cells(client, path: Path) -> list[tuple[str, str]]:
    """Execute a notebook's code cells in a running kernel, as a learner would (no cell may fail);
    (code, printed text) per code cell."""
    cells = []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        printed = []

        def keep(msg, printed=printed):
            if msg["msg_type"] == "stream":
                printed.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                printed.append("\n".join(msg["content"]["traceback"]))

        reply = client.execute_interactive(cell.source, timeout=120, output_hook=keep)
        assert reply["content"]["status"] == "ok", f"{path.name}: {cell.source[:60]!r} failed: {''.join(printed)[-2000:]}"
        cells.append((cell.source, "".join(printed)))
    return cells


@pytest.mark.engine
@pytest.mark.parametrize("engine_kind", ENGINES)
def test_every_exercise_run_unsolved_reports_no_task_done_and_leaves_nothing(engine_kind, request, tmp_path):
    """Every exercise, one after the other in one kernel (as a learner taking the sequence): one ``✘``
    per task and no ``✔`` — a check that passes on an untouched set-up is a defect — and, after its
    clean-up cell, nothing of the lab left. (The solutions are validated by nbval, with full output
    comparison, in the main session under Docker and again by ``make test`` under the daemonless
    engine: labs/solutions is a test path.)"""
    from jupyter_client.manager import start_new_kernel

    engine = _docker(engine_kind, request)
    learner = f"t-ex-{engine_kind}"
    env = _env(engine_kind, learner, tmp_path)
    dangling = _dangling(engine_kind, engine)
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(LABS), startup_timeout=300)
    problems = []
    try:
        for source in SOURCES:
            lab = lab_id(source)
            if set(sheet_class(lab).needs) & LocalEngine.cannot and engine_kind != "docker":
                continue
            exercise = build_labs.targets(source)[1]
            lines = check_lines(run_cells(client, exercise))
            tasks = sorted(v.number for v in vars(sheet_class(lab)).values() if type(v).__name__ == "_TaskSpec")
            if sorted(lines) != tasks:
                problems.append(f"{exercise.name}: checks of tasks {sorted(lines)}, sheet has {tasks}")
            for number, printed in lines.items():
                if len(printed) != 1 or not printed[0].startswith(f"✘ Task {number} · "):
                    problems.append(f"{exercise.name}: task {number} unsolved printed {printed}")
            left = _leftovers(engine_kind, lab, learner, engine, dangling)
            if left:
                problems.append(f"{exercise.name}: left {left}")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert problems == []


@pytest.mark.engine
@pytest.mark.parametrize("engine_kind", ENGINES)
def test_kernel_killed_mid_lab_then_the_lab_solved_leaves_nothing(engine_kind, request, tmp_path):
    """Lab 03 for a learner: its set-up and task 1's solution (a registry without a volume, pulls, a
    container and a volume typed without reglab's labels), then SIGKILL: things are left. The whole
    solution run again by the same learner clears them at its set-up, passes nbval in full (the
    learner's names read as the committed ones), and leaves nothing — not a dangling volume, not a
    registry process, not a tag."""
    from jupyter_client.manager import start_new_kernel

    source = LABS / "sources" / "03-fix-lost-images.py"
    solution = build_labs.targets(source)[0]
    lab, learner = lab_id(source), "t-kill"
    engine = _docker(engine_kind, request)
    dangling = _dangling(engine_kind, engine)
    env = _env(engine_kind, learner, tmp_path)
    code = [c.source for c in nbformat.read(solution, as_version=4).cells if c.cell_type == "code"]
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(LABS / "solutions"), startup_timeout=300)
    try:
        for cell in code[:2]:  # the set-up, then task 1's solution
            reply = client.execute_interactive(cell, timeout=120, output_hook=lambda msg: None)
            assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)  # SIGKILL: no clean-up cell, no atexit
    try:
        left = _leftovers(engine_kind, lab, learner, engine, dangling)
        assert any(item.startswith("container") or "serve" in item for item in left), left
        result = _nbval(solution, env, _sanitize_with(learner, tmp_path))
        assert result.returncode == 0, result.stdout[-4000:]
        assert _leftovers(engine_kind, lab, learner, engine, dangling) == []
    finally:  # a failure above must not leave the killed kernel's registry running
        subprocess.run([sys.executable, "-m", "reglab", "clean"], env=env, capture_output=True, check=False)


def test_clean_removes_what_a_learner_typed_for_a_sheet(engine, tmp_path):
    """``python -m reglab clean`` for a learner removes a sheet's objects, also a container the
    learner ran by hand (no reglab label) on the sheet's volume."""
    from reglab.tasks import start

    learner, lab = "t-clean", "lab-03"
    dangling = _dangling("docker", engine)
    env = _env("docker", learner, tmp_path)
    sheet = start(lab, engine=engine, echo=False, settings=engine.settings.but(learner=learner))
    engine.objects.create_volume(sheet.scope, sheet.volume)  # the sheet's volume, labelled, is used by …
    engine.containers.remove(sheet.registry)  # … the registry the learner recreated by hand, as task 1 asks
    engine.client.containers.run(engine.settings.registry_image, name=sheet.registry, detach=True,
                                 volumes={sheet.volume: {"bind": "/var/lib/registry", "mode": "rw"}})
    assert _leftovers("docker", lab, learner, engine, dangling) != []
    done = subprocess.run([sys.executable, "-m", "reglab", "clean"], env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert _leftovers("docker", lab, learner, engine, dangling) == []
