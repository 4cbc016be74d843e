"""Sentences about the Docker daemon's configuration (:mod:`reglab.daemon`): daemon.json, and the
SIGHUP that reloads it."""

from __future__ import annotations

from . import EngineError

__all__ = ["daemon_json_invalid", "daemon_json_not_object", "daemon_json_unreadable", "daemon_reload_timeout",
           "dockerd_gone", "not_reloadable"]


def daemon_json_unreadable(path: str, reason: str) -> EngineError:
    return EngineError(f"cannot read {path} ({reason}): check its permissions.")


def daemon_json_invalid(path: str) -> EngineError:
    return EngineError(f"{path} is not valid JSON: fix it by hand first (dockerd would not reload it "
                       "either).")


def daemon_json_not_object(path: str) -> EngineError:
    return EngineError(f"{path} does not hold a JSON object: fix it by hand first.")


def dockerd_gone() -> EngineError:
    return EngineError("the dockerd reglab started is gone: start it again (`make lab`) and re-run this step.")


def daemon_reload_timeout(keys: list[str], seconds: float) -> EngineError:
    return EngineError(f"the daemon did not take the change to {', '.join(keys)} within "
                       f"{seconds:g} s: look at its log, then restart it.")


def not_reloadable(key: str, reloadable: list[str]) -> EngineError:
    return EngineError(f"{key} is not reloaded by SIGHUP: reglab changes only {', '.join(reloadable)}.")
