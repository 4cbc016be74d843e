"""What ``docker login`` keeps: ``$DOCKER_CONFIG/config.json`` (default ``~/.docker``).

``docker login`` asks the daemon to check a user name and password against the registry,
then — without a credential helper — stores them in ``config.json`` as
``"auths": {"<host:port>": {"auth": base64("user:password")}}``: base64 is an encoding, not
encryption, hence the CLI's warning. Both docker CLIs on our machines (28.2.2 and Debian's
20.10.24) write the file byte for byte the same: Go's ``json.MarshalIndent`` with a tab, no
final newline, mode 0600 (``tests/test_secure.py`` proves it against the real CLIs). They
print different warnings: a lab prints the one of the CLI the course installs (:data:`WARNING`).

Reading the file back (for pushes, pulls and the registry client) is :func:`stored`.
Nothing here prints a password or the ``auth`` value: :func:`masked` shows the file with it
hidden.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

CONFIG_NAME = "config.json"
FILE_MODE = 0o600
MASK = "•"

# what `docker login` prints without a credential helper, as the docker CLI the course installs
# (Debian's 20.10, checked word for word against /usr/bin/docker) prints it on every login; Docker
# 28 words it otherwise ("Your credentials are stored unencrypted in '<path>'", only when it stores
# a new login). The daemonless `docker login` prints the same: it stands in for that CLI.
WARNING = ("WARNING! Your password will be stored unencrypted in {path}.\n"
                 "Configure a credential helper to remove this warning. See\n"
                 "https://docs.docker.com/engine/reference/commandline/login/#credentials-store\n")


def encode(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def _dump(config: dict, ascii_only: bool = True) -> bytes:
    """As the docker CLI writes it: tab-indented JSON, no newline at the end."""
    return json.dumps(config, indent="\t", ensure_ascii=ascii_only).encode()


def read(folder: Path) -> dict:
    try:
        return json.loads((folder / CONFIG_NAME).read_text())
    except (OSError, ValueError):
        return {}


def _write(folder: Path, config: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG_NAME
    tmp = folder / f".{CONFIG_NAME}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(_dump(config))
    os.chmod(tmp, FILE_MODE)
    tmp.replace(path)
    return path


def store(folder: Path, host: str, user: str, password: str) -> Path:
    """Write what ``docker login <host>`` writes (other entries and keys kept); return the file."""
    config = read(folder)
    config.setdefault("auths", {})[host] = {"auth": encode(user, password)}
    return _write(folder, config)


def forget(folder: Path, host: str) -> Path:
    """What ``docker logout <host>`` writes."""
    config = read(folder)
    config.setdefault("auths", {}).pop(host, None)
    return _write(folder, config)


def masked(folder: Path) -> str:
    """The file as ``cat`` shows it, every ``auth`` value replaced by as many dots."""
    config = read(folder)
    for entry in (config.get("auths") or {}).values():
        if isinstance(entry, dict) and entry.get("auth"):
            entry["auth"] = MASK * len(entry["auth"])
    return _dump(config, ascii_only=False).decode()


def decoded_masked(folder: Path, host: str) -> str | None:
    """``base64 -d`` of the stored ``auth``, the password part masked: ``alice:••••``."""
    entry = (read(folder).get("auths") or {}).get(host) or {}
    try:
        user, _, password = base64.b64decode(entry.get("auth", "")).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return f"{user}:{MASK * len(password)}" if user else None


def stored(docker_config: Path | None, host: str) -> tuple[str, str] | None:
    """What ``docker login`` stored for ``host`` in ``<docker_config>/config.json``
    (``auths.<host>.auth`` = base64 of user:password); None without a folder or a login."""
    if docker_config is None:
        return None
    try:
        entry = json.loads((Path(docker_config) / "config.json").read_text()).get("auths", {}).get(host) or {}
        user, _, password = base64.b64decode(entry.get("auth", "")).decode().partition(":")
    except (OSError, ValueError, UnicodeDecodeError, AttributeError):
        return None
    return (user, password) if user else None
