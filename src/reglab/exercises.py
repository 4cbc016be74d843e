"""Lab sheets: a set-up, tasks whose ``check()`` reads live state, and a clean-up.

In the spirit of Kaggle's learntools: each task of a sheet is an object with ``check()``,
``hint()`` and ``solution()``. ``check()`` looks at the world *when it is called* — the
registry's HTTP API at the address the task names, the files on disk, the engine's
containers and volumes by the names the task names — so work typed in a terminal with the
docker CLI counts exactly like work done in Python. It never reads the learner's variables.
It prints one line: ``✔ Task 2 · …: evidence`` only when the task is done, else
``✘ Task 2 · …: what is still missing``, and keeps the result in the learner's progress.
A task is a method returning a :class:`reglab.checks.Check` (``done(…)``, ``missing(…)``, or
any check of :mod:`reglab.checks`): notebooks and sheets share one check API.

A sheet (one per lab, in :mod:`reglab.tasks`; the object is called ``sheet`` in a notebook)
chooses its ports and names at set-up — its own lab id ``lab-NN``, scoped to the learner —
builds what the tasks start from (for a break-fix lab, the broken set-up), writes down every
container, volume, tag and folder it asks the learner to create, so that ``cleanup()``, a later
start of the same sheet or ``python -m reglab clean`` removes them even when they were typed
without reglab's labels.

Where no docker CLI drives the engine (the daemonless engine), the sheet gives the notebook's
shell commands (``!docker …``) reglab's own ``docker`` command (:mod:`reglab.dockercli`), told
its lab and engine as arguments; this process's environment is never changed.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

from . import errors, journal, ports
from .checks import Check, done, missing
from .config import Settings
from .errors import ReglabError
from .lab import Lab
from .limits import Cannot
from .reference import parse
from .registry import Registry

__all__ = ["Sheet", "Task", "done", "missing", "task"]


class Task:
    """One task of a sheet: ``check()`` reads the live state, ``hint()`` and ``solution()`` help."""

    def __init__(self, sheet: Sheet, number: int, title: str, probe: Callable[[], Check], hint: str,
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
        return outcome.named(what)

    def check(self) -> None:
        """Look at the live state and print one line: ``✔ …`` when done, ``✘ …: what is missing``;
        keep the result in the learner's progress."""
        result = self.result()
        with suppress(OSError):  # a state folder that cannot be written keeps no progress, and says nothing
            journal.record(self.sheet.lab.settings.state_dir, self.sheet.lab.learner, self.sheet.id,
                           f"q{self.number}", result.ok)
        print(result)

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

    def wrap(probe: Callable[[Sheet], Check]):
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
    5000) and ``needs`` (what the lab cannot do without, as :class:`reglab.limits.Cannot` values,
    with why: an engine that cannot do one of them cannot run the lab), and implement :meth:`setup`.
    """

    id = ""
    title = ""
    port_base = 5100
    needs: dict[Cannot, str] = {}

    def __init__(self, engine=None, echo: bool = True, settings: Settings | None = None, lab: Lab | None = None):
        # a sheet's own lab clears an earlier run's leftovers; a notebook's practice shares the notebook's
        self.lab = lab or Lab(self.id, engine=engine, echo=False, settings=settings)
        self.engine, self.scope = self.lab.engine, self.lab.scope
        self.echo = echo
        self._names: dict[str, tuple[str, str]] = {}  # key → (value, what it is)
        self._hidden: dict[str, str] = {}  # names hints and solutions may use, not printed at set-up
        self._next_port = self.port_base
        self.shell = _ShellEnv()  # what `!cmd` in this notebook gets: reglab's docker, the lab's DOCKER_CONFIG
        lacking = [why for need, why in self.needs.items() if need in self.engine.cannot]
        if lacking:
            raise ReglabError(errors.sheet_needs(self.id, self.engine.label, lacking[0]))
        self._use_daemonless_docker()
        self.setup()
        self._introduce()

    # ------------------------------------------------------------------ set-up helpers

    def setup(self) -> None:
        """Build what the tasks start from; name everything with :meth:`name`."""

    def name(self, key: str, value: str, what: str) -> str:
        """Give the learner a name to use (printed at set-up, ``lab.<key>`` in cells)."""
        if hasattr(type(self), key):
            raise ValueError(errors.name_is_attribute(key))
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
        self.lab.state.add_tag(parse(reference).tagged)
        return reference

    def new_port(self) -> int:
        """A free port of this sheet's own (each call a new one, from ``port_base`` up), kept for
        the lab until its cleanup where the sandbox can keep ports (so that another learner's lab
        on the same machine never gets it, though the learner binds it only minutes later)."""
        port = self._next_port
        while True:
            port = ports.choose(port)
            if self.lab.sandbox.hold_port(port, "127.0.0.1"):
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
        raise AttributeError(errors.sheet_has_no_name(self.id, key, list(names)))

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
              "{sheet.address} stands for sheet.address):")
        width = max((len(k) for k in self._names), default=0) + 6
        for key, (value, what) in self._names.items():
            print(f"  {'sheet.' + key:<{width}}  {value}\n  {'':<{width}}  ({what})")
        numbers = [t.number for t in self.tasks]
        print(f"Tasks sheet.q{numbers[0]} … sheet.q{numbers[-1]}: .check() looks at the live state; "
              ".hint() and .solution() help.")

    def _use_daemonless_docker(self) -> None:
        """Where no docker CLI drives the engine, ``docker`` in this notebook's shell commands is
        reglab's daemonless docker, told this lab and engine as arguments (the settings a child
        process needs go with it; this process's environment is left as it is)."""
        if Cannot.DOCKER_CLI not in self.engine.cannot:
            return
        settings = self.lab.settings
        folder = self.lab.state.shell_bin
        folder.mkdir(parents=True, exist_ok=True)
        script = folder / "docker"
        # the sheet's settings go along, but for DOCKER_CONFIG: a shell's own export wins, as with docker
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(settings.environment().items())
                       if k != "DOCKER_CONFIG")
        text = (f'#!/bin/sh\nexec env {env} "{sys.executable}" -m reglab docker --engine {self.engine.kind} '
                f'--lab {self.id} "$@"\n')
        if not script.exists() or script.read_text() != text:
            tmp = folder / f".docker.{os.getpid()}"
            tmp.write_text(text)
            tmp.chmod(0o755)
            tmp.replace(script)
        self.shell.path = folder
        self.shell.install()
        if self.echo:
            print(f"(reglab) {errors.cannot_docker_cli(str(script))}")

    # ------------------------------------------------------------------ the end

    def reset(self) -> None:
        """Start this sheet over: its cleanup, then its set-up again (your names stay the same);
        other sheets and notebooks are not touched (``python -m reglab reset lab-07`` cleans from a
        terminal)."""
        self.cleanup()
        self._next_port = self.port_base
        self._use_daemonless_docker()
        self.setup()
        self._introduce()

    def cleanup(self) -> None:
        """Remove everything this lab and you created for it (also at the next start of the lab),
        then look again: say what is left, if anything."""
        state = self.lab.state
        named = (list(state.containers), list(state.volumes), list(state.tags), list(state.dirs))
        removed = self.lab.sandbox.clear()
        self.shell.remove()
        left = self.leftovers(*named)
        print(f"removed {len(removed)} thing(s) of lab {self.id[4:]}; " +
              ("nothing of it is left" if not left else f"still left: {', '.join(left)}"))

    def leftovers(self, containers=(), volumes=(), tags=(), folders=()) -> list[str]:
        """What of this lab exists now: its labelled objects, and the named ones (labelled or not)."""
        left = [f"{o.kind} {o.name}" for o in self.engine.objects.of(self.scope)]
        left += [f"container {n}" for n in containers if self.engine.containers.inspect(n) is not None]
        left += [f"volume {n}" for n in volumes if self.engine.objects.volume_exists(n)]
        left += [f"tag {t}" for t in tags if self.engine.images.info(t) is not None]
        left += [f"folder {f}" for f in folders if Path(f).exists()]
        return sorted(set(left))


