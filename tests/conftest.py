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
