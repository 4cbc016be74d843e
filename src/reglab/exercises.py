"""Lab sheets: a set-up, tasks whose ``check()`` reads live state, and a clean-up.

In the spirit of Kaggle's learntools: each task of a sheet is an object with ``check()``,
``hint()`` and ``solution()``. ``check()`` looks at the world *when it is called* — the
registry's HTTP API at the address the task names, the files on disk, the engine's
containers and volumes by the names the task names — so work typed in a terminal with the
docker CLI counts exactly like work done in Python. It never reads the learner's variables.
It prints one line: ``✔ Task 2 · …: evidence`` only when the task is done, else
``✘ Task 2 · …: what is still missing``.

A sheet (one per lab, in :mod:`reglab.tasks`) chooses its ports and names at set-up — its own
lab id ``lab-NN``, scoped to the learner (``REGLAB_LEARNER``) — builds what the tasks start
from (for a break-fix lab, the broken set-up), writes down every container, volume, tag and
folder it asks the learner to create, so that ``cleanup()``, a later start of the same sheet
or ``python -m reglab clean`` removes them even when they were typed without reglab's labels.

Without Docker (the daemonless engine) the sheet puts reglab's own ``docker`` command
(:mod:`reglab.dockercli`) first on the notebook's ``PATH``, so ``!docker …`` cells run on the
engine the checks read.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import ports
from .checks import Check, image_in_registry
from .engines import ContainerInfo
from .errors import ReglabError
from .lab import Lab
from .media import DOCKER_MANIFEST, OCI_MANIFEST, short_digest
from .registry import Registry
from .registry_api import RegistryClient
from .state import state_root

DELETE_PROBE = "sha256:" + "0" * 64  # no manifest has it: DELETE answers 404 if deletes are on, 405 if off
ACCEPT_MANIFESTS = (DOCKER_MANIFEST, OCI_MANIFEST)


@dataclass(frozen=True)
class Outcome:
    """What a task's probe found: done, and the evidence or what is still missing."""

    ok: bool
    detail: str


def done(evidence: str) -> Outcome:
    return Outcome(True, evidence)


def missing(what: str) -> Outcome:
    return Outcome(False, what)


class Task:
    """One task of a sheet: ``check()`` reads the live state, ``hint()`` and ``solution()`` help."""

    def __init__(self, sheet: Sheet, number: int, title: str, probe: Callable[[], Outcome], hint: str,
                 solution: str):
        self.sheet, self.number, self.title = sheet, number, title
        self._probe, self._hint, self._solution = probe, hint, solution

    def result(self) -> Check:
        """The check's outcome as a :class:`~reglab.checks.Check` (truthy when done), without printing."""
        what = f"Task {self.number} · {self.title}"
        try:
            outcome = self._probe()
        except ReglabError as exc:  # the state cannot be read: that is what is missing
            outcome = missing(str(exc).rstrip("."))
        return Check(outcome.ok, what, outcome.detail)

    def check(self) -> None:
        """Look at the live state and print one line: ``✔ …`` when done, ``✘ …: what is missing``."""
        print(self.result())

    def hint(self) -> None:
        print(f"Hint (task {self.number}): {self.sheet.fill(self._hint)}")

    def solution(self) -> None:
        print(f"One solution (task {self.number}):\n{self.sheet.fill(self._solution)}")

    def __repr__(self) -> str:
        return f"Task {self.number} · {self.title} (.check(), .hint(), .solution())"


def task(title: str, hint: str, solution: str):
    """Declare a sheet method returning an :class:`Outcome` as task ``q<N>`` of the sheet.

    ``hint`` and ``solution`` may name the sheet's names as ``{registry}``, ``{address}`` …
    """

    def wrap(probe: Callable[[Sheet], Outcome]):
        return _TaskSpec(title, hint, solution, probe)

    return wrap