class _ShellEnv:
    """Variables for the shell commands of this IPython kernel (``!cmd`` and ``x = !cmd``) — not
    for the kernel's own environment: a folder first on ``PATH`` (reglab's ``docker``), a
    ``DOCKER_CONFIG`` of the lab's — until removed."""

    def __init__(self):
        self.path: Path | None = None
        self.env: dict[str, str] = {}
        self.shell = None
        self._originals = None

    def prefix(self, cmd: str) -> str:
        """``cmd`` with the variables set first. IPython expands ``{name}`` (and ``$name``) in a
        shell command after this, so the prefix holds no ``$`` and doubles its braces; ``PATH`` is
        spelled out from this process's own."""
        def escaped(text: str) -> str:
            return text.replace("{", "{{").replace("}", "}}")

        env = dict(self.env)
        if self.path is not None:
            env["PATH"] = os.pathsep.join([str(self.path), os.environ.get("PATH", os.defpath)])
        parts = [f"{k}={escaped(shlex.quote(v))}; export {k}" for k, v in env.items() if "$" not in v]
        return "; ".join(parts + [cmd]) if parts else cmd

    def install(self) -> None:
        if self.shell is not None:
            return
        try:
            from IPython import get_ipython
        except ImportError:  # not in IPython: in a terminal, type the variables yourself
            return
        shell = get_ipython()
        if shell is None:
            return
        self.shell = shell
        system, getoutput = shell.system, shell.getoutput

        # IPython expands a command's {names} from the caller's frame (here: these functions, whose
        # only locals are these two oddly named ones) merged over the notebook's own names
        def shell_system(*_reglab_args, **_reglab_kwargs):
            return system(self.prefix(_reglab_args[0]), *_reglab_args[1:], **_reglab_kwargs)

        def shell_getoutput(*_reglab_args, **_reglab_kwargs):
            return getoutput(self.prefix(_reglab_args[0]), *_reglab_args[1:], **_reglab_kwargs)

        shell.system, shell.getoutput = shell_system, shell_getoutput
        self._originals = (system, getoutput)

    def remove(self) -> None:
        """Unhook the shell (its folder, the lab's ``State.shell_bin``, goes with the lab's cleanup)."""
        if self.shell is not None:
            self.shell.system, self.shell.getoutput = self._originals
            self.shell = None


class Practice(Sheet):
    """"Your turn" inside a notebook: tasks like a sheet's, on the notebook's own lab (``practice =
    start("01", lab)``). What a task asks the learner to make is named with the lab's names and
    goes with the notebook's ``lab.cleanup()``; nothing is set up beyond :meth:`setup`. Each task's
    solution is also a hidden ``solution`` cell of the notebook, which nbval runs."""

    def __init__(self, lab: Lab, echo: bool = True):
        super().__init__(echo=echo, lab=lab)
        lab.sandbox.on_clear(self._forget)

    def _forget(self) -> None:
        self.shell.remove()

    def _introduce(self) -> None:
        if self.echo:
            numbers = [t.number for t in self.tasks]
            print(f"Your turn in notebook {self.id}: practice.q{numbers[0]} … practice.q{numbers[-1]}; .check() "
                  "looks at the live state, .hint() and .solution() help.")

    def cleanup(self) -> None:
        """The notebook's ``lab.cleanup()`` removes what the tasks made; this only forgets the shell hook."""
        self.shell.remove()
