"""``Lab``: one learner's sandbox, and the steps of the course as methods.

Every step prints its docker CLI twin (the exact command, with the real names and ports)
and then one line saying what happened; it returns a small result object. Everything the
lab creates is named ``reglab-<lab>-<role>``, labelled ``reglab.lab=<lab>``, and removed by
``cleanup()``, on ``with`` exit, at interpreter exit, and by the next ``Lab`` of that name.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

from . import images as course_images
from . import naming, ports
from .engines import Engine, RegistrySpec, Run, Transfer, get_engine
from .engines.base import REGISTRY_DATA
from .errors import ImageMissing, ReglabError
from .lab_growth import GrowthSteps
from .lab_inside import InsideSteps
from .progress import LayerProgress
from .reference import parse
from .registry_api import RegistryClient
from .state import State, work_root
from .storage import Tree, human, tag_link_path
from .twin import Raw, Twin, docker


@dataclass(frozen=True)
class Registry:
    """A running registry: where it answers and where it keeps its data."""

    name: str
    host: str
    port: int
    volume: str | None = None
    bind: Path | None = None
    env: tuple[tuple[str, str], ...] = ()  # the settings it was started with, to restart it alike

    @property
    def address(self) -> str:
        """``127.0.0.1:5000``: the first part of every image name stored here."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def ref(self, repository: str, tag: str | None = None) -> str:
        """The name an image gets in this registry: ``<address>/<repository>[:tag]``."""
        return f"{self.address}/{repository}" + (f":{tag}" if tag else "")

    @property
    def api(self) -> RegistryClient:
        return RegistryClient(self.url)

    def __repr__(self) -> str:
        return f"Registry({self.name} at {self.url})"


