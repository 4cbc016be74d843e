"""One learner's sandbox for one lab: its scope, what it created, and its current registry.

The topics of the course (:mod:`reglab.steps`) share it: names come from its scope, image
tags and folders it creates are written down in its state, so that :meth:`Sandbox.clear`
(cleanup, and the next ``Lab`` after a killed kernel) removes exactly those.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from . import images as course_images
from .engines import Engine
from .errors import ReglabError
from .naming import Scope
from .reference import parse
from .registry import Registry
from .state import State, work_root


class Sandbox:
    def __init__(self, scope: Scope, engine: Engine):
        self.scope = scope
        self.engine = engine
        self.state = State(scope)
        self.workdir = work_root(scope.learner) / scope.lab
        self.registry: Registry | None = None  # the one the steps act on
        self.port: int | None = None  # the port chosen once, used by every later registry and twin

    def object_name(self, role: str) -> str:
        return self.scope.object_name(role)

    def current(self) -> Registry:
        if self.registry is None:
            raise ReglabError("this lab has no registry yet: start one with lab.run_registry().")
        return self.registry

    def record_tag(self, tag: str) -> None:
        """Remember a tag this lab created, so cleanup removes it (the course images excepted)."""
        course = {parse(course_images.registry_image()).tagged, parse(course_images.hello_image()).tagged}
        if tag not in course:
            self.state.add_tag(tag)

    def folder(self, name: str | Path) -> Path:
        """A folder of the lab's own (relative names go under its work folder); created, and
        recorded for cleanup, only if it did not exist: a folder of the learner's is never removed."""
        path = Path(name)
        if not path.is_absolute():
            path = self.workdir / path
        if not path.exists():
            path.mkdir(parents=True)
            self.state.add_dir(path)
        return path

    def clear(self) -> list[str]:
        """Remove the objects, tags and folders of this scope; say what went."""
        removed = []
        for name in list(self.state.containers):  # named for the learner, maybe made without our label
            if self.engine.inspect(name) is not None:
                try:
                    self.engine.remove(name)
                    removed.append(f"container {name}")
                except ReglabError:
                    pass
        removed += [f"{o.kind} {o.name}" for o in self.engine.remove_objects(self.scope)
                    if f"{o.kind} {o.name}" not in removed]
        for name in list(self.state.volumes):
            if self.engine.volume_exists(name):
                try:
                    self.engine.remove_volume(name)
                    removed.append(f"volume {name}")
                except ReglabError:
                    pass
        for tag in list(self.state.tags):
            try:
                self.engine.remove_image(tag)
                removed.append(f"tag {tag}")
            except ReglabError:
                pass  # already gone, or still used: leave it
            self.state.drop_tag(tag)
        for folder in list(self.state.dirs):
            path = Path(folder)
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(f"folder {path}")
        self.state.clear()
        for folder in (self.workdir, self.state.dir):
            try:
                folder.rmdir()  # only when empty: it may hold the learner's own files
            except OSError:
                pass
        self.registry = None
        return removed
