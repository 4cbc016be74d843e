"""The daemonless engine's "daemon": Docker 20.10's rules, and lists of its own for the lab.

No daemon.json here: ``insecure-registries`` and ``registry-mirrors`` become this engine's own
lists (for the life of the engine, i.e. of the lab); trusted CA certificates go to reglab's
``<state>/certs.d``. Nothing outside reglab's folders changes.
"""

from __future__ import annotations

from pathlib import Path

from ...daemon import Change, DaemonConfig
from ...errors import UsageError
from ...registry_api import CERTS_D, RegistryClient
from ... import errors


class LocalDaemon:
    def __init__(self, engine):
        self.engine = engine
        self.insecure: list[str] = []  # daemon.json's insecure-registries, this engine's way
        self.mirrors: list[str] = []  # daemon.json's registry-mirrors, this engine's way

    def insecure_registries(self) -> list[str]:
        # the same rule as Docker 20.10's default (plain HTTP to 127.0.0.0/8 only), plus the listed ones
        return ["127.0.0.0/8"] + sorted(self.insecure)

    def registry_mirrors(self) -> list[str]:
        return list(self.mirrors)

    def config(self):
        return None

    def reconfigure(self, settings: dict, backup: Path) -> Change:
        lists = {"insecure-registries": self.insecure, "registry-mirrors": self.mirrors}
        for key in settings:
            if key not in lists:
                raise UsageError(errors.no_such_daemon_setting(self.engine.label, key))
        before = {key: list(value) for key, value in lists.items() if value}
        for key, values in settings.items():
            lists[key] += [v for v in values if v not in lists[key]]
        content = {key: list(value) for key, value in lists.items() if value or key in settings}
        changed = {k: content[k] for k in settings if before.get(k) != content[k]}
        return Change(Path("daemon.json"), before, content, changed, True)

    def restore(self, backup: Path) -> bool:
        had = bool(self.insecure or self.mirrors)
        self.insecure.clear()
        self.mirrors.clear()
        settings = self.engine.settings  # a Docker run's backup, if one was left
        return DaemonConfig(settings.daemon_json, settings.dockerd_pidfile).restore(backup) or had


class LocalTrust:
    system_folders = (Path(CERTS_D),)  # the client looks in its own folder first, then Docker's

    def __init__(self, engine):
        self.engine = engine

    def folder(self) -> Path:
        return self.engine.settings.state_dir / "certs.d"

    def login(self, host: str, user: str, password: str) -> None:
        """``GET /v2/`` with the credentials, as the daemon does for ``docker login``."""
        RegistryClient(host, auth=(user, password), insecure=self.engine.daemon.insecure_registries(),
                       trust=(self.folder(), *self.system_folders)).request("GET", "/v2/")
