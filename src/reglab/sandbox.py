"""One learner's sandbox for one lab: its scope, what it created, and its current registry.

The topics of the course (:mod:`reglab.steps`) share it: names come from its scope, image
tags, folders and files it creates are written down in its state, so that
:meth:`Sandbox.clear` (cleanup, and the next ``Lab`` after a killed kernel) removes exactly
those. A change to the daemon's configuration is undone from the backup in the lab's state
folder; a change that lives only in this process (an environment variable) registers its
undo with :meth:`Sandbox.on_clear`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from . import images as course_images
from . import ports
from .engines import Engine
from .errors import NameConflict, ReglabError
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
        self._undo: list[Callable[[], str | None]] = []

    @property
    def daemon_backup(self) -> Path:
        """Where the daemon's original configuration is kept while the lab has changed it."""
        return self.state.dir / "daemon.json.backup"

    def on_clear(self, undo: Callable[[], str | None]) -> None:
        """Run ``undo`` at the next clear (once); what it returns, if anything, is listed as removed."""
        self._undo.append(undo)

    def hold_port(self, port: int, host: str) -> bool:
        """Keep ``port`` for this lab until it is cleared (True), unless another lab keeps it (False)."""
        return ports.hold(port, host, self.scope.prefix)

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

    def shared_file(self, path: Path, data: bytes, what: str) -> None:
        """Write ``path`` in a shared place (``certs.d``), creating and recording the folders that
        were missing; a file the lab did not create there is never overwritten."""
        if path.exists() and str(path) not in self.state.files:
            raise NameConflict(f"{path} exists and this lab did not create it: reglab will not overwrite it; "
                               "remove it yourself if it is not needed.")
        missing = []
        for parent in [path.parent, *path.parent.parents]:
            if parent.exists():
                break
            missing.append(parent)
        for folder in reversed(missing):
            folder.mkdir()
            self.state.add_shared_dir(folder)
        self.state.add_file(path, what)
        path.write_bytes(data)

    def remove_shared_file(self, path: Path) -> bool:
        """Remove a file :meth:`shared_file` wrote, and the folders it created if now empty."""
        if str(path) not in self.state.files:
            return False
        path.unlink(missing_ok=True)
        self.state.drop_file(path)
        for folder in sorted(self.state.shared_dirs, key=len, reverse=True):
            try:
                Path(folder).rmdir()
            except OSError:
                continue
            self.state.shared_dirs.remove(folder)
            self.state.save()
        return True

    def clear(self) -> list[str]:
        """Remove the objects, tags, folders and files of this scope, undo its changes; say what went."""
        removed = []
        while self._undo:
            said = self._undo.pop()()
            if said:
                removed.append(said)
        if self.engine.restore_configuration(self.daemon_backup):
            removed.append("the daemon's insecure-registries and registry-mirrors, as they were")
        removed += [f"{o.kind} {o.name}" for o in self.engine.remove_objects(self.scope)]
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
        for file, what in list(self.state.files.items()):
            self.remove_shared_file(Path(file))
            removed.append(what)
        for folder in sorted(self.state.shared_dirs, key=len, reverse=True):
            try:
                Path(folder).rmdir()
            except OSError:
                pass  # not empty: someone else's files are in it now
        self.state.clear()
        for folder in (self.workdir, self.state.dir):
            try:
                folder.rmdir()  # only when empty: it may hold the learner's own files
            except OSError:
                pass
        self.registry = None
        ports.release(self.scope.prefix)
        return removed
