"""The registry's password file (``auth.htpasswd``): one ``user:bcrypt-hash`` line per user.

The registry accepts **bcrypt** hashes only (``$2a$``, ``$2b$``, ``$2y$``; distribution
``registry/auth/htpasswd``) and checks the hash on every request, so the cost is kept low
(``rounds=5``: about a millisecond, instead of ~250 ms at the default 12). The registry
re-reads the file when its modification time changes: adding a user needs no restart.

This is what ``htpasswd -B`` (Apache's ``apache2-utils``) writes; ``registry:2`` itself has
no ``htpasswd`` program since their rebuild of June 2020 (distribution-library-image #107), which broke the recipe ``docker run --entrypoint
htpasswd registry:2 …``. Passwords are never written anywhere but the lab's own password
files (mode 0600), and never printed.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import bcrypt

from . import errors

ROUNDS = 5
FILE_MODE = 0o600


def hash_password(password: str, rounds: int = ROUNDS) -> str:
    """A bcrypt hash (``$2b$05$…``) of ``password``."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=rounds)).decode()


def check(line_hash: str, password: str) -> bool:
    return bcrypt.checkpw(password.encode(), line_hash.encode())


def new_password() -> str:
    """A random password: 20 URL-safe characters (no shell quoting needed)."""
    return secrets.token_urlsafe(15)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.chmod(path, FILE_MODE)


def read(path: Path) -> dict[str, str]:
    """user → hash, as the registry reads the file."""
    users = {}
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return {}
    for line in lines:
        user, sep, hashed = line.strip().partition(":")
        if sep and user and not user.startswith("#"):
            users[user] = hashed
    return users


def add_user(path: Path, user: str, password: str) -> None:
    """Add ``user`` (or change their password) in the file, keeping the other users."""
    if ":" in user or not user or any(c.isspace() for c in user):
        raise ValueError(errors.bad_user_name(user))
    users = read(path)
    users[user] = hash_password(password)
    _write_private(path, "".join(f"{u}:{h}\n" for u, h in users.items()))


def write_password_file(path: Path, password: str) -> None:
    """The password alone, for ``docker login --password-stdin < file`` (mode 0600)."""
    _write_private(path, password + "\n")
