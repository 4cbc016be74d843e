"""Set-up shared by tests/, notebooks/ and labs/solutions/ (nbval): here, not in tests/conftest.py,
because ``pytest notebooks labs/solutions`` (scripts/test.sh) loads only this one.

The environment: offline images, and state and work folders of the session's own, so that the
notebooks' labs (the default learner's lab ids, 01…06) never meet a learner's own state.

nbval stops each notebook's kernel with SIGKILL (``shutdown_kernel(now=True)``); JupyterLab stops
a kernel by asking it to shut down, so the kernel exits normally and a lab's exit handler cleans
up what it created. Notebook 03 relies on that: it keeps its lab to the end because its explorer
reads the registry's files while the learner clicks. Here nbval stops kernels as JupyterLab does,
and at the end of each session ``pytest_sessionfinish`` checks that the labs of every notebook
and sheet it ran left nothing behind: every nbval session proves that a stopped kernel cleans up.
"""

import atexit
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

import nbval.kernel
import nbval.plugin
import pytest

# Tests never reach Docker Hub: stand-in images, built from Debian packages. Set before any
# notebook kernel starts, so the kernels nbval launches inherit it.
os.environ["REGLAB_OFFLINE"] = "1"
os.environ.pop("PYTEST_ADDOPTS", None)  # the outer run's own options (--durations …), not its nested runs'
_MADE: list[str] = []  # the session's own folders, removed at its end (a nested run inherits its session's)
# … and again when this process exits: a lab a test started in this process cleans up at exit, after
# the session's end, and writing down what it removed makes its state folder's parents again
# (atexit runs last what was registered first: this, before any lab)
atexit.register(lambda: [shutil.rmtree(folder, ignore_errors=True) for folder in _MADE])
if "REGLAB_STATE_DIR" not in os.environ:
    os.environ["REGLAB_STATE_DIR"] = tempfile.mkdtemp(prefix="reglab-state-")
    _MADE.append(os.environ["REGLAB_STATE_DIR"])

# `make test` runs four sessions side by side (scripts/test.sh), some on Docker daemons of their own,
# some with none. Each session has state and work folders of its own, as
# if on a machine of its own, but for the 127.0.0.1 ports, which labs share through their port
# locks. (Nested runs — nbval in a subprocess — inherit their session's folders.)
if "REGLAB_WORKDIR" not in os.environ:
    os.environ["REGLAB_WORKDIR"] = tempfile.mkdtemp(prefix="reglab-work-")
    _MADE.append(os.environ["REGLAB_WORKDIR"])

# Every kernel the tests start loads tests/kernel_startup.py (a pexpect race that drops a
# ``!command``'s last line on a loaded machine), from an IPython folder of the session's own —
# which also keeps the kernels' history out of the user's ~/.ipython.
if not os.environ.get("IPYTHONDIR", "").startswith(os.path.join(tempfile.gettempdir(), "reglab-ipython-")):
    os.environ["IPYTHONDIR"] = tempfile.mkdtemp(prefix="reglab-ipython-")
    _MADE.append(os.environ["IPYTHONDIR"])
    _startup = Path(os.environ["IPYTHONDIR"]) / "profile_default" / "startup"
    _startup.mkdir(parents=True)
    _startup.joinpath("00-kernel_startup.py").write_text(
        (Path(__file__).resolve().parent / "tests" / "kernel_startup.py").read_text())

# A pytest started by a test (a notebook re-run after a killed kernel, the learners' runs) is
# nested: its session checked this daemon before, and the labs the nested run meets are its own.
NESTED = "REGLAB_TEST_SESSION" in os.environ
os.environ["REGLAB_TEST_SESSION"] = "1"


_DANGLING_BEFORE: set[str] = set()  # the daemon's volumes no container uses, when the session began


def pytest_sessionstart(session):
    """A learner's live labs on this Docker daemon are never touched: the notebooks and lab sheets
    run here under the default learner, with the lab ids a learner uses (01…06, lab-01…), and a
    lab clears what its own names hold. If such a lab is running, stop before anything is removed."""
    if os.environ.get("REGLAB_ENGINE") == "local" or session.config.getoption("markexpr", "") == "daemonless":
        return  # the daemonless session never reaches the daemon (and runs beside the Docker one)
    if NESTED:
        return  # a run inside a test of this suite (the outer session checked)
    try:
        import docker

        client = docker.from_env(timeout=5)
        live = client.containers.list(all=True, filters={"label": naming_label()})
    except Exception:  # noqa: BLE001 (no daemon: the Docker tests say so themselves)
        return
    _DANGLING_BEFORE.update(v.name for v in client.volumes.list(filters={"dangling": True}))
    _DANGLING_BEFORE.add("(checked)")
    learners = [c.name for c in live if "reglab.learner" not in c.labels and not c.labels["reglab.lab"].startswith("t-")]
    if learners:
        pytest.exit(f"a learner's lab is on this Docker daemon ({', '.join(sorted(learners))}): the tests would "
                    "clear it, so they stop here; finish it (lab.cleanup(), or python -m reglab clean) and run "
                    "make test again.", returncode=3)


