"""Sentences of the daemonless ``docker`` command and of a typed ``docker container run`` read back."""

from __future__ import annotations

__all__ = ["gc_config_path", "cannot_publish", "flag_needs_argument", "one_data_folder", "publish_once", "registry_needs_name",
           "run_needs_image", "unknown_flag", "mount_not_config", "network_not_found"]


def one_data_folder() -> str:
    return "choose either volume= or bind=, not both: the registry has one data folder."


def run_needs_image() -> str:
    return '"docker container run" requires at least 1 argument: the image.'


def unknown_flag(command: str, flag: str) -> str:
    return f"unknown flag for {command} here: {flag}"


def flag_needs_argument(flag: str) -> str:
    return f"flag needs an argument: {flag}"


def publish_once() -> str:
    return "publish the registry's port once: -p 127.0.0.1:<port>:5000."


def cannot_publish(spec: str) -> str:
    return f"cannot publish {spec!r}: use -p 127.0.0.1:<port>:5000 (the registry listens on 5000 inside)."


def registry_needs_name() -> str:
    return "name the registry container with --name, so that the lab can find it again."


def gc_config_path(inside: str) -> str:
    return f"the registry's configuration is {inside}."


def mount_not_config(data: str, config: str, inside: str) -> str:
    return (f"the daemonless registry keeps its data in {data} and reads a config file mounted at {config}, "
            f"nothing else at {inside}: use the Docker engine for other mounts.")


def network_not_found(name: str) -> str:
    return f"Error response from daemon: network {name} not found (docker network ls lists them)."