class _TaskSpec:
    def __init__(self, title, hint, solution, probe):
        self.title, self.hint, self.solution, self.probe = title, hint, solution, probe
        self.number = 0

    def __set_name__(self, owner, name: str) -> None:
        self.number = int(name.lstrip("q"))

    def __get__(self, sheet, owner=None):
        if sheet is None:
            return self
        return Task(sheet, self.number, self.title, lambda: self.probe(sheet), self.hint, self.solution)


class Sheet:
    """One lab sheet: set up on construction, tasks ``q1``, ``q2`` …, ``cleanup()`` at the end.

    Subclasses set ``id``, ``title``, ``port_base`` (their own ports, away from the notebooks'
    5000) and ``docker_only`` (why the lab needs a Docker engine, or "" when the daemonless
    engine will do), and implement :meth:`setup`.
    """

    id = ""
    title = ""
    port_base = 5100
    docker_only = ""

    def __init__(self, engine=None, echo: bool = True):
        self.lab = Lab(self.id, engine=engine, echo=False)  # clears an earlier run's leftovers
        self.engine, self.scope = self.lab.engine, self.lab.scope
        self.echo = echo
        self._names: dict[str, tuple[str, str]] = {}  # key → (value, what it is)
        self._hidden: dict[str, str] = {}  # names hints and solutions may use, not printed at set-up
        self._next_port = self.port_base
        if self.docker_only and self.engine.kind != "docker":
            raise ReglabError(f"lab {self.id} needs a Docker engine ({self.docker_only}): start Docker, or pick "
                              "another lab (labs/README.md says which run without Docker).")
        self._use_daemonless_docker()
        self.setup()
        self._introduce()

    # ------------------------------------------------------------------ set-up helpers

    def setup(self) -> None:
        """Build what the tasks start from; name everything with :meth:`name`."""

    def name(self, key: str, value: str, what: str) -> str:
        """Give the learner a name to use (printed at set-up, ``lab.<key>`` in cells)."""
        if hasattr(type(self), key):
            raise ValueError(f"{key!r} is an attribute of sheets: name it otherwise")
        self._names[key] = (value, what)
        return value

    def hidden(self, key: str, value: str) -> str:
        """A name for hints and solutions only: finding it is part of the task."""
        self._hidden[key] = value
        return value

    def new_container(self, key: str, role: str, what: str) -> str:
        """A container name the learner will create (cleanup removes it, labelled or not)."""
        name = self.scope.object_name(role)
        self.lab.state.add_name("containers", name)
        return self.name(key, name, what)

    def new_volume(self, key: str, role: str, what: str) -> str:
        """A volume name the learner will create (cleanup removes it, labelled or not)."""
        name = self.scope.object_name(role)
        self.lab.state.add_name("volumes", name)
        return self.name(key, name, what)

    def new_folder(self, key: str, rel: str, what: str) -> str:
        """A folder of the lab's own (made now, removed by cleanup)."""
        return self.name(key, str(self.lab.sandbox.folder(rel)), what)

    def expect_tag(self, reference: str) -> str:
        """An image name the learner will create by tagging or pulling (cleanup removes it)."""
        from .reference import parse

        self.lab.state.add_tag(parse(reference).tagged)
        return reference

    def new_port(self) -> int:
        """A free port of this sheet's own (each call a new one, from ``port_base`` up), kept for
        the lab until its cleanup where the sandbox can keep ports (so that another learner's lab
        on the same machine never gets it, though the learner binds it only minutes later)."""
        port = self._next_port
        hold = getattr(self.lab.sandbox, "hold_port", None)
        while True:
            port = ports.choose(port)
            if hold is None or hold(port, "127.0.0.1"):
                break
            port += 1
        self._next_port = port + 1
        return port

    def new_address(self, key: str, what: str) -> str:
        """``127.0.0.1:<a free port of the sheet's>``, for a registry the learner will run."""
        return self.name(key, f"127.0.0.1:{self.new_port()}", what)

    def run_registry(self, role: str, address: str | None = None, **kwargs) -> Registry:
        """Start a registry of the set-up's own (labelled), on ``address``'s port if given."""
        port = int(address.rsplit(":", 1)[1]) if address else self.new_port()
        registry = self.lab.run_registry(port=port, name=role, **kwargs)  # the next free port if it went
        self.lab.state.add_name("containers", registry.name)  # the learner may recreate it, unlabelled
        self._next_port = max(self._next_port, registry.port + 1)
        return registry

    # ------------------------------------------------------------------ names, printed and filled in

    def __getattr__(self, key: str) -> str:
        names = self.__dict__.get("_names", {})
        if key in names:
            return names[key][0]
        hidden = self.__dict__.get("_hidden", {})
        if key in hidden:
            return hidden[key]
        raise AttributeError(f"lab {self.id} has no name {key!r}: it has {', '.join(names) or 'none'}")

    def fill(self, text: str) -> str:
        return text.format(**self._hidden, **{k: v for k, (v, _) in self._names.items()})

    @property
    def tasks(self) -> list[Task]:
        found = [getattr(self, n) for n in sorted(dir(type(self))) if isinstance(getattr(type(self), n, None),
                                                                                   _TaskSpec)]
        return sorted(found, key=lambda t: t.number)

    def _introduce(self) -> None:
        if not self.echo:
            return
        print(f"Lab {self.id[4:]} · {self.title}: set up. Your names, yours alone (in a cell, "
              "{lab.address} stands for lab.address):")
        width = max((len(k) for k in self._names), default=0) + 4
        for key, (value, what) in self._names.items():
            print(f"  {'lab.' + key:<{width}}  {value}\n  {'':<{width}}  ({what})")
        numbers = [t.number for t in self.tasks]
        print(f"Tasks lab.q{numbers[0]} … lab.q{numbers[-1]}: .check() looks at the live state; "
              ".hint() and .solution() help.")

    def _use_daemonless_docker(self) -> None:
        """Without Docker, ``docker`` in this notebook is reglab's daemonless docker command."""
        if self.engine.kind == "docker":
            return
        folder = state_root() / "bin"
        folder.mkdir(parents=True, exist_ok=True)
        script = folder / "docker"
        text = f'#!/bin/sh\nexec "{sys.executable}" -m reglab docker "$@"\n'
        if not script.exists() or script.read_text() != text:
            tmp = folder / f".docker.{os.getpid()}"
            tmp.write_text(text)
            tmp.chmod(0o755)
            tmp.replace(script)
        path = os.environ.get("PATH", os.defpath).split(os.pathsep)
        if path[0] != str(folder):
            os.environ["PATH"] = os.pathsep.join([str(folder)] + [p for p in path if p != str(folder)])
        os.environ["REGLAB_ENGINE"] = self.engine.kind
        os.environ["REGLAB_LAB"] = self.id
        if self.echo:
            print(f"(reglab) no Docker here: `docker` in this notebook is reglab's daemonless docker ({script}); "
                  "in a terminal type `python -m reglab docker …`.")

    # ------------------------------------------------------------------ the end

    def cleanup(self) -> None:
        """Remove everything this lab and you created for it (also at the next start of the lab),
        then look again: say what is left, if anything."""
        state = self.lab.state
        named = (list(state.containers), list(state.volumes), list(state.tags), list(state.dirs))
        removed = self.lab.sandbox.clear()
        left = self.leftovers(*named)
        print(f"removed {len(removed)} thing(s) of lab {self.id[4:]}; " +
              ("nothing of it is left" if not left else f"still left: {', '.join(left)}"))

    def leftovers(self, containers=(), volumes=(), tags=(), folders=()) -> list[str]:
        """What of this lab exists now: its labelled objects, and the named ones (labelled or not)."""
        left = [f"{o.kind} {o.name}" for o in self.engine.objects(self.scope)]
        left += [f"container {n}" for n in containers if self.engine.inspect(n) is not None]
        left += [f"volume {n}" for n in volumes if self.engine.volume_exists(n)]
        left += [f"tag {t}" for t in tags if self.engine.image_info(t) is not None]
        left += [f"folder {f}" for f in folders if Path(f).exists()]
        return sorted(set(left))

    # ------------------------------------------------------------------ probes the tasks share

    def registry_at(self, name: str, address: str) -> tuple[ContainerInfo | None, str | None]:
        """The container ``name`` if it is a running registry publishing ``address`` that answers
        ``GET /v2/``; else (info or None, what is missing)."""
        host, port = address.rsplit(":", 1)
        info = self.engine.inspect(name)
        run = f"docker container run -d --name {name} -p {address}:5000 … registry:2"
        if info is None:
            return None, f"there is no container {name} yet: start it ({run})"
        if not info.running:
            return info, f"{name} exists but is not running ({info.status}): start it, or remove it and run it again"
        if not info.publishes(int(port), host):
            where = ", ".join(f"{h or '0.0.0.0'}:{p}" for h, p in info.ports) or "no port"
            return info, f"{name} publishes {where}, not {address}: recreate it with -p {address}:5000"
        try:  # a registry started a moment ago may need a second to answer
            RegistryClient(address).wait_ready(timeout=15)
        except ReglabError:
            return info, f"{name} runs but nothing answers GET /v2/ at {address}: look at docker container logs {name}"
        if not RegistryClient(address).ping():
            return info, f"{name} answers at {address} but not with 200 (GET /v2/): look at docker container logs {name}"
        return info, None

    def served(self, address: str, repository: str, tag: str) -> Check:
        """Can the registry at ``address`` serve ``repository:tag`` whole (manifest, config, layers)?"""
        host, port = address.rsplit(":", 1)
        return image_in_registry(Registry("?", host, int(port)), repository, tag)

    @staticmethod
    def api(address: str) -> RegistryClient:
        return RegistryClient(address)

    @staticmethod
    def digest_of(address: str, repository: str, tag: str) -> str | None:
        """The manifest digest a tag has (as Docker asks for it), or None when there is no such tag."""
        try:
            return RegistryClient(address).manifest_head(repository, tag, accept=ACCEPT_MANIFESTS).digest
        except ReglabError:
            return None

    @staticmethod
    def has_tag(address: str, repository: str, tag: str) -> bool:
        try:
            return tag in RegistryClient(address).tags(repository)
        except ReglabError:
            return False

    @staticmethod
    def deletes_allowed(address: str, repository: str) -> bool:
        """Live: does the registry accept deletes? (DELETE of a digest no manifest has: 404 if on, 405 if off.)"""
        status = RegistryClient(address).request("DELETE", f"/v2/{repository}/manifests/{DELETE_PROBE}",
                                                 ok=tuple(range(100, 600))).status_code
        return status != 405

    @staticmethod
    def writable(address: str, repository: str) -> bool:
        """Live: does the registry accept a push? (It starts an upload, then cancels it.)"""
        api = RegistryClient(address)
        answer = api.request("POST", f"/v2/{repository}/blobs/uploads/", ok=tuple(range(100, 600)))
        if answer.status_code == 202 and answer.headers.get("Location"):
            api.request("DELETE", api.url(answer.headers["Location"]), ok=tuple(range(100, 600)))
        return answer.status_code == 202

    @staticmethod
    def remembers(address: str, repository: str, digest: str) -> bool:
        """Does the registry answer 200 to ``HEAD`` a blob (from its disk, or from its cache)?"""
        return RegistryClient(address).has_blob(repository, digest)

    def on_disk(self, name: str):
        """The storage of the registry container ``name``, read now (a model of its files)."""
        return self.engine.storage(name)

    @staticmethod
    def short(digest: str) -> str:
        return short_digest(digest)

    @staticmethod
    def same_folder(a: str | os.PathLike | None, b: str | os.PathLike) -> bool:
        return a is not None and os.path.realpath(a) == os.path.realpath(b)

    @staticmethod
    def exists(path: str | os.PathLike) -> bool:
        return Path(path).exists()