ENGINE_FIXTURES = {"engine", "lab_factory", "local_engine", "local_lab", "mirror_lab", "interop_lab", "docker_engine",
                   "chosen"}


def pytest_collection_modifyitems(config, items):
    """Marks what needs an engine (``engine``): every notebook cell, every test using an engine's
    fixture or marked ``docker``/``daemonless``; ``pytest -m "not engine"`` runs the rest (the fast tier)."""
    _mark_engine_tests(items)
    _keep_notebooks_in_order(items)
    _skip_where_hello_world_is_not_the_courses_alone(config, items)


def _mark_engine_tests(items) -> None:
    from nbval.plugin import IPyNbCell

    for item in items:
        if isinstance(item, IPyNbCell) or ENGINE_FIXTURES & set(getattr(item, "fixturenames", ())) \
                or item.get_closest_marker("docker") or item.get_closest_marker("daemonless"):
            item.add_marker(pytest.mark.engine)


def _keep_notebooks_in_order(items) -> None:
    """pytest-randomly shuffles the tests (modules, then the tests in each) so that none depends on
    another's leftovers; run again in one order with ``--randomly-seed=<seed>`` (the header says
    which), or in file order with ``-p no:randomly``. A notebook is one story, though: its cells run
    in their own order, the notebooks (and lab sheets) as a block wherever the shuffle put their
    first cell, each notebook where its first cell fell. This runs after pytest-randomly's shuffle."""
    from nbval.plugin import IPyNbCell

    slots = [i for i, item in enumerate(items) if isinstance(item, IPyNbCell)]
    notebooks: dict = {}
    for i in slots:
        notebooks.setdefault(items[i].parent, []).append(items[i])
    ordered = [cell for cells in notebooks.values() for cell in sorted(cells, key=lambda c: c.cell_num)]
    for i, cell in zip(slots, ordered):
        items[i] = cell


def _skip_where_hello_world_is_not_the_courses_alone(config, items):
    """A learner's own tag of hello-world's image (``docker tag hello-world mine:1``), or a container of
    theirs using it (``docker run hello-world`` leaves one), keeps that image when a notebook removes
    hello-world: notebooks 01 and 02 then say so, or stop (Docker refuses to remove an image a
    container uses), and cannot print their committed outputs. Those runs are skipped on such a
    daemon, saying why; ``make test`` as root runs them on a daemon of its own, where nothing of a
    learner's is (scripts/test.sh), and every notebook also runs under the daemonless engine."""
    from nbval.plugin import IPyNbCell

    notebooks = {item.parent for item in items if isinstance(item, IPyNbCell)}
    removing = {nb for nb in notebooks if _removes_hello_world(Path(nb.path))}
    marked = [item for item in items if item.get_closest_marker("hello_world_alone")]
    if not (removing or marked):
        return
    why = _hello_world_not_alone(config)
    if why:
        for item in items:
            if item in marked or (isinstance(item, IPyNbCell) and item.parent in removing):
                item.add_marker(pytest.mark.skip(reason=why))


def _removes_hello_world(notebook: Path) -> bool:
    import nbformat

    cells = nbformat.read(notebook, as_version=4).cells
    return any(cell.cell_type == "code" and 'remove_image("hello-world")' in cell.source for cell in cells)


def _tags_labs_recorded() -> set[str]:
    """The image tags this session's labs wrote down (a killed kernel's lab leaves its tags; the next
    run of that lab removes them): reglab's, not a learner's."""
    import json

    from reglab.config import Settings
    from reglab.naming import ANY, Scope
    from reglab.state import lab_dirs

    tags = set()
    for folder in lab_dirs(Settings.from_env().state_dir, Scope(None, ANY)):
        try:
            tags |= set(json.loads((folder / "state.json").read_text()).get("tags", []))
        except (OSError, ValueError):
            pass
    return tags


