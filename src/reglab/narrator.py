"""The narrator: prints each step's docker CLI twin, then what happened, in a learner's words.

Where a step shows what its twin prints (``find``, ``du -sb``, ``curl``…), that output comes
verbatim (:meth:`Narrator.output`), and the lab's own reading of it follows on lines starting
``lab:`` (:meth:`Narrator.explain`), so a learner can tell the command's words from the lab's.

Every topic receives the lab's one narrator, so ``echo=False`` (tests, benchmarks) silences
all of them at once, and :meth:`Narrator.quiet` lets a step run another without its output.
"""

from __future__ import annotations

import json
import shutil
from contextlib import contextmanager, suppress
from pathlib import Path

from collections import Counter

from .errors import ReglabError
from .twin import Raw, Twin, docker
from .units import count

LABEL = "lab: "  # the lab's words after a command's real output


class Narrator:
    def __init__(self, echo: bool = True, log: Path | None = None):
        self.echo = echo
        self.log = TwinLog(log) if log else None  # Settings.twin_log: the twins a replay types again

    def say(self, text: str = "") -> None:
        if self.echo:
            print(text)  # no flush per line: ipykernel sends its output on its own (docs/classroom-profile.md)

    def output(self, text: str) -> None:
        """What the twin printed, verbatim (a trailing newline dropped)."""
        text = text.removesuffix("\n")
        if self.log and self.echo:
            self.log.write(output=text)
        if text:
            self.say(text)

    def exited(self, code: int) -> None:
        """A twin run for real that exits non-zero although the step goes on (curl's 18 for a short
        read): the twin log says so, so a replay expects it to fail as typed."""
        if code and self.log and self.echo:
            self.log.write(failed=f"exit {code}")

    def explain(self, text: str) -> None:
        """The lab's reading of the output above: ``lab: …`` (a block follows its first line)."""
        self.say(f"{LABEL}{text}")

    def note(self, text: str) -> None:
        """Housekeeping a learner may read but nbval ignores (lines starting '(reglab)')."""
        self.say(f"(reglab) {text}")

    def twin(self, twin: Twin | str) -> None:
        """``$ <command>``: the command a learner would type for this step."""
        if self.log and self.echo:
            self.log.twin(twin)
        self.say(repr(twin) if isinstance(twin, Twin) else f"$ {twin}")

    @contextmanager
    def quiet(self):
        echo, self.echo = self.echo, False
        try:
            yield
        finally:
            self.echo = echo

    @contextmanager
    def expect_failure(self):
        """Run a step that should fail and show its one-sentence error as output, not as a
        traceback: ``✘ ManifestUnknown: …``. A step that does not fail says so."""
        try:
            yield
        except ReglabError as exc:
            if self.log and self.echo:
                self.log.write(failed=type(exc).__name__)
            self.say(f"✘ {type(exc).__name__}: {exc}")
        else:
            self.say("✘ this step was expected to fail, but it worked: look at what changed above")

    # ------------------------------------------------------------------ what cleanup did

    def cleanup(self, lab: str, removed: list, dry_run: bool = False) -> None:
        """The twins that remove by hand what a cleanup removed, then one line saying what went
        (``removed`` are :class:`reglab.sandbox.Made` records); a dry run's say what would go."""
        for twin in cleanup_twins(removed):
            self.twin(twin)
        self.say(cleanup_summary(lab, removed, dry_run))


