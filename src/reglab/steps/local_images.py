"""Steps on images (notebooks 01–04): run, tag, list, push, pull, remove; make and load images;
crane's digest, push and copy (notebook 01).

Every step prints its docker twin, then what happened; tags the lab creates are recorded in
the sandbox so that cleanup removes them (and only them).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections import Counter
from fnmatch import fnmatchcase

from .. import errors, tools
from .. import images as course_images
from ..engines import Engine, Run, Transfer
from ..media import digest_of, short_digest
from ..narrator import Narrator
from ..progress import LayerProgress
from ..reference import parse
from ..registry_api import RegistryClient
from ..sandbox import Sandbox
from ..twin import Twin, docker
from ..units import count, docker_age, docker_size, human


class ImageTable(list):
    """Rows of ``docker image ls`` (repository, tag, image ID, created, size); prints as the docker
    CLI does (20.10 and 28 alike): columns padded by Go's tabwriter (minimum width 10, padding 3),
    CREATED as "56 years ago", sizes in decimal units with 3 digits (``9.07kB``)."""

    HEADER = ("REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE")

    def __str__(self) -> str:
        return tabulate([self.HEADER] + [tuple(row) for row in self])

    def __repr__(self) -> str:
        return str(self)


def tabulate(rows: list[tuple[str, ...]]) -> str:
    """Columns as the docker CLI's ``tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`` lays them out."""
    widths = [max(10, max(len(r[i]) for r in rows) + 3) for i in range(len(rows[0]) - 1)]
    return "\n".join("".join(c.ljust(w) for c, w in zip(r, widths)) + r[-1] for r in rows)