class ImageTable(list):
    """Rows of ``docker image ls``; prints like it."""

    def __str__(self) -> str:
        header = ("REPOSITORY", "TAG", "IMAGE ID", "SIZE")
        rows = [header] + [tuple(row) for row in self]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = ["   ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


class Lab(InsideSteps, GrowthSteps):
    """One notebook's sandbox: names, labels, ports, cleanup, and the course's steps.

    >>> lab = Lab("01")                         # doctest: +SKIP
    >>> registry = lab.run_registry(port=5000)  # doctest: +SKIP
    """

    def __init__(self, name: str, engine: Engine | None = None, echo: bool = True,
                 ensure_images: bool = True):
        self.name = naming.check_lab_id(name)
        self.echo = echo
        self.engine = engine or get_engine()
        self.registry_image = course_images.registry_image()
        self.hello_image = course_images.hello_image()
        self.state = State(self.name)
        self.workdir = work_root() / self.name
        self.registry: Registry | None = None
        self.port: int | None = None
        self._clear_leftovers()
        if ensure_images:
            statuses = course_images.ensure(self.engine)
            for status in statuses:
                if status.action != "present":
                    self._note(f"{status}")
            real = course_images.real_images_note(statuses)
            if real:  # the saved outputs were made with the stand-ins: say once why these differ
                self._note(real)
        atexit.register(self._at_exit)
        self._say(f"lab {self.name} ready: what it creates is named reglab-{self.name}-… "
                  f"and labelled reglab.lab={self.name}")

    # ------------------------------------------------------------------ plumbing

    def _say(self, text: str = "") -> None:
        if self.echo:
            print(text)
            sys.stdout.flush()

    def _note(self, text: str) -> None:
        """Housekeeping a learner may read but nbval ignores (lines starting '(reglab)')."""
        self._say(f"(reglab) {text}")

    def _twin(self, twin: Twin) -> None:
        self._say(repr(twin))

    def object_name(self, role: str) -> str:
        return naming.object_name(self.name, role)

    def _clear_leftovers(self) -> list[str]:
        removed = [f"{o.kind} {o.name}" for o in self.engine.remove_objects(self.name)]
        removed += self._clear_tags_and_dirs()
        if removed:
            self._note(f"removed leftovers of an earlier run of lab {self.name}: {', '.join(removed)}")
        return removed

    def _clear_tags_and_dirs(self) -> list[str]:
        removed = []
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
        return removed

    def cleanup(self) -> list[str]:
        """Remove every container, volume, tag and folder this lab created."""
        removed = [f"{o.kind} {o.name}" for o in self.engine.remove_objects(self.name)]
        removed += self._clear_tags_and_dirs()
        self.registry = None
        if self.echo:
            self._say(f"removed {len(removed)} thing(s) lab {self.name} created" +
                      (":\n  " + "\n  ".join(removed) if removed else ""))
        return removed

    def _at_exit(self) -> None:
        try:
            self.echo = False
            self.cleanup()
        except Exception:  # the daemon may be gone at exit; the next Lab() cleans up
            pass

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc) -> None:
        self.cleanup()

    def objects(self) -> list[str]:
        """What Docker holds for this lab right now (``docker ps -a --filter label=…``)."""
        return [f"{o.kind} {o.name}" for o in self.engine.objects(self.name)]

    # ------------------------------------------------------------------ registry

    def run_registry(self, port: int | None = None, volume: str | None = None,
                     bind: str | os.PathLike | None = None, name: str = "registry",
                     env: dict[str, str] | None = None, host: str = "127.0.0.1") -> Registry:
        """Start a registry container and wait until ``GET /v2/`` answers.

        ``volume`` names a Docker volume (created as ``reglab-<lab>-<volume>``); ``bind`` a
        folder (relative paths go under the lab's work folder). Without either, the data
        lives in the container and dies with it.
        """
        if volume and bind:
            raise ReglabError("choose either volume= or bind=, not both: the registry has one data folder.")
        preferred = port or self.port or ports.DEFAULT_PORT
        chosen = ports.choose(preferred, host)
        container = self.object_name(name)
        args = ["container", "run", "-d", "-p", f"{host}:{chosen}:5000", "--name", container]
        volume_name = bind_path = user = None
        if volume:
            volume_name = volume if volume.startswith(f"reglab-{self.name}-") else self.object_name(volume)
            self.engine.create_volume(self.name, volume_name)
            args += ["-v", f"{volume_name}:{REGISTRY_DATA}"]
        if bind:
            bind_path = Path(bind)
            if not bind_path.is_absolute():
                bind_path = self.workdir / bind_path
            if not bind_path.exists():
                bind_path.mkdir(parents=True)
                self.state.add_dir(bind_path)
            args += ["-v", f"{bind_path}:{REGISTRY_DATA}"]
            if hasattr(os, "getuid"):
                user = f"{os.getuid()}:{os.getgid()}"
                args += ["--user", Raw('"$(id -u):$(id -g)"')]
        for key, value in (env or {}).items():
            args += ["-e", f"{key}={value}"]
        self._twin(docker(*args, self.registry_image))
        if chosen != preferred:
            self._say(f"port {preferred} is taken by another program, so this lab uses port {chosen} instead.")
        spec = RegistrySpec(self.name, container, self.registry_image, chosen, host, volume_name, bind_path,
                            user, dict(env or {}))
        self.engine.start_registry(spec)
        registry = Registry(container, host, chosen, volume_name, bind_path, tuple(sorted((env or {}).items())))
        registry.api.wait_ready(timeout=30, problem=lambda: self.engine.registry_problem(container))
        self.registry, self.port = registry, chosen
        where = ""
        if volume_name:
            where = f", keeping its data in the volume {volume_name}"
        elif bind_path:
            where = f", keeping its data in the folder {bind_path}"
        self._say(f"registry ready at {registry.url}{where}")
        return registry

    def _current(self) -> Registry:
        if self.registry is None:
            raise ReglabError("this lab has no registry yet: start one with lab.run_registry().")
        return self.registry

    def kill_registry(self) -> None:
        """Stop the registry at once (SIGKILL), as ``docker container kill`` does."""
        registry = self._current()
        self._twin(docker("container", "kill", registry.name))
        self.engine.kill(registry.name)
        self._say(f"{registry.name} is stopped; the container and its files still exist until it is removed")

    def remove_registry(self) -> None:
        """Remove the registry container (its volume, if any, stays)."""
        registry = self._current()
        self._twin(docker("container", "rm", "-v", registry.name))
        self.engine.remove(registry.name)
        if registry.volume:
            keeps = f"; the volume {registry.volume} still holds the data"
        elif registry.bind:
            keeps = f"; the folder {registry.bind} still holds the data"
        else:
            keeps = ", and with it every image pushed to it (there was no volume)"
        self._say(f"removed {registry.name}{keeps}")
        self.registry = None

    # ------------------------------------------------------------------ images and containers

    def run(self, image: str | None = None, name: str = "hello") -> Run:
        """Run a container to completion and show its output (``docker container run``)."""
        image = image or self.hello_image
        parse(image)
        container = self.object_name(name)
        self._twin(docker("container", "run", "--name", container, image))
        result = self.engine.run_container(self.name, container, image)
        self._say(result.output.rstrip("\n"))
        if result.exit_code:
            self._say(f"(the container exited with code {result.exit_code})")
        return result

    def remove_container(self, name: str = "hello") -> None:
        container = self.object_name(name)
        self._twin(docker("container", "rm", container))
        self.engine.remove(container)
        self._say(f"removed the stopped container {container}")

    def tag(self, source: str, target: str) -> None:
        """Give an image a second name; the registry host in the name says where it will go."""
        src, dst = parse(source), parse(target)
        self._twin(docker("image", "tag", source, target))
        existed = self.engine.image_info(dst.tagged) is not None
        self.engine.tag(src.tagged, dst.tagged)
        if not existed:
            self._record(dst.tagged)
        info = self.engine.image_info(dst.tagged)
        self._say(f"{src.tagged} is now also called {dst.tagged} (same image {info.id[7:19]})")

    def images(self, *patterns: str) -> ImageTable:
        """List images like ``docker image ls``, limited to the course's names."""
        if not patterns:
            patterns = (parse(self.hello_image).familiar_repository,)
            if self.port:
                patterns += (f"127.0.0.1:{self.port}/*",)
        args = ["image", "ls"]
        for p in patterns:
            args += ["--filter", f"reference={p}"]
        self._twin(docker(*args))
        rows = ImageTable()
        for info in sorted(self.engine.list_images(), key=lambda i: i.tags):
            for tag in sorted(info.tags):
                repo, _, tagname = tag.rpartition(":")
                if any(_matches(repo, p) for p in patterns):
                    rows.append((repo, tagname, info.id[7:19], human(info.size)))
        rows.sort()
        self._say(str(rows) if rows else "(no images match)")
        return rows

    def push(self, reference: str) -> Transfer:
        """Push an image to the registry named in its reference."""
        ref = parse(reference)
        self._twin(docker("image", "push", reference))
        info = self.engine.image_info(ref.tagged)
        if info is None:
            raise ImageMissing(f"there is no image {ref.tagged} to push: tag one with that name first (lab.tag()).")
        result = self._with_progress(self.engine.push, reference, self.engine.layer_count(ref.tagged), "push")
        self._say(f"pushed {result.reference}: {_layers(result.moved)} sent, {result.already} already there; "
                  f"manifest digest {result.digest}")
        return result

    def pull(self, reference: str) -> Transfer:
        """Pull an image from the registry named in its reference."""
        ref = parse(reference)
        self._twin(docker("image", "pull", reference))
        existed = self.engine.image_info(ref.tagged) is not None
        total = 0
        if ref.registry != "docker.io":
            try:
                total = len(RegistryClient(f"http://{ref.registry}").manifest(ref.repository, ref.tag_or_default)
                            .body.get("layers", []))
            except ReglabError:
                total = 0  # the pull itself will say what is wrong
        result = self._with_progress(self.engine.pull, reference, total, "pull")
        if not existed:
            self._record(ref.tagged)
        if result.layers == 0:
            self._say(f"{result.reference} here was already up to date with {ref.registry}; digest {result.digest}")
        else:
            self._say(f"pulled {result.reference} from {ref.registry}: {_layers(result.moved)} downloaded, "
                      f"{result.already} already here; digest {result.digest}")
        return result

    def _record(self, tag: str) -> None:
        """Remember a tag this lab created, so cleanup removes it (course images excepted)."""
        course = {parse(self.registry_image).tagged, parse(self.hello_image).tagged}
        if tag not in course:
            self.state.add_tag(tag)

    def _with_progress(self, transfer, reference: str, layers: int, verb: str) -> Transfer:
        """Run a push or pull with a per-layer progress bar when there is more than one layer."""
        bar = LayerProgress(layers, verb) if self.echo and layers > 1 else None
        try:
            return transfer(reference, progress=bar)
        finally:
            if bar:
                bar.close()

    def remove_image(self, reference: str) -> None:
        """Remove one name of an image; the image goes when its last name goes."""
        ref = parse(reference)
        self._twin(docker("image", "rm", reference))
        info = self.engine.image_info(ref.tagged)
        if info is None:
            raise ImageMissing(f"there is no image {ref.tagged} here to remove (lab.images() lists them).")
        self.engine.remove_image(ref.tagged)
        self.state.drop_tag(ref.tagged)
        if self.engine.image_info(info.id) is None:
            self._say(f"untagged {ref.tagged}; that was its last name, so the image {info.id[7:19]} is deleted")
        else:
            self._say(f"untagged {ref.tagged}; the image {info.id[7:19]} keeps its other names")

    # ------------------------------------------------------------------ looking inside

    def show_link(self, repository: str, tag: str = "latest") -> str:
        """Print a tag's ``current/link`` file: the digest of the manifest the tag points to."""
        self._storage_twin("cat", self._on_disk(tag_link_path(repository, tag)))
        target = self._storage()[0].tag_target(repository, tag)
        if target is None:
            raise ReglabError(f"{repository}:{tag} has no link file in the registry's storage: push it first.")
        self._say(target)
        return target

    def insecure_registries(self) -> list[str]:
        """Where the Docker daemon agrees to speak plain HTTP instead of HTTPS."""
        self._twin(docker("info", "--format", "{{json .RegistryConfig.InsecureRegistryCIDRs}}"))
        allowed = self.engine.insecure_registries()
        self._say(json.dumps(allowed))
        return allowed

    def explain_name(self, reference: str) -> None:
        """Explain the parts of an image name (registry host, repository, tag)."""
        text = parse(reference).explain()
        self._say(f"{reference}\n" + "\n".join("  " + line for line in text.splitlines()))

    def catalog(self) -> list[str]:
        """The repositories the registry holds (``GET /v2/_catalog``)."""
        registry = self._current()
        self._say(f"$ curl {registry.url}/v2/_catalog")
        repos = registry.api.catalog()
        self._say(json.dumps({"repositories": repos}))
        return repos

    def tags(self, repository: str) -> list[str]:
        """The tags of one repository (``GET /v2/<name>/tags/list``)."""
        registry = self._current()
        self._say(f"$ curl {registry.url}/v2/{repository}/tags/list")
        tags = registry.api.tags(repository)
        self._say(json.dumps({"name": repository, "tags": tags}))
        return tags

    def tree(self) -> Tree:
        """The registry's files, like ``tree``, with each level explained."""
        tree, top = self._storage(twin="tree")
        self._say(tree.text(top))
        self._say(tree.summary())
        return tree


def _layers(n: int) -> str:
    return f"{n} layer" + ("" if n == 1 else "s")


def _matches(repo: str, pattern: str) -> bool:
    """``docker image ls --filter reference=`` semantics for the patterns the course uses."""
    return fnmatchcase(repo, pattern)
