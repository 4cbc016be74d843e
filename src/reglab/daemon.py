"""The Docker daemon's ``daemon.json``: changed live, and only on a daemon this project started.

Some lessons need the daemon itself reconfigured: ``insecure-registries`` (notebook 05),
``registry-mirrors`` (notebook 06). Both are reloaded on ``SIGHUP`` without a restart
(moby ``daemon/reload.go``). :class:`DaemonConfig` does that carefully:

- it changes the file **only** when this project's set-up started the daemon: the pid in
  ``Settings.dockerd_pidfile`` (default ``/tmp/reglab-dockerd.pid``, written by
  ``scripts/setup.sh``) is a running ``dockerd`` reading that file. The file is
  ``Settings.daemon_json`` (default ``/etc/docker/daemon.json``). On any other daemon
  (Docker Desktop, a system service) it changes nothing and says exactly what it would do;
- before the first change it keeps the file's original bytes (or its absence) in a backup
  the caller names, inside the lab's state folder: the next ``Lab`` finds it after a killed
  kernel and restores from it;
- it applies a change with ``SIGHUP`` and waits until ``docker info`` shows it;
- it restores the original byte for byte. Removing a key and reloading does **not** undo it
  in the running daemon (reload only changes the keys present in the file; measured with
  Docker 20.10), so :meth:`DaemonConfig.restore` first writes the original with explicit
  values for the keys it changed — what ``docker info`` showed before the change, written out
  (not an empty list: on Docker ≥ 29.10 ``"insecure-registries": []`` also drops the loopback
  default, moby#53868) —, reloads and waits until ``docker info`` shows them, then writes the
  original bytes back and reloads again.

Interface (all a caller needs)::

    daemon = DaemonConfig(path, pidfile, info=docker_client.info)   # the engine gives you one: engine.daemon.config()
    change = daemon.change({"registry-mirrors": ["http://127.0.0.1:5001"]}, backup=lab_state / "daemon.json.backup")
    change.applied, change.content, change.why_not, change.instructions()
    daemon.restore(backup)                           # at cleanup; a no-op without a backup

Only keys in :data:`RELOADABLE` may change: those a reload applies and ``docker info`` shows.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import errors
from .errors import ReglabError

DEFAULT_DAEMON_JSON = "/etc/docker/daemon.json"
DEFAULT_PIDFILE = "/tmp/reglab-dockerd.pid"
RELOAD_WAIT = 15.0  # seconds docker info may take to show a reloaded value
SIGHUP_TWIN = "sudo kill -SIGHUP $(pidof dockerd)"


def _insecure(info: dict) -> list[str]:
    """``insecure-registries`` as ``docker info`` shows them: CIDRs, then host:port names."""
    config = info.get("RegistryConfig") or {}
    cidrs = list(config.get("InsecureRegistryCIDRs") or [])
    names = [name for name, index in (config.get("IndexConfigs") or {}).items()
             if not index.get("Secure", True) and name not in cidrs]
    return cidrs + sorted(names)


def _mirrors(info: dict) -> list[str]:
    config = info.get("RegistryConfig") or {}
    return [m.rstrip("/") for m in config.get("Mirrors") or []]


def _shows_insecure(info: dict, wanted: list[str]) -> bool:
    shown = _insecure(info)
    builtin = {"127.0.0.0/8", "::1/128"}  # always there, whatever the file says
    return set(wanted) - builtin <= set(shown) and set(shown) - builtin <= set(wanted)


def _shows_mirrors(info: dict, wanted: list[str]) -> bool:
    return _mirrors(info) == [m.rstrip("/") for m in wanted]


# key → (its "empty" value, does docker info show this value?)
RELOADABLE: dict[str, tuple[object, Callable[[dict, list[str]], bool]]] = {
    "insecure-registries": ([], _shows_insecure),
    "registry-mirrors": ([], _shows_mirrors),
}


@dataclass(frozen=True)
class Change:
    """What a change to ``daemon.json`` is (or would be), and whether it was applied."""

    path: Path  # the file the daemon reads
    before: dict
    content: dict  # the whole file after the change
    changed: dict  # only the keys that change
    applied: bool
    why_not: str | None = None  # why it was not applied (one sentence)

    def text(self) -> str:
        """The file as it reads after the change (indented JSON)."""
        return json.dumps(self.content, indent=2)

    def instructions(self) -> str:
        """What a learner does by hand for the same change."""
        return (f"put this in {self.path} (sudo), then reload the daemon with `{SIGHUP_TWIN}`:\n{self.text()}")


def _proc_args(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return [a.decode(errors="replace") for a in raw.split(b"\0") if a]


def _hosts(args: list[str]) -> list[str]:
    """Where a dockerd started with ``args`` listens (``-H``/``--host``; default: the usual socket)."""
    hosts = []
    for i, arg in enumerate(args):
        if arg in ("-H", "--host") and i + 1 < len(args):
            hosts.append(args[i + 1])
        elif arg.startswith(("--host=", "-H=")):
            hosts.append(arg.split("=", 1)[1])
    return hosts or ["unix:///var/run/docker.sock"]


class DaemonConfig:
    """The daemon's ``daemon.json`` and the daemon reading it (see the module's notes)."""

    def __init__(self, path: str | os.PathLike = DEFAULT_DAEMON_JSON, pidfile: str | os.PathLike = DEFAULT_PIDFILE,
                 info: Callable[[], dict] | None = None, learner: str | None = None, host: str | None = None):
        self.info = info  # docker info, as a dict (None: cannot verify, e.g. under the daemonless engine)
        self.path = Path(path)
        self.pidfile = Path(pidfile)
        self.learner = learner  # a learner name is set: the daemon serves several learners
        self.host = host  # where the daemon we talk to listens (DOCKER_HOST): it must be the pid file's

    # ------------------------------------------------------------------ may we?

    def pid(self) -> int | None:
        """The pid of the dockerd this project's set-up started, if it still runs."""
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        args = _proc_args(pid)
        if not args or Path(args[0]).name != "dockerd":
            return None
        return pid

    def why_not(self) -> str | None:
        """None when reglab may change this daemon's configuration; else why not, in one sentence."""
        if self.learner:
            return ("this Docker daemon serves several learners (a learner name is set), so reglab leaves its "
                    "configuration alone")
        pid = self.pid()
        if pid is None:
            return (f"this Docker daemon was not started by reglab's set-up (no running dockerd in "
                    f"{self.pidfile}), so reglab leaves its configuration alone")
        args = _proc_args(pid) or []
        if self.host and self.host not in _hosts(args):
            return (f"the Docker daemon at {self.host} is not the one reglab's set-up started (that one listens at "
                    f"{', '.join(_hosts(args))}), so reglab leaves both alone")
        reads = DEFAULT_DAEMON_JSON
        for i, arg in enumerate(args):
            if arg == "--config-file" and i + 1 < len(args):
                reads = args[i + 1]
            elif arg.startswith("--config-file="):
                reads = arg.split("=", 1)[1]
        if Path(reads) != self.path:
            return f"the dockerd reglab started reads {reads}, not {self.path}, so reglab leaves both alone"
        try:
            self.read()
        except ReglabError as exc:
            return str(exc).rstrip(".")
        return None

    # ------------------------------------------------------------------ the file

    def read(self) -> dict:
        """The file's settings ({} when there is no file)."""
        try:
            text = self.path.read_text()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise errors.daemon_json_unreadable(self.path, exc.strerror) from None
        if not text.strip():
            return {}
        try:
            data = json.loads(text)
        except ValueError:
            raise errors.daemon_json_invalid(self.path) from None
        if not isinstance(data, dict):
            raise errors.daemon_json_not_object(self.path)
        return data

    def _write(self, data: bytes) -> None:
        tmp = self.path.with_name(f".{self.path.name}.reglab.tmp")
        tmp.write_bytes(data)
        try:
            os.chmod(tmp, self.path.stat().st_mode & 0o7777)
        except OSError:
            os.chmod(tmp, 0o644)
        tmp.replace(self.path)

    def _reload(self, expect: dict) -> None:
        """SIGHUP the daemon, then wait until ``docker info`` shows every key of ``expect``."""
        pid = self.pid()
        if pid is None:
            raise errors.dockerd_gone()
        os.kill(pid, signal.SIGHUP)
        if self.info is None:
            return
        deadline = time.monotonic() + RELOAD_WAIT
        while True:
            info = self.info()
            if all(RELOADABLE[key][1](info, list(value)) for key, value in expect.items()):
                return
            if time.monotonic() > deadline:
                raise errors.daemon_reload_timeout(list(expect), RELOAD_WAIT)
            time.sleep(0.05)

    # ------------------------------------------------------------------ change, restore

    def change(self, settings: dict, backup: Path) -> Change:
        """Add ``settings`` to the file and reload the daemon — if reglab may; else describe it.

        Each value is a list, added to what the file already lists under that key (entries
        already there are kept, and not repeated). The original file is kept in ``backup``
        before the first change (later changes keep the first backup, so restore always
        returns to what was there before the lab).
        """
        for key in settings:
            if key not in RELOADABLE:
                raise errors.not_reloadable(key, list(RELOADABLE))
        why = self.why_not()
        try:
            before = self.read()
        except ReglabError:
            before = {}
        content = dict(before)
        for key, values in settings.items():
            listed = list(before.get(key) or [])
            content[key] = listed + [v for v in values if v not in listed]
        changed = {k: content[k] for k in settings if before.get(k) != content[k]}
        if why:
            return Change(self.path, before, content, changed, False, why)
        if not backup.exists():
            backup.parent.mkdir(parents=True, exist_ok=True)
            try:
                original, existed = self.path.read_bytes(), True
            except FileNotFoundError:
                original, existed = b"", False
            record = {"path": str(self.path), "existed": existed, "keys": sorted(settings),
                      "original": base64.b64encode(original).decode(),
                      "shown": {key: self.shows(key) for key in settings}}
            tmp = backup.with_name(backup.name + ".tmp")
            tmp.write_text(json.dumps(record))
            tmp.replace(backup)
        else:
            record = json.loads(backup.read_text())
            shown = record.setdefault("shown", {})
            for key in settings:
                shown.setdefault(key, self.shows(key))
            record["keys"] = sorted(set(record["keys"]) | set(settings))
            backup.write_text(json.dumps(record))
        self._write((json.dumps(content, indent=2) + "\n").encode())
        self._reload({key: content[key] for key in settings})
        return Change(self.path, before, content, changed, True)

    def restore(self, backup: Path) -> bool:
        """Put the original file back, byte for byte, and make the daemon forget the change.

        Returns False when there was nothing to restore (no backup)."""
        try:
            record = json.loads(backup.read_text())
        except FileNotFoundError:
            return False
        except ValueError:  # torn by a killed kernel before it was complete: nothing was changed yet
            backup.unlink(missing_ok=True)
            return False
        path = Path(record["path"])
        if path != self.path:
            self.path = path
        original = base64.b64decode(record["original"])
        try:
            kept = json.loads(original) if original.strip() else {}
        except ValueError:
            kept = {}
        # 1. explicit values for every key the lab changed: its original value in the file, else
        # what docker info showed before the change (the daemon's defaults), else "empty"
        shown = record.get("shown") or {}
        resets = {key: kept.get(key, shown.get(key, RELOADABLE[key][0])) for key in record["keys"]}
        if self.pid() is not None:
            self._write((json.dumps({**kept, **resets}, indent=2) + "\n").encode())
            self._reload(resets)
        # 2. the original bytes (or no file, as before)
        if record["existed"]:
            self._write(original)
            if self.pid() is not None:
                self._reload(resets)
        else:
            self.path.unlink(missing_ok=True)  # a reload without a file would only log an error
        backup.unlink()
        return True

    def shows(self, key: str) -> list[str]:
        """What ``docker info`` shows for ``key`` now."""
        if self.info is None:
            return []
        info = self.info()
        return _insecure(info) if key == "insecure-registries" else _mirrors(info)
