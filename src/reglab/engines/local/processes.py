"""Processes of the daemonless engine (registries, and the services beside them: the object
store, nginx, redis): is one still ours, stop it, does it listen on its port, who holds a port,
and why it stopped (the line of its log that says so).

A process is recognised by its command line naming a marker of its own record (a registry's
config file; a service's config or data folder), so a pid reused by another program is never
taken for ours, and one learner's process is never stopped by another learner's lab.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import time
from pathlib import Path

from ..base import last_words_of

STOP_WAIT = 10.0

# registries this interpreter started: reaped when they stop, killed at exit
children: dict[int, subprocess.Popen] = {}


def alive(pid: int, marker: str) -> bool:
    """Is ``pid`` still our registry (its command line names ``marker``, its config)?"""
    child = children.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        children.pop(pid, None)
        return False
    proc = Path(f"/proc/{pid}")
    if Path("/proc/self").exists():
        try:
            cmdline = (proc / "cmdline").read_bytes()
            stat = (proc / "stat").read_text()
        except OSError:
            return False
        if stat.rsplit(")", 1)[-1].split()[:1] == ["Z"]:
            return False
        return marker.encode() in cmdline
    try:  # no /proc (macOS): trust the pid file
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def stop(pid: int, marker: str) -> None:
    """SIGKILL the registry ``pid`` and wait until it is gone."""
    if not alive(pid, marker):
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    child = children.pop(pid, None)
    if child is not None:
        try:
            child.wait(timeout=STOP_WAIT)
        except subprocess.TimeoutExpired:
            pass
        return
    deadline = time.monotonic() + STOP_WAIT
    while alive(pid, marker) and time.monotonic() < deadline:
        time.sleep(0.02)


@atexit.register
def _stopchildren() -> None:
    for pid, child in list(children.items()):
        if child.poll() is None:
            child.kill()
            try:
                child.wait(timeout=STOP_WAIT)
            except subprocess.TimeoutExpired:
                pass
    children.clear()


def last_words(log: Path) -> str:
    try:
        return last_words_of(log.read_text(errors="replace"))
    except OSError:
        return "no log output"


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > 9 and cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{cols[9]}]")
    return inodes


def listens(pid: int, port: int) -> bool:
    """Does the process ``pid`` itself listen on ``port`` (so no other program answers there)?"""
    inodes = _listening_inodes(port)
    if not inodes:
        return False
    try:
        return any(os.readlink(fd) in inodes for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def port_holder(port: int) -> str:
    """Who listens on a local port: another learner's registry (found through /proc), or a program."""
    inodes = _listening_inodes(port)
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if not any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                continue
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        config = next((a.decode(errors="replace") for a in argv if a.endswith(b"config.yml")), "")
        if "/_learners/" in config:
            return f"learner {config.split('/_learners/', 1)[1].split('/', 1)[0]}'s registry"
        if config:
            return "another registry"
        return f"another program ({Path(argv[0].decode(errors='replace')).name})"
    return "another program"
