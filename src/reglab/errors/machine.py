"""Sentences about this machine: its ports, and the shell that runs a twin as typed."""

from __future__ import annotations

from . import PortInUse, ReglabError

__all__ = ["all_ports_taken", "no_shell", "not_a_port", "ran_too_long"]


def not_a_port(port: int) -> PortInUse:
    return PortInUse(f"{port} is not a TCP port: choose a number between 1024 and 65535.")


def all_ports_taken(first: int, last: int, host: str) -> PortInUse:
    return PortInUse(
        f"ports {first}-{last} on {host} are all taken: "
        "free one of them or pass a port outside that range."
    )


def no_shell(line: str) -> ReglabError:
    return ReglabError(f"no shell (sh) to run `{line}` on this machine: run it in a terminal yourself.")


def ran_too_long(line: str, seconds: int) -> ReglabError:
    return ReglabError(f"`{line}` ran longer than {seconds} s and was stopped: run it in a terminal.")
