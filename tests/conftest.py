"""Shared test fixtures: a live Docker engine and labs that clean up (the environment: ../conftest.py)."""

from contextlib import contextmanager

import pytest

from reglab.naming import Scope


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
def hello_of_its_own():
    """``make(reference)``: hello-world's program under a config of its own, as an ImageBuild to load —
    an image no learner's tag or container holds. (hello-world's own image may be theirs too: a tag
    ``docker tag hello-world mine:1`` keeps it when a test removes hello-world, and a container of
    ``docker run hello-world`` makes Docker refuse to remove its last name.)"""
    from reglab import elf, images

    def make(reference: str, label: str = "t") -> images.ImageBuild:
        program = images.Layer().file("hello", elf.program(images.hello_greeting(), images.go_arch()), 0o755)
        return images.ImageBuild([reference], [program], {"Cmd": ["/hello"], "Labels": {"reglab.test": label}})

    return make


@pytest.fixture
def lab_factory(engine):
    """Make quiet labs named ``t-<name>`` on the Docker engine; every one is cleaned up after the test."""
    with labs(engine, "t-") as make:
        yield make
    assert [o for o in engine.objects.of(Scope(None)) if o.lab.startswith("t-")] == []

