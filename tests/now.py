"""The settings this test session runs with, read from its environment as an entry point does
(the root conftest.py sets the session's own state and work folders before any test)."""

from __future__ import annotations

from pathlib import Path

from reglab import state as _state
from reglab.config import Settings
from reglab.naming import Scope


def settings() -> Settings:
    return Settings.from_env()


def state_root() -> Path:
    return settings().state_dir


def lab_dirs(scope: Scope) -> list[Path]:
    return _state.lab_dirs(state_root(), scope)


def scope_root(learner: str | None) -> Path:
    return _state.scope_root(state_root(), learner)


def work_root(learner: str | None = None) -> Path:
    return _state.work_root(settings().workdir, learner)


def State(scope: Scope) -> _state.State:  # noqa: N802 (reads as the class it makes)
    return _state.State(state_root(), scope)
