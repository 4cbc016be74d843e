"""``Lab``: one learner's sandbox for one notebook, and the course's steps, one hop away.

Every step prints its docker CLI twin (the exact command, with the real names and ports)
and then one line saying what happened; it returns a small result object. Everything the
lab creates is named ``reglab-[<learner>-]<lab>-<role>``, labelled ``reglab.lab=<lab>`` (and
``reglab.learner``), and removed by ``cleanup()``, on ``with`` exit, at interpreter exit,
and by the next ``Lab`` of that name.

The everyday verbs (run, tag, push, pull, remove) are the lab's own methods (``lab.run_registry``, ``lab.push`` …); each
topic of the course is one attribute, one module of :mod:`reglab.steps`:

======================  =========================================  ========
``lab.storage``         the storage tree, links, blobs, API vs disk  02, 03
``lab.crane``           a remote digest, a copy that keeps it        01
``lab.growth``          growth, deleting, garbage collection         04
``lab.secure``          secure by default, TLS, a login              05
``lab.mirror``          a pull-through cache and its bandwidth     06
``lab.versions``        registry:2 beside registry:3               A
``lab.scale``           object storage, replicas, a shared cache   07
======================  =========================================  ========

A new topic is one module in :mod:`reglab.steps`, one line in ``__init__`` below, and its
notebook; its steps receive what they use explicitly (narrator, engine, sandbox, registries).
"""

from __future__ import annotations

import atexit
import inspect
import os
from collections.abc import Callable
from contextlib import AbstractContextManager, suppress

from . import images as course_images
from . import journal
from .checks import Check
from .config import Settings
from . import errors
from .engines import Cannot, Engine, Run, Transfer, get_engine
from .errors import SharedEngine
from .naming import ANY, Scope
from .narrator import Narrator
from .registries import Registries
from .registry import Registry
from .sandbox import Made, Sandbox
from .steps.disk import DiskSteps
from .steps.growth import GrowthSteps
from .steps.local_images import CraneSteps, ImageSteps, ImageTable
from .steps.mirror import MirrorSteps
from .steps.scale import ScaleSteps
from .steps.secure import SecureSteps
from .steps.versions import VersionSteps

__all__ = ["Lab", "Registry"]

# notebooks whose steps remove or count the course's own images (hello-world): on an engine whose
# images every learner shares, two learners cannot run them at once (one removes what the other uses)
SHARED_IMAGES = frozenset({"01", "02", "04"})


