"""What an engine cannot do, in a learner's words: one sentence per :class:`reglab.engines.Cannot`.

An engine states its limits as data (``engine.cannot``); a step that meets one says so with
these sentences (as a ``(reglab)`` note), naming the engine by its label."""

from __future__ import annotations

from . import fragment

__all__ = ["cannot_ask_daemon", "cannot_docker_cli", "cannot_name_containers", "cannot_network",
           "cannot_pull_from_hub", "cannot_daemon_json"]


@fragment
def cannot_ask_daemon(engine: str) -> str:
    """A note (the narrator's ``(reglab) …`` line)."""
    return (f"no Docker daemon here to ask: {engine} applies Docker 20.10's built-in rule, 127.0.0.0/8, and this "
            "answer is that fixed text")


@fragment
def cannot_network(engine: str, network: str, reached: bool) -> str:
    """A note (the narrator's ``(reglab) …`` line)."""
    return (f"{engine} has no container networks: a folder stands for {network}"
            + (", and a registry reached on it listens on the IPv6 loopback [::1]" if reached else ""))


@fragment
def cannot_name_containers(engine: str, what: str, name: str, url: str) -> str:
    """A note (the narrator's ``(reglab) …`` line)."""
    return f"{engine} has no container names: {what} reaches {name} at {url}"


@fragment
def cannot_daemon_json(engine: str, mirrors: bool = False) -> str:
    """A note (the narrator's ``(reglab) …`` line)."""
    return (f"{engine} has no daemon.json: its client takes the same list, for this lab only"
            + (", and never falls back to Docker Hub" if mirrors else ""))


@fragment
def cannot_pull_from_hub(engine: str) -> str:
    """Why a course image was built as a stand-in, completing :func:`standin_cannot_be_built`."""
    return f"{engine} does not pull from Docker Hub"


@fragment
def cannot_docker_cli(script: str) -> str:
    """A note (printed after ``(reglab)`` when a sheet sets up without Docker)."""
    return (f"no Docker here: `docker` in this notebook is reglab's daemonless docker ({script}); "
            "in a terminal type `python -m reglab docker …`.")
