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