class ImageSteps:
    def __init__(self, narrator: Narrator, engine: Engine, sandbox: Sandbox):
        self.say, self.engine, self.sandbox = narrator, engine, sandbox
        self.hello_image = sandbox.settings.hello_image

    def run(self, image: str | None = None, name: str = "hello") -> Run:
        """Run a container to completion and show its output (``docker container run``)."""
        image = image or self.hello_image
        parse(image)
        container = self.sandbox.object_name(name)
        self.say.twin(docker("container", "run", "--name", container, image))
        result = self.engine.containers.run(self.sandbox.scope, container, image)
        self.say.say(result.output.rstrip("\n"))
        if result.exit_code:
            self.say.say(f"(the container exited with code {result.exit_code})")
        return result

    def remove_container(self, name: str = "hello") -> None:
        container = self.sandbox.object_name(name)
        self.say.twin(docker("container", "rm", container))
        self.engine.containers.remove(container)
        self.say.say(f"removed the stopped container {container}")

    def tag(self, source: str, target: str) -> None:
        """Give an image a second name; the registry host in the name says where it will go."""
        src, dst = parse(source), parse(target)
        self.say.twin(docker("image", "tag", source, target))
        existed = self.engine.images.info(dst.tagged) is not None
        self.engine.images.tag(src.tagged, dst.tagged)
        if not existed:
            self.sandbox.record_tag(dst.tagged)
        info = self.engine.images.info(dst.tagged)
        self.say.say(f"{src.tagged} is now also called {dst.tagged} (same image {info.id[7:19]})")

    def images(self, *patterns: str) -> ImageTable:
        """List images like ``docker image ls``, limited to the course's names."""
        if not patterns:
            patterns = (parse(self.hello_image).familiar_repository,)
            if self.sandbox.port:
                patterns += (f"127.0.0.1:{self.sandbox.port}/*",)
        args = ["image", "ls"]
        for p in patterns:
            args += ["--filter", f"reference={p}"]
        self.say.twin(docker(*args))
        rows = ImageTable()
        now, dated_1970 = time.time(), False
        for info in sorted(self.engine.images.list(), key=lambda i: i.tags):
            # a dangling image shows as <none>, under the repository of each digest it was pushed as
            names = sorted(info.tags) or sorted({d.partition("@")[0] + ":<none>" for d in info.repo_digests})
            for tag in names:
                repo, _, tagname = tag.rpartition(":")
                if any(fnmatchcase(repo, p) for p in patterns):
                    rows.append((repo, tagname, info.id[7:19], docker_age(now - info.created), docker_size(info.size)))
                    dated_1970 = dated_1970 or info.created == 0
        rows.sort()
        self.say.output(str(rows))
        if not rows:
            self.say.explain("no image matches: only the header is left")
        elif dated_1970:
            self.say.explain("images made by the course are dated 1970-01-01, so that they are the same bytes "
                             "(and digests) on every machine: hence CREATED")
        return rows

    def push(self, reference: str) -> Transfer:
        """Push an image to the registry named in its reference."""
        ref = parse(reference)
        self.say.twin(docker("image", "push", reference))
        if self.engine.images.info(ref.tagged) is None:
            raise errors.nothing_to_push(ref.tagged)
        result = self._with_progress(self.engine.images.push, reference, self.engine.images.layer_count(ref.tagged),
                                     "push", self.sandbox.credentials(ref.registry))
        self.say.say(f"pushed {result.reference}: {count(result.moved, 'layer')} sent, {result.already} already "
                     f"there; manifest digest {result.digest}")
        return result

    def pull(self, reference: str) -> Transfer:
        """Pull an image from the registry named in its reference."""
        ref = parse(reference)
        self.say.twin(docker("image", "pull", reference))
        existed = self.engine.images.info(ref.tagged) is not None
        total, image_id = 0, None
        if ref.registry != "docker.io":
            try:
                manifest = RegistryClient(ref.registry, docker_config=self.sandbox.docker_config,
                                          trust=(self.engine.trust.folder(),)).manifest(
                    ref.repository, ref.digest or ref.tag_or_default)
                total, image_id = len(manifest.layers), manifest.config  # an image's ID is its config's digest
            except Exception:  # the pull itself will say what is wrong
                total = 0
        image_existed = image_id is not None and self.engine.images.info(image_id) is not None
        result = self._with_progress(self.engine.images.pull, reference, total if self.say.echo else 0, "pull",
                                     self.sandbox.credentials(ref.registry))
        if not existed:
            self.sandbox.record_tag(ref.tagged)
        if image_id:
            self.sandbox.record_image(image_id, image_existed)
        if result.layers == 0:
            self.say.say(f"{result.reference} here was already up to date with {ref.registry}; "
                         f"digest {result.digest}")
        else:
            self.say.say(f"pulled {result.reference} from {ref.registry}: {count(result.moved, 'layer')} downloaded, "
                         f"{result.already} already here; digest {result.digest}")
        return result

    def _with_progress(self, transfer, reference: str, layers: int, verb: str,
                       auth: tuple[str, str] | None = None) -> Transfer:
        """Run a push or pull with a per-layer progress bar when there is more than one layer."""
        bar = LayerProgress(layers, verb) if self.say.echo and layers > 1 else None
        try:
            return transfer(reference, progress=bar, auth=auth)
        finally:
            if bar:
                bar.close()

    def remove_image(self, reference: str) -> None:
        """Remove one name of an image; the image goes when its last name goes."""
        ref = parse(reference)
        self.say.twin(docker("image", "rm", reference))
        info = self.engine.images.info(ref.tagged)
        if info is None:
            raise errors.nothing_to_remove(ref.tagged)
        self.engine.images.remove(ref.tagged)
        self.sandbox.state.drop_tag(ref.tagged)
        if self.engine.images.info(info.id) is None:
            self.say.say(f"untagged {ref.tagged}; that was its last name, so the image {info.id[7:19]} is deleted")
        else:
            self.say.say(f"untagged {ref.tagged}; the image {info.id[7:19]} keeps its other names")

    def explain_name(self, reference: str) -> None:
        """Explain the parts of an image name (registry host, repository, tag)."""
        text = parse(reference).explain()
        self.say.say(f"{reference}\n" + "\n".join("  " + line for line in text.splitlines()))

    # ------------------------------------------------------------------ images made in Python

    def make_image(self, reference: str, layers: list[tuple[str, int]], seed: str | None = None) -> str:
        """Make an image of several layers in Python and load it (``docker image load``).

        Each layer is one file of pseudo-random bytes, ``(path, size)``: the same path and size
        (and seed) always give the same layer, so two images can share one.
        """
        ref = parse(reference)
        seed = seed or f"reglab-{self.sandbox.scope.lab}"
        built = [course_images.random_layer(path, size, seed) for path, size in layers]
        build = course_images.ImageBuild([ref.tagged], built, {"Cmd": ["/" + layers[-1][0]]})
        archive = self.sandbox.folder("images") / f"{ref.repository.replace('/', '-')}-{ref.tag_or_default}.tar"
        data = course_images.docker_archive([build])
        archive.write_bytes(data)
        self.say.twin(docker("image", "load", "-i", str(archive)))
        existed = self.engine.images.info(ref.tagged) is not None
        image_id = digest_of(build.config_bytes())  # an image's ID is its config's digest
        image_existed = self.engine.images.info(image_id) is not None
        self.engine.images.load(data)
        if not existed:
            self.sandbox.record_tag(ref.tagged)
        self.sandbox.record_image(image_id, image_existed)
        parts = ", ".join(f"/{path} {human(size)}" for path, size in layers)
        self.say.say(f"loaded {ref.tagged}: {count(len(layers), 'layer')} ({parts})")
        return ref.tagged

    def load_images(self, builds: list[course_images.ImageBuild]) -> list[str]:
        """Load images made in Python into the engine (``docker image load``)."""
        path = self.sandbox.folder("archives") / "images.tar"
        data = course_images.docker_archive(builds)
        path.write_bytes(data)
        self.say.twin(docker("image", "load", "-i", str(path)))
        ids = {digest_of(build.config_bytes()) for build in builds}  # an image's ID is its config's digest
        existed = {image_id for image_id in ids if self.engine.images.info(image_id) is not None}
        self.engine.images.load(data)
        tags = [parse(tag).tagged for build in builds for tag in build.tags]
        for tag in tags:
            self.sandbox.record_tag(tag)
        for image_id in sorted(ids):
            self.sandbox.record_image(image_id, image_id in existed)
        layers = {layer.diff_id: len(layer.gzipped()) for build in builds for layer in build.layers}
        self.say.say(f"loaded {len(tags)} images with {len(layers)} distinct layers "
                     f"({human(sum(layers.values()))} of layers in all)")
        names = [f"{parse(b.tags[0]).repository}:{parse(b.tags[0]).tag_or_default}" for b in builds]
        width = max(len(n) for n in names)
        for name, build in zip(names, builds):
            sizes = " + ".join(human(len(layer.gzipped())) for layer in build.layers)
            self.say.say(f"  {name:<{width}}  layers: {sizes}")
        return tags