class Lab:
    """One notebook's sandbox: names, labels, ports, cleanup — and the course's steps.

    >>> lab = Lab("01")                         # doctest: +SKIP
    >>> registry = lab.run_registry(port=5000)  # doctest: +SKIP
    """

    def __init__(self, name: str, engine: Engine | None = None, echo: bool = True,
                 ensure_images: bool = True, learner: str | None = ANY, adopt: bool = False,
                 settings: Settings | None = None):
        self.settings = settings or (engine.settings if engine else Settings.from_env())
        self.scope = Scope(name, self.settings.learner if learner == ANY else learner)
        self.name, self.learner = self.scope.lab, self.scope.learner
        self.narrator = Narrator(echo, self.settings.twin_log)
        self.engine = engine or get_engine(settings=self.settings)
        self.sandbox = Sandbox(self.scope, self.engine, self.settings)
        self.registries = Registries(self.narrator, self.engine, self.sandbox)
        self._images = ImageSteps(self.narrator, self.engine, self.sandbox)
        # the course's topics, one module each
        self.storage = DiskSteps(self.narrator, self.engine, self.sandbox)
        self.crane = CraneSteps(self.narrator, self.engine, self.sandbox)
        self.growth = GrowthSteps(self.narrator, self.engine, self.sandbox, self.registries)
        self.secure = SecureSteps(self.narrator, self.engine, self.sandbox, self.registries)
        self.mirror = MirrorSteps(self.narrator, self.engine, self.sandbox, self.registries)
        self.versions = VersionSteps(self.narrator, self.engine, self.sandbox, self.registries)
        self.scale = ScaleSteps(self.narrator, self.engine, self.sandbox, self.registries)

        self._check_alone_with_shared_images()
        adopted = self.sandbox.check_strangers(adopt)  # objects with this lab's names it did not create
        if adopted:
            self.narrator.note(f"took over and removed, as you asked (adopt=True): {', '.join(adopted)}")
        removed = self.sandbox.clear()
        if removed:
            self.narrator.note(f"removed leftovers of an earlier run of {self.scope.describe()}: {', '.join(map(str, removed))}")
        if ensure_images:
            statuses = course_images.ensure(self.engine, settings=self.settings)
            for status in statuses:
                if status.action != "present":
                    self.narrator.note(f"{status}")
            real = course_images.real_images_note(statuses)
            if real:  # the saved outputs were made with the stand-ins: say once why these differ
                self.narrator.note(real)
        atexit.register(self._at_exit)
        self.narrator.say(f"lab {self.name} ready: what it creates is named {self.scope.prefix}-… "
                          f"and labelled reglab.lab={self.name}"
                          + (f",reglab.learner={self.learner}" if self.learner else ""))

    def _check_alone_with_shared_images(self) -> None:
        """Stop in the first cell, not half-way: another learner's lab on an engine whose images
        everyone shares means this notebook's image steps would remove what they use."""
        if self.name not in SHARED_IMAGES or Cannot.KEEP_IMAGES_APART not in self.engine.cannot:
            return
        others = sorted({o.learner or "(no learner name)" for o in self.engine.objects.of(Scope(None, ANY))
                         if o.learner != self.learner and not o.lab.startswith("t-")})
        if others:
            raise SharedEngine(errors.engine_shared(self.name, others[0], self.engine.label))

    # ------------------------------------------------------------------ the sandbox

    @property
    def echo(self) -> bool:
        return self.narrator.echo

    @echo.setter
    def echo(self, value: bool) -> None:
        self.narrator.echo = value

    @property
    def registry(self) -> Registry | None:
        """The registry the steps act on (the last one started)."""
        return self.sandbox.registry

    @property
    def state(self):
        """The tags and folders this lab created (:class:`reglab.state.State`)."""
        return self.sandbox.state

    @property
    def port(self) -> int | None:
        return self.sandbox.port

    @property
    def workdir(self):
        return self.sandbox.workdir

    def object_name(self, role: str) -> str:
        return self.scope.object_name(role)

    def objects(self) -> list[Made]:
        """What this lab made that exists right now: its containers, volumes and networks
        (``docker ps -a --filter label=…``), and the image tags and images it made or pulled."""
        return self.sandbox.left()

    def cleanup(self, dry_run: bool = False) -> list[Made]:
        """Remove every container, volume, network, tag, image and folder this lab created, printing
        the twins that do the same by hand; return what went. ``dry_run=True`` prints those twins
        for what the lab has made so far and removes nothing (notebook 03 keeps its registry for
        its explorer until the kernel stops)."""
        if dry_run:
            pending = self.sandbox.pending()
            self.narrator.cleanup(self.name, pending, dry_run=True)
            return pending
        removed = self.sandbox.clear()
        self.narrator.cleanup(self.name, removed)
        return removed

    def reset(self) -> list[Made]:
        """Start this notebook over: remove everything it made (as :meth:`cleanup`), keep this
        ``lab`` usable; other notebooks and sheets are not touched (``python -m reglab reset 01``
        does the same from a terminal)."""
        removed = self.cleanup()
        self.narrator.say(f"lab {self.name} reset: run the notebook again from its first step")
        return removed

    def check(self, check: Callable[..., Check], *what, **options) -> Check:
        """Run one of :mod:`reglab.checks` on what it reads — ``lab.check(checks.image_in_registry,
        registry, "hello-world")``; where it reads this lab's engine, scope or daemon backup, the lab
        hands them over — and keep its result in your progress."""
        given = list(what)
        for name, parameter in inspect.signature(check).parameters.items():
            if name in options:
                continue
            if name in ("engine", "scope", "daemon_backup"):
                options[name] = {"engine": self.engine, "scope": self.scope,
                                 "daemon_backup": self.sandbox.daemon_backup}[name]
            elif given:
                options[name] = given.pop(0)
        result = check(**options)
        with suppress(OSError):  # a state folder that cannot be written keeps no progress, and says nothing
            journal.record(self.settings.state_dir, self.learner, self.name, check.__name__, result.ok)
        return result

    def expect_failure(self) -> AbstractContextManager:
        """``with lab.expect_failure(): …`` shows a step's expected error as its one sentence."""
        return self.narrator.expect_failure()

    def _at_exit(self) -> None:
        try:
            self.narrator.echo = False
            self.sandbox.clear()
        except Exception:  # the daemon may be gone at exit; the next Lab() cleans up
            pass

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()

    # ------------------------------------------------------------------ registries: reglab/registries.py

    def run_registry(self, port: int | None = None, volume: str | None = None,
                     bind: str | os.PathLike | None = None, name: str = "registry",
                     env: dict[str, str] | None = None, host: str = "127.0.0.1", image: str | None = None) -> Registry:
        """Start a registry container (``docker container run … registry:3``) and wait until it answers;
        ``image="registry:2"`` runs the older one."""
        return self.registries.run(port=port, volume=volume, bind=bind, name=name, env=env, host=host, image=image)

    def kill_registry(self) -> None:
        """Stop the registry at once (``docker container kill``)."""
        self.registries.kill()

    def remove_registry(self) -> None:
        """Remove the registry container (``docker container rm -v``); a volume stays."""
        self.registries.remove()

    def restart_registry(self, **settings: str | None) -> Registry:
        """Recreate the registry on the same storage with changed settings (None removes one)."""
        return self.registries.restart(**settings)

    def catalog(self) -> list[str]:
        """The repositories the registry holds (``GET /v2/_catalog``)."""
        return self.registries.catalog()

    def tags(self, repository: str) -> list[str]:
        """The tags of one repository (``GET /v2/<name>/tags/list``)."""
        return self.registries.tags(repository)

    def insecure_registries(self) -> list[str]:
        """Where the engine agrees to speak plain HTTP (``docker info``)."""
        return self.registries.insecure_registries()

    # ------------------------------------------------------------------ images: reglab/steps/local_images.py

    def run(self, image: str | None = None, name: str = "hello") -> Run:
        """Run a container to completion and show its output (``docker container run``)."""
        return self._images.run(image, name)

    def remove_container(self, name: str = "hello") -> None:
        """Remove a stopped container (``docker container rm``)."""
        self._images.remove_container(name)

    def tag(self, source: str, target: str) -> None:
        """Give an image a second name (``docker image tag``)."""
        self._images.tag(source, target)

    def images(self, *patterns: str) -> ImageTable:
        """List images like ``docker image ls``, limited to the course's names."""
        return self._images.images(*patterns)

    def push(self, reference: str) -> Transfer:
        """Push an image to the registry named in its reference (``docker image push``)."""
        return self._images.push(reference)

    def pull(self, reference: str) -> Transfer:
        """Pull an image from the registry named in its reference (``docker image pull``)."""
        return self._images.pull(reference)

    def remove_image(self, reference: str) -> None:
        """Remove one name of an image (``docker image rm``); the image goes with its last name."""
        self._images.remove_image(reference)

    def explain_name(self, reference: str) -> None:
        """Explain the parts of an image name (registry host, repository, tag)."""
        self._images.explain_name(reference)

    def make_image(self, reference: str, layers: list[tuple[str, int]], seed: str | None = None) -> str:
        """Make an image of pseudo-random layers in Python and load it (``docker image load``)."""
        return self._images.make_image(reference, layers, seed)

    def load_images(self, builds: list[course_images.ImageBuild]) -> list[str]:
        """Load images made in Python (``docker image load``)."""
        return self._images.load_images(builds)