def _hello_world_not_alone(config) -> str | None:
    """Why hello-world's image is not the course's alone on this Docker daemon (None if it is)."""
    if os.environ.get("REGLAB_ENGINE") == "local" or config.getoption("markexpr", "") == "daemonless":
        return None
    try:
        import docker
        import docker.errors

        from reglab.config import Settings
        from reglab.naming import LAB_LABEL
        from reglab.reference import parse

        hello = Settings.from_env().hello_image
        client = docker.from_env(timeout=5)
        name = parse(hello).tagged
        image = client.images.get(name)
        tags = [tag for tag in image.tags if tag != name and tag not in _tags_labs_recorded()]
        users = [c.name for c in client.containers.list(all=True)
                 if c.attrs.get("Image") == image.id and LAB_LABEL not in c.labels]
    except Exception:  # noqa: BLE001 (no daemon, or no hello-world yet: the session makes it, alone)
        return None
    if not (tags or users):
        return None
    theirs = [f"the tag {tag}" for tag in tags] + [f"the container {user}" for user in users]
    return (f"{hello}'s image is also yours on this Docker daemon ({', '.join(theirs)}): it stays when a "
            f"notebook removes {hello}, so the notebook cannot print its committed outputs here (make test "
            "as root runs it on a Docker daemon of its own)")


def pytest_sessionfinish(session, exitstatus):
    """Every notebook and sheet nbval ran in this session had its kernel stopped as JupyterLab stops
    one (below): its exit handler cleaned up. Prove it: nothing of those labs is left — no container,
    volume or network labelled with their ids, no registry process of theirs — and no volume that no
    container uses which was not there when the session began (an anonymous one has no label)."""
    try:
        _check_stopped_kernels_cleaned_up(session, exitstatus)
    finally:
        import shutil

        for folder in _MADE:  # the session's state and work folders go with it, as a learner's labs' do
            shutil.rmtree(folder, ignore_errors=True)


def _check_stopped_kernels_cleaned_up(session, exitstatus) -> None:
    if NESTED or exitstatus != 0:
        return
    from nbval.plugin import IPyNbFile

    labs = set()
    for item in session.items:
        parent = getattr(item, "parent", None)
        if isinstance(parent, IPyNbFile):
            match = re.search(r'(?:Lab|start)\(\\?"([a-z0-9-]+)\\?"', Path(parent.path).read_text())
            if match:
                labs.add(match.group(1))
    left = (_left_by(labs) if labs else []) + _anonymous_volumes_left()
    if left:
        session.exitstatus = 1
        print(f"\nnot left clean at the end of the session: {', '.join(left)}")


def _left_by(labs: set[str]) -> list[str]:
    from reglab.config import Settings
    from reglab.engines import get_engine
    from reglab.errors import ReglabError
    from reglab.naming import Scope

    settings = Settings.from_env()
    try:
        engine = get_engine(settings=settings)
    except ReglabError:
        return []
    return [f"{o.kind} {o.name}" for lab in sorted(labs) for o in engine.objects.of(Scope(lab))]


def _anonymous_volumes_left() -> list[str]:
    """Volumes no container uses that were not there when the session began: an anonymous volume
    (registry:3's VOLUME /var/lib/registry) carries no label, and a container removed without
    ``-v`` leaves its volume behind, unlabelled, where no lab's cleanup finds it."""
    if "(checked)" not in _DANGLING_BEFORE:
        return []
    import docker

    client = docker.from_env(timeout=30)
    return [f"volume {v.name} (no container uses it)" for v in client.volumes.list(filters={"dangling": True})
            if v.name not in _DANGLING_BEFORE]


def naming_label() -> str:
    from reglab.naming import LAB_LABEL

    return LAB_LABEL


def _stop_as_jupyterlab_does(self):
    self.kc.stop_channels()
    self.km.shutdown_wait_time = 60  # a lab's clean-up at exit takes seconds on a busy machine (5 by default)
    self.km.shutdown_kernel(now=False)  # a shutdown request; killed only if it does not exit in time
    del self.km


nbval.kernel.RunningKernel.stop = _stop_as_jupyterlab_does

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "tests"))
from port_numbers import number_ports  # noqa: E402

_sanitize = nbval.plugin.IPyNbCell.sanitize


def _sanitize_keeping_which_port(self, s):
    """tests/sanitize.cfg's rules, then each distinct 127.0.0.1 port numbered in order (port_numbers.py)."""
    return number_ports(_sanitize(self, s))


nbval.plugin.IPyNbCell.sanitize = _sanitize_keeping_which_port