# ------------------------------------------------------------------ crane: what the docker CLI does not do

_CRANE_LOG = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (?P<text>.*)$")
_CRANE_BLOB = re.compile(r"^(?P<how>pushed|existing|mounted) blob: (?P<digest>sha256:[0-9a-f]{64})$")
_CRANE_DONE = re.compile(r": digest: (?P<digest>sha256:[0-9a-f]{64}) size: (?P<size>\d+)$")


class CraneSteps:
    """crane (go-containerregistry's registry client, built by the set-up): a remote tag's digest,
    a copy between repositories or registries that keeps every byte, a ``docker save`` archive
    pushed crane's way. It talks HTTP to the registry itself — no engine — so its twins and their
    output are the same whichever engine runs the registry.

    crane logs what it does on stderr, one time-stamped line per blob; a step shows what it prints
    on stdout, and reads the log into one ``lab:`` line.
    """

    def __init__(self, narrator: Narrator, engine: Engine, sandbox: Sandbox):
        self.say, self.engine, self.sandbox = narrator, engine, sandbox

    def _program(self) -> str | None:
        found = tools.find("crane", self.sandbox.settings.tools_dir)
        if found is None:
            self.say.note(errors.crane_missing(tools.install_hint("crane")))
        return str(found) if found else None

    def _run(self, *args: str) -> tuple[str, list[str]] | None:
        """Print the twin ``crane <args>``, run it; (stdout, log lines without their time) or None."""
        program = self._program()
        self.say.twin(Twin(("crane", *args)))
        if program is None:
            return None
        try:
            done = subprocess.run([program, *args], capture_output=True, text=True, timeout=300, check=False)
        except subprocess.TimeoutExpired:
            raise errors.crane_failed(args[0], "no answer within 300 s") from None
        log = [m.group("text") if (m := _CRANE_LOG.match(line)) else line for line in done.stderr.splitlines()]
        if done.returncode:
            raise errors.crane_failed(args[0], (log or ["exit code %d" % done.returncode])[-1].removeprefix("Error: "))
        if done.stdout.strip():
            self.say.output(done.stdout.rstrip("\n"))
        return done.stdout, log

    def _explain_log(self, log: list[str]) -> str | None:
        blobs = Counter(m.group("how") for line in log if (m := _CRANE_BLOB.match(line)))
        final = next((m for line in log if (m := _CRANE_DONE.search(line))), None)
        words = {"pushed": "uploaded", "existing": "already there", "mounted": "mounted from another repository"}
        parts = [f"{count(n, 'blob')} {words[how]}" for how, n in sorted(blobs.items())]
        if final:
            self.say.explain(f"crane's log (stderr, one time-stamped line each): {', '.join(parts) or 'no blob'}; "
                             f"then the manifest, {final.group('size')} bytes, digest {final.group('digest')}")
            return final.group("digest")
        return None

    def digest(self, reference: str) -> str | None:
        """The digest of the manifest a remote tag names (``crane digest``): one request, nothing pulled."""
        ran = self._run("digest", reference)
        if ran is None:
            return None
        digest = ran[0].strip()
        self.say.explain(f"the registry's answer to one HEAD request for {parse(reference).tagged}: the "
                         "digest of the manifest the tag names; nothing was downloaded")
        return digest

    def push(self, loaded_as: str, target: str) -> str | None:
        """Push the very archive ``docker image load`` read for ``loaded_as`` (lab.make_image), crane's way."""
        ref = parse(loaded_as)
        archive = self.sandbox.folder("images") / f"{ref.repository.replace('/', '-')}-{ref.tag_or_default}.tar"
        if not archive.is_file():
            raise errors.no_archive_for(ref.tagged)
        ran = self._run("push", str(archive), target)
        if ran is None:
            return None
        digest = self._explain_log(ran[1]) or ran[0].strip().rpartition("@")[2]
        return digest

    def copy(self, source: str, target: str) -> str | None:
        """Copy an image from one registry (or repository) to another, byte for byte (``crane copy``)."""
        ran = self._run("copy", source, target)
        if ran is None:
            return None
        digest = self._explain_log(ran[1])
        return digest

    def compare(self, *references: str) -> list[tuple[str, ...]]:
        """Each image's manifest (``crane manifest``), then side by side: manifest digest and size,
        config (the image ID), layers."""
        rows = []
        for reference in references:
            ran = self._run("manifest", reference)
            if ran is None:
                return []
            raw = ran[0].rstrip("\n").encode()
            body = json.loads(raw)
            layers = body.get("layers") or []
            rows.append((parse(reference).tagged.rpartition("/")[2], digest_of(raw), f"{len(raw)} B",
                         body["config"]["digest"],
                         ", ".join(f"{layer['digest']} ({layer['size']} B)" for layer in layers)))
        header = ("image", "manifest digest", "manifest", "config = image ID", "layers (compressed)")
        table = [header] + [(r[0], short_digest(r[1]), r[2], short_digest(r[3]),
                             ", ".join(short_digest(part.split()[0]) + " " + " ".join(part.split()[1:])
                                       for part in r[4].split(", "))) for r in rows]
        self.say.explain("the manifests side by side (digests shortened):")
        self.say.say(tabulate(table))
        return rows
