"""One learner's sandbox for one lab: its scope, what it created, and its current registry.

The topics of the course (:mod:`reglab.steps`) share it: names come from its scope, image
tags, images, folders and files it creates are written down in its state, so that
:meth:`Sandbox.clear` (cleanup, and the next ``Lab`` after a killed kernel) removes exactly
those. A change to the daemon's configuration is undone from the backup in the lab's state
folder; a change that lives only in this process registers its undo with :meth:`Sandbox.on_clear`.
What it removed comes back as :class:`Made` records; only the narrator words them.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import errors, ports
from .engines import Engine
from .errors import NameConflict, ReglabError
from .naming import Scope
from .reference import parse
from .registry import Registry
from .state import State, work_root

KINDS = ("container", "volume", "network", "tag", "image", "folder", "file", "restored")


@dataclass(frozen=True)
class Made:
    """One thing a lab made (or changed and put back): its kind (:data:`KINDS`) and name; a
    ``file`` or a ``restored`` setting also says what it is (``the CA certificate trusted for …``).
    :meth:`Sandbox.clear` returns those it removed, :meth:`Sandbox.left` those still there."""

    kind: str
    name: str
    what: str = ""

    def __str__(self) -> str:
        """``container reglab-01-registry``; a file or a restored setting by what it is."""
        return self.what or self.name if self.kind in ("file", "restored") else f"{self.kind} {self.name}"


class Sandbox:
    def __init__(self, scope: Scope, engine: Engine, settings=None):
        self.scope = scope
        self.engine = engine
        self.settings = settings or engine.settings
        self.state = State(self.settings.state_dir, scope)
        self.workdir = work_root(self.settings.workdir, scope.learner) / scope.lab
        self.registry: Registry | None = None  # the one the steps act on
        self.port: int | None = None  # the port chosen once, used by every later registry and twin
        self.docker_config: Path = self.settings.docker_config  # where logins go (a lab may use a throwaway one)
        self._undo: list[Callable[[], Made | None]] = []

    @property
    def daemon_backup(self) -> Path:
        """Where the daemon's original configuration is kept while the lab has changed it."""
        return self.state.dir / "daemon.json.backup"

    def credentials(self, host: str) -> tuple[str, str] | None:
        """What ``docker login`` stored for ``host`` in this lab's ``DOCKER_CONFIG`` folder."""
        from .credentials import stored as stored_credentials

        return stored_credentials(self.docker_config, host)

    def on_clear(self, undo: Callable[[], Made | None]) -> None:
        """Run ``undo`` at the next clear (once); what it returns, if anything, is listed as removed."""
        self._undo.append(undo)

    def hold_port(self, port: int, host: str) -> bool:
        """Keep ``port`` for this lab until it is cleared (True), unless another lab keeps it (False)."""
        if not ports.hold(port, host, self.scope.prefix, self.settings.port_locks):
            return False
        address = f"{host}:{port}"
        if address not in self.state.addresses:  # what is named under it now is not the lab's
            self.state.add_address(address, [name for name, _ in self._names_under(address)])
        return True

    def object_name(self, role: str) -> str:
        return self.scope.object_name(role)

    def current(self) -> Registry:
        if self.registry is None:
            raise errors.no_registry_yet()
        return self.registry

    def check_strangers(self, adopt: bool = False) -> list[str]:
        """Objects with this lab's names that it did not create — typing the twins by hand makes
        them — would make a later step fail half-way. Stop at once with one sentence that says how
        to get out; with ``adopt`` (the learner says so) remove them as the lab's own."""
        asked = set(self.state.containers) | set(self.state.volumes)  # names a lab sheet asked the learner to type
        strangers = [o for o in self.engine.objects.strangers(self.scope) if o.name not in asked]
        if not strangers:
            return []
        if adopt:
            self.engine.objects.remove_strangers(strangers)
            return [f"{o.kind} {o.name}" for o in strangers]
        order = {"container": 0, "network": 1, "volume": 2}
        strangers = sorted(strangers, key=lambda o: (order.get(o.kind, 3), o.name))
        raise errors.strangers_hold_names(self.scope.lab, [(o.kind, o.name) for o in strangers])

    def record_tag(self, tag: str) -> None:
        """Remember a tag this lab created, so cleanup removes it (the course images excepted)."""
        course = {parse(self.settings.registry_image).tagged, parse(self.settings.hello_image).tagged}
        if tag not in course:
            self.state.add_tag(tag)

    def record_image(self, image_id: str, existed: bool) -> None:
        """Remember an image this lab loaded or pulled (not one that was there before), so cleanup
        removes it even after it lost its last tag (a dangling image, ``<none>`` in ``docker image ls``)."""
        if not existed and image_id:
            self.state.add_image(image_id)

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
            raise NameConflict(errors.file_not_ours(path))
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

    def clear(self) -> list[Made]:
        """Remove the objects, tags, images, folders and files of this scope, undo its changes;
        return what went. A tag or an image that cannot go (a container still uses it) stays
        written down: the next cleanup tries again, and ``checks.nothing_left`` names it."""
        removed: list[Made] = []
        while self._undo:
            done = self._undo.pop()()
            if done:
                removed.append(done)
        if self.engine.daemon.restore(self.daemon_backup):
            removed.append(Made("restored", "the daemon's insecure-registries and registry-mirrors, as they were"))
        for name in list(self.state.containers):  # named for the learner, maybe made without our label
            if self.engine.containers.inspect(name) is not None:
                try:
                    self.engine.containers.remove(name)
                    removed.append(Made("container", name))
                except ReglabError:
                    pass
        removed += [Made(o.kind, o.name) for o in self.engine.objects.remove_all(self.scope)
                    if Made(o.kind, o.name) not in removed]
        for name in list(self.state.volumes):
            if self.engine.objects.volume_exists(name):
                try:
                    self.engine.objects.remove_volume(name)
                    removed.append(Made("volume", name))
                except ReglabError:
                    pass
        for tag in list(self.state.tags):
            try:
                self.engine.images.remove(tag)
                removed.append(Made("tag", tag))
            except ReglabError:
                pass  # already gone, or still used: decided below
            if self.engine.images.info(tag) is None:
                self.state.drop_tag(tag)
        for image_id in list(self.state.images):
            info = self.engine.images.info(image_id)
            if info is not None and not info.tags:  # dangling: nobody's name is on it any more
                try:
                    self.engine.images.remove(image_id)
                    removed.append(Made("image", image_id[7:19]))
                except ReglabError:
                    pass  # a container still uses it: leave it
            if self.engine.images.info(image_id) is None or info is None or info.tags:
                self.state.drop_image(image_id)  # gone, or it has a name that is not the lab's to remove
        removed += [m for m in self._forget_names() if m not in removed]  # after the images: by ID first
        for folder in list(self.state.dirs):
            path = Path(folder)
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
                removed.append(Made("folder", str(path)))
        for file, what in list(self.state.files.items()):
            self.remove_shared_file(Path(file))
            removed.append(Made("file", file, what))
        for folder in sorted(self.state.shared_dirs, key=len, reverse=True):
            try:
                Path(folder).rmdir()
            except OSError:
                pass  # not empty: someone else's files are in it now
        self.state.dirs, self.state.shared_dirs = [], []
        self.state.containers = [n for n in self.state.containers if self.engine.containers.inspect(n) is not None]
        self.state.volumes = [n for n in self.state.volumes if self.engine.objects.volume_exists(n)]
        if self.state.tags or self.state.images or self.state.containers or self.state.volumes:
            self.state.save()
        else:
            self.state.clear()
        shutil.rmtree(self.state.shell_bin, ignore_errors=True)  # the lab's shell programs (exercises)
        learner_folder = [self.workdir.parent] if self.scope.learner else []  # workdir/<learner>, made with it
        for folder in (self.workdir, *learner_folder, self.state.dir):
            try:
                folder.rmdir()  # only when empty: it may hold the learner's own files, or other labs'
            except OSError:
                pass
        self.registry = None
        self.docker_config = self.settings.docker_config
        ports.release(self.scope.prefix)
        return removed

    def _names_under(self, address: str) -> list[tuple[str, object]]:
        """Every image name under ``address`` (``127.0.0.1:5000/…``, tags and digests) with its image."""
        return [(name, info) for info in self.engine.images.list() for name in (*info.tags, *info.repo_digests)
                if name.startswith(f"{address}/")]

    def _forget_names(self) -> list[Made]:
        """The image names under the addresses this lab took that were not there when it took them:
        what the lab and the learner pulled, tagged or pushed there (``docker image pull
        127.0.0.1:5000/motd:crane``, and a digest name Docker keeps after a tag moved to another
        image). Names that were there before, a learner's own, stay."""
        gone = []
        for address, before in self.state.addresses.items():
            for name, _ in self._names_under(address):
                if name in before:
                    continue
                try:
                    self.engine.images.remove(name)
                except ReglabError:
                    continue  # a container still uses it: named below as left
                gone.append(Made("tag", name))
        return gone

    def pending(self) -> list[Made]:
        """What :meth:`clear` would remove now, removing nothing, as a learner removes it by hand:
        the objects, tags and folders this lab made. Names by digest and the images only the lab's
        tags name are left out: removing an image's last tag of a repository removes those too
        (the Docker engine; the daemonless engine has no digest names)."""
        found = [Made("container", n) for n in self.state.containers if self.engine.containers.inspect(n) is not None]
        left = [m for m in self.left() if m not in found and "@" not in m.name]
        known = [m for m in left if m.kind != "tag" or m.name in self.state.tags]
        found += known + sorted((m for m in left if m not in known), key=lambda m: m.name)  # either engine's order
        found += [Made("volume", n) for n in self.state.volumes
                  if self.engine.objects.volume_exists(n) and Made("volume", n) not in found]
        found += [Made("folder", d) for d in self.state.dirs if Path(d).is_dir()]
        found += [Made("file", f, what) for f, what in self.state.files.items() if Path(f).exists()]
        return found

    def left(self) -> list[Made]:
        """What this lab created that still exists: its labelled objects, tags and dangling images."""
        left = [Made(o.kind, o.name) for o in self.engine.objects.of(self.scope)]
        left += [Made("tag", t) for t in self.state.tags if self.engine.images.info(t) is not None]
        left += [Made("tag", name) for address, before in self.state.addresses.items()
                 for name, _ in self._names_under(address) if name not in before and Made("tag", name) not in left]
        for image_id in self.state.images:
            info = self.engine.images.info(image_id)
            if info is not None and not info.tags:
                left.append(Made("image", image_id[7:19]))
        return left