class TwinLog:
    """The twins a lab printed, in order, with what their steps showed and which failed: one JSON
    line each in a file (``Settings.twin_log``), for tests/test_twin_replay.py to type them again
    on a fresh engine. A file a twin loads (``docker image load -i <archive>``) is copied beside
    the log when the twin is printed: the lab made it, a learner would have it."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def write(self, **entry) -> None:
        with suppress(OSError), open(self.path, "a") as out:
            out.write(json.dumps(entry) + "\n")

    def twin(self, twin: Twin | str) -> None:
        argv = twin.argv if isinstance(twin, Twin) else ()
        files = {}
        if "-i" in argv and "load" in argv:
            source = Path(argv[argv.index("-i") + 1])
            if source.is_file():
                kept = self.path.with_name(self.path.name + ".files") / f"{len(list(self._lines()))}-{source.name}"
                kept.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, kept)
                files[str(source)] = str(kept)
        self.write(twin=str(twin), files=files)

    def _lines(self):
        try:
            return self.path.read_text().splitlines()
        except OSError:
            return []


ORDER = ("container", "volume", "network", "tag", "image", "folder")  # the same order under either engine
CERTS_D = "/etc/docker/certs.d"  # where a learner's Docker reads a registry's CA (the daemonless engine: a folder of its own)
DAEMON_JSON = "/etc/docker/daemon.json"
SIGHUP = "sudo kill -SIGHUP $(pidof dockerd)"


def cleanup_summary(lab: str, removed: list, dry_run: bool = False) -> str:
    """``removed what lab 01 created: 1 container, 1 tag; nothing else was touched``; a dry run's
    ``dry run: these commands remove what lab 03 created so far: …; nothing was removed``."""
    if not removed:
        return f"lab {lab} had nothing left to remove"
    if dry_run:
        kinds = Counter(item.kind for item in removed)
        what = [count(kinds[kind], kind) for kind in ORDER if kinds[kind]]
        what += [item.what or item.name for item in removed if item.kind == "file"]
        return (f"dry run: these commands remove what lab {lab} created so far ({', '.join(what)}); "
                "nothing was removed")
    kinds = Counter(item.kind for item in removed)
    what = [count(kinds[kind], kind) for kind in ORDER if kinds[kind]]
    what += [item.what or item.name for item in removed if item.kind == "file"]  # files it put in shared places
    restored = [item.name for item in removed if item.kind == "restored"]
    return (f"removed what lab {lab} created: {', '.join(what)}"
            + (f"; restored {'; '.join(restored)}" if restored else "") + "; nothing else was touched")


def _shown(path: str) -> tuple[str, bool]:
    """The path a learner typed for a file the lab put in a shared place, and whether it needs root:
    a file under a ``certs.d`` folder is Docker's ``/etc/docker/certs.d/…`` (whichever folder the
    engine reads)."""
    parts = Path(path).parts
    if "certs.d" in parts:
        rest = parts[len(parts) - parts[::-1].index("certs.d"):]
        return "/".join((CERTS_D, *rest)), True
    return path, False


def cleanup_twins(removed: list) -> list[Twin]:
    """The commands that undo by hand what a cleanup undid, one per kind of thing: objects, tags,
    folders, the files the lab put in shared places (``certs.d``: ``sudo rm``, then the folder it
    made), and the settings it put back (``unset DOCKER_CONFIG``; ``daemon.json`` edited back, then a reload)."""
    names: dict[str, list[str]] = {}
    for item in removed:
        names.setdefault(item.kind, []).append(item.name)
    commands = (("container", ("container", "rm", "-f", "-v")), ("network", ("network", "rm")),
                ("volume", ("volume", "rm")), ("tag", ("image", "rm")), ("image", ("image", "rm")))
    twins = [docker(*args, *names[kind]).wrapped(len(args) + 1) for kind, args in commands if kind in names]
    if "folder" in names:
        twins.append(Twin.of("rm", "-rf", *names["folder"]).wrapped(2))
    for path in names.get("file", []):
        shown, root = _shown(path)
        sudo = ("sudo",) if root else ()
        twins.append(Twin.of(*sudo, "rm", shown))
        if root:  # the folder `sudo mkdir -p` made for it
            twins.append(Twin.of(*sudo, "rmdir", str(Path(shown).parent)))
    for name in names.get("restored", []):
        if name.startswith("DOCKER_CONFIG"):
            twins.append(Twin.of(Raw("unset DOCKER_CONFIG")))
        elif name.startswith("the daemon's"):
            twins.append(Twin.of("sudoedit", DAEMON_JSON))  # back to what it was before the lab
            twins.append(Twin.of(Raw(SIGHUP)))
    return twins
