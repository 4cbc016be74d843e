"""Sentences about engines and the objects they hold: containers, volumes, networks, images.

Both engines raise these same sentences for the same failure (tests/test_parity.py provokes
each under both and compares the words)."""

from __future__ import annotations

from . import EngineError, ImageInUse, ImageMissing

__all__ = ["config_unreadable", "no_registry_binary_for", "registry_v3_hint", "no_free_port_from", "not_loopback_needs_network", "another_learners", "file_not_ours", "no_registry_yet", "image_in_use", "loopback_only", "network_not_ours", "no_container", "no_engine",
           "no_image_to_run", "no_such_daemon_setting", "no_such_engine", "no_volume", "not_ours",
           "registry_binary_hint", "registry_image_missing", "volume_in_use"]

_REMOVE = {"container": "container rm -f", "volume": "volume rm", "network": "network rm"}


def no_container(name: str) -> EngineError:
    return EngineError(f"there is no container {name}: start it first (lab.run_registry()).")


def not_ours(kind: str, name: str, lab: str) -> str:
    """A container or volume with a lab's name that reglab did not create (a typed twin made it)."""
    return (f"a {kind} named {name} exists but reglab did not create it (typing the twins makes it): reglab "
            f"will not touch it; remove it (docker {_REMOVE[kind]} {name}) and run this step again, or start "
            f"with Lab(\"{lab}\", adopt=True) to let the lab take it over.")


def another_learners(kind: str, name: str) -> str:
    return (f"the {kind} {name} belongs to another learner's lab: reglab will not touch it; "
            "set REGLAB_LEARNER to a name of your own.")


def network_not_ours(name: str) -> str:
    return (f"a network named {name} exists but this lab did not create it: reglab will not "
            f"touch it; remove it yourself (docker network rm {name}) if it is not in use.")


def registry_image_missing(image: str) -> ImageMissing:
    return ImageMissing(f"the registry image {image} is not in the local store: run `python -m reglab images` "
                        "(add REGLAB_OFFLINE=1 without internet).")


def no_image_to_run(image: str) -> ImageMissing:
    return ImageMissing(f"there is no image {image} in the local store: run `python -m reglab images`, or pull "
                        "it back from your registry.")


def image_in_use(reference: str, container: str) -> ImageInUse:
    return ImageInUse(f"{reference} is still used by the stopped container {container}: remove that "
                      f"container first (docker container rm {container}).")


def no_volume(name: str) -> EngineError:
    return EngineError(f"there is no volume {name} (docker volume ls lists them).")


def volume_in_use(name: str, container: str) -> EngineError:
    return EngineError(f"the volume {name} is in use by the container {container}: remove that container "
                       f"first (docker container rm -f {container}).")


def loopback_only(host: str) -> str:
    return f"the daemonless engine publishes on 127.0.0.1 only, not {host}."


def no_such_daemon_setting(engine: str, key: str) -> str:
    return f"{engine} has no {key}: use the Docker engine for this step."


def registry_binary_hint(configured: str | None) -> str:
    if configured:
        return f"REGLAB_REGISTRY_BIN={configured} is not an executable file: point it at the registry binary"
    return "install Debian's registry binary (sudo apt-get install docker-registry) or set REGLAB_REGISTRY_BIN"


def no_such_engine(asked: str, known: list[str]) -> str:
    return f"REGLAB_ENGINE={asked!r} names no engine: use {' or '.join(repr(k) for k in known)}."


def no_engine(problem: str, hint: str) -> str:
    return (f"{problem} and the registry binary is missing: start Docker (`make lab` does on Debian), "
            f"or {hint} to use the daemonless engine.")


def no_registry_yet():
    from . import ReglabError

    return ReglabError("this lab has no registry yet: start one with lab.run_registry().")


def file_not_ours(path) -> str:
    return f"{path} exists and this lab did not create it: reglab will not overwrite it; remove it yourself if it is not needed."


def not_loopback_needs_network() -> str:
    return "a registry reached at an address that is not loopback needs a network of the lab: pass network='net' too."


def no_free_port_from(port: int) -> str:
    return f"no free port from {port} on: free one, or pass another port."


def registry_v3_hint(build: str) -> str:
    return f"the registry v3 binary is not built: {build}"


def no_registry_binary_for(image: str, hint: str) -> str:
    return f"the daemonless engine has no program for {image}: {hint}."


def config_unreadable(path: str, inside: str) -> EngineError:
    """A config file mounted where the registry reads its own cannot be read."""
    return EngineError(f"the config mounted at {inside}, {path}, cannot be read: check that the file exists and is "
                       "readable, then start the registry again.")
