"""``python -m reglab doctor | images | clean | docker …``: check, prepare and tidy a machine;
run docker CLI commands on the daemonless engine."""

from __future__ import annotations

import argparse
import shutil
import sys

from . import images as course_images
from . import ports
from .config import Settings
from .engines import choose_engine, get_engine
from . import errors
from .errors import ReglabError
from .naming import ANY, Scope
from .sandbox import Sandbox
from .state import lab_dirs, learner_of

MIN_FREE_BYTES = 2 * 1024**3


def _line(ok: bool | None, text: str) -> str:
    mark = {True: "ok  ", False: "FIX ", None: "note"}[ok]
    return f"  [{mark}] {text}"


def doctor(settings: Settings) -> int:
    """One screen: what works, what to fix. Exit 0 when the labs can run."""
    print("Registry Lab doctor")
    fatal = False
    try:
        choice = choose_engine(settings=settings)
        engine = get_engine(choice.kind, settings)
        print(_line(True, f"engine: {engine.describe()}"))
        print(_line(None, f"engine {choice.kind} is active because {choice.reason} "
                          "(REGLAB_ENGINE=docker|local chooses)"))
    except ReglabError as exc:
        print(_line(False, f"engine: {exc}"))
        engine, fatal = None, True
    if engine is not None:
        for ref in course_images.required(settings).values():
            info = engine.images.info(ref)
            if info is None:
                print(_line(False, f"image {ref}: missing — run `python -m reglab images`"))
                fatal = True
            else:
                kind = ("offline stand-in built from Debian packages" if info.standin
                        else "not a stand-in: digests and greeting differ from the saved outputs")
                print(_line(True, f"image {ref}: present ({kind})"))
        print(_line(None, _image_source_line(settings)))
        missing = sorted({p for role in course_images.required(settings)
                          if (p := course_images.standin_missing(role, settings))})
        if not missing:
            print(_line(True, "stand-in images can be built here (docker-registry, busybox-static)"))
        else:
            needed = settings.offline
            print(_line(False if needed else None, f"stand-in images cannot be built here: {', '.join(missing)} "
                        f"missing ({'needed with REGLAB_OFFLINE=1' if needed else 'needed only without Docker Hub'}"
                        "; Debian/Ubuntu: sudo scripts/setup.sh lab)"))
            fatal = fatal or needed
        leftovers = engine.objects.of(Scope(None, settings.learner))
        if leftovers:
            names = ", ".join(o.name for o in leftovers)
            print(_line(None, f"{len(leftovers)} reglab object(s) exist ({names}); `python -m reglab clean` removes them"))
        else:
            print(_line(True, "no reglab containers, volumes or networks left behind"))
    if ports.is_free(ports.DEFAULT_PORT):
        print(_line(True, f"port {ports.DEFAULT_PORT} on 127.0.0.1 is free"))
    else:
        print(_line(None, f"port {ports.DEFAULT_PORT} is taken by another program; the labs will pick the next free port"))
    state = settings.state_dir
    free = shutil.disk_usage(state.parent if state.parent.exists() else "/").free
    docker_root = "/var/lib/docker"
    try:
        free = min(free, shutil.disk_usage(docker_root).free)
    except OSError:
        pass
    enough = free >= MIN_FREE_BYTES
    print(_line(enough, f"disk: {free / 1024**3:.1f} GiB free" + ("" if enough else " — the labs want 2 GiB; free some space")))
    fatal = fatal or not enough
    print("The labs can run." if not fatal else "Fix the lines marked FIX, then run `python -m reglab doctor` again.")
    return 1 if fatal else 0


def _image_source_line(settings: Settings) -> str:
    source = settings.image_source
    if source == "standin":
        return "images: REGLAB_OFFLINE=1 — missing ones are built as stand-ins; Docker Hub is never contacted"
    if source == "hub":
        return "images: REGLAB_OFFLINE=0 — missing ones are pulled from Docker Hub"
    return ("images: missing ones are pulled from Docker Hub, or built as stand-ins where it cannot be reached "
            "(REGLAB_OFFLINE=1: always stand-ins; REGLAB_OFFLINE=0: always pull)")


def images_command(settings: Settings) -> int:
    engine = get_engine(settings=settings)
    for status in course_images.ensure(engine):
        print(status)
    return 0


def clean(settings: Settings, include_standins: bool = False, all_learners: bool = False) -> int:
    """Remove what reglab created for this learner (``REGLAB_LEARNER``; none: the machine's
    single learner) — or, with ``all_learners``, for everyone: objects, recorded tags, folders."""
    engine = get_engine(settings=settings)
    scope = Scope(None, ANY) if all_learners else Scope(None, settings.learner)
    removed = []
    for lab_dir in lab_dirs(settings.state_dir, scope):  # first: a sheet's containers typed without labels use its volumes
        removed += [f"{m.kind} {m.name}" if m.kind not in ("file", "restored") else (m.what or m.name)
                    for m in Sandbox(Scope(lab_dir.name, learner_of(lab_dir)), engine).clear()]
    removed += [f"{o.kind} {o.name} (lab {o.lab}{', learner ' + o.learner if o.learner else ''})"
                for o in engine.objects.remove_all(scope)]
    for line in removed:
        print(f"removed {line}")
    if include_standins:
        for info in engine.images.list():
            if info.standin:
                for tag in info.tags:
                    engine.images.remove(tag)
                    print(f"removed stand-in image {tag}")
    if not removed:
        print(f"nothing to clean: no reglab containers, volumes or networks of {scope.describe()} exist")
    return 0


def reset(settings: Settings, unit: str) -> int:
    """``python -m reglab reset 01|lab-07``: remove what that one notebook or sheet made, for this
    learner, so its first cell starts it over; nothing of any other lab is touched."""
    engine = get_engine(settings=settings)
    scope = Scope(unit, settings.learner)
    removed = Sandbox(scope, engine).clear()
    for made in removed:
        print(f"removed {made}")
    print(errors.reset_done(scope.describe(), bool(removed)))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    settings = Settings.from_env()  # read once, here
    if argv[:1] == ["docker"]:  # the daemonless engine's docker CLI: every later word is docker's
        from .dockercli import main as docker_main

        return docker_main(argv[1:], settings)
    parser = argparse.ArgumentParser(prog="python -m reglab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("doctor", help="say what works and what to fix")
    sub.add_parser("docker", help="docker CLI commands run by the daemonless engine (python -m reglab docker ps)")
    sub.add_parser("images", help="make sure the course's images (registry:3, registry:2, hello-world) exist: present, else pulled from Docker Hub, "
                                 "else built as stand-ins (REGLAB_OFFLINE=1: stand-ins only)")
    rs = sub.add_parser("reset", help="start one notebook or lab sheet over: remove what it made (this learner's)")
    rs.add_argument("unit", help="a notebook's id (01) or a lab sheet's (lab-07)")
    cl = sub.add_parser("clean", help="remove what reglab created for this learner (REGLAB_LEARNER)")
    cl.add_argument("--standins", action="store_true", help="also remove the offline stand-in images")
    cl.add_argument("--all-learners", action="store_true", help="every learner's labs (an instructor's reset)")
    args = parser.parse_args(argv)
    try:
        if args.command == "doctor":
            return doctor(settings)
        if args.command == "images":
            return images_command(settings)
        if args.command == "reset":
            return reset(settings, args.unit)
        return clean(settings, args.standins, args.all_learners)
    except ReglabError as exc:
        print(f"reglab: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
