"""Shared test set-up: offline images, a private state folder, and a live Docker engine."""

import os
import tempfile
from contextlib import contextmanager

import pytest

from reglab.naming import Scope

# Tests never reach Docker Hub: stand-in images, built from Debian packages. Set before any
# notebook kernel starts, so the kernels nbval launches inherit it.
os.environ["REGLAB_OFFLINE"] = "1"
os.environ.setdefault("REGLAB_STATE_DIR", tempfile.mkdtemp(prefix="reglab-state-"))

# `make test` runs two sessions side by side (scripts/test.sh): the tests that may reach the Docker
# daemon, and those marked ``daemonless``. Each session has state and work folders of its own, as
# if on a machine of its own, but for the 127.0.0.1 ports, which labs share through their port
# locks. (Nested runs — nbval in a subprocess — inherit their session's folders.)
os.environ.setdefault("REGLAB_WORKDIR", tempfile.mkdtemp(prefix="reglab-work-"))


def pytest_sessionstart(session):
    """A learner's live labs on this Docker daemon are never touched: the notebooks and lab sheets
    run here under the default learner, with the lab ids a learner uses (01…06, lab-01…), and a
    lab clears what its own names hold. If such a lab is running, stop before anything is removed."""
    if os.environ.get("REGLAB_ENGINE") == "local" or session.config.getoption("markexpr", "") == "daemonless":
        return  # the daemonless session never reaches the daemon (and runs beside the Docker one)
    try:
        import docker

        client = docker.from_env(timeout=5)
        live = client.containers.list(all=True, filters={"label": naming_label()})
    except Exception:  # noqa: BLE001 (no daemon: the Docker tests say so themselves)
        return
    learners = [c.name for c in live if "reglab.learner" not in c.labels and not c.labels["reglab.lab"].startswith("t-")]
    if learners:
        pytest.exit(f"a learner's lab is on this Docker daemon ({', '.join(sorted(learners))}): the tests would "
                    "clear it, so they stop here; finish it (lab.cleanup(), or python -m reglab clean) and run "
                    "make test again.", returncode=3)


def naming_label() -> str:
    from reglab.naming import LAB_LABEL

    return LAB_LABEL


@pytest.fixture(scope="session")
def engine():
    """The Docker engine, with the course images present."""
    from reglab import images
    from reglab.engines import get_engine

    eng = get_engine("docker")
    images.ensure(eng)
    return eng


@contextmanager
def labs(engine, prefix: str):
    """A maker of quiet labs named ``<prefix><name>`` on ``engine``; all cleaned up on exit."""
    from reglab import Lab

    made = []

    def make(name: str, **kwargs):
        lab = Lab(f"{prefix}{name}", engine=kwargs.pop("engine", engine), echo=kwargs.pop("echo", False), **kwargs)
        made.append(lab)
        return lab

    try:
        yield make
    finally:
        for lab in made:
            lab.echo = False
            lab.cleanup()


@pytest.fixture
def lab_factory(engine):
    """Make quiet labs named ``t-<name>`` on the Docker engine; every one is cleaned up after the test."""
    with labs(engine, "t-") as make:
        yield make
    assert [o for o in engine.objects(Scope.of(None)) if o.lab.startswith("t-")] == []

