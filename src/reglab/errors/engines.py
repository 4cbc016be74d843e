"""Sentences about engines and the objects they hold: containers, volumes, networks, images.

Both engines raise these same sentences for the same failure (tests/test_errors.py provokes
each under both and compares the words)."""

from __future__ import annotations

from . import (DockerUnavailable, EngineError, EngineUnavailable, ImageInUse, ImageMissing, NameConflict,
               RegistryUnavailable, fragment)

__all__ = ["config_unreadable", "engine_shared", "no_registry_binary_for", "registry_v3_hint", "no_free_port_from", "not_loopback_needs_network", "another_learners", "file_not_ours", "no_registry_yet", "image_in_use", "loopback_only", "network_not_ours", "no_container", "no_engine",
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


@fragment
def registry_binary_hint(configured: str | None) -> str:
    """What to do, completing :func:`no_engine` and :func:`registry_binary_missing`."""
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


@fragment
def registry_v3_hint(build: str) -> str:
    """What to do, completing :func:`no_engine` and :func:`registry_binary_missing`."""
    return f"the registry v3 binary is not built: {build}"


def no_registry_binary_for(image: str, hint: str) -> str:
    return f"the daemonless engine has no program for {image}: {hint}."


def engine_shared(lab: str, other: str, engine: str) -> str:
    return (f"another learner ({other}) has a lab on this {engine} engine, whose images every learner shares, and "
            f"notebook {lab} removes and counts them: use the daemonless engine (REGLAB_ENGINE=local) or a Docker "
            "daemon of your own, or run it when the other lab is cleaned up.")


__all__ += ["docker_unreachable", "cannot_create_registry", "registry_start_failed", "cannot_create_service", "service_start_failed", "registry_did_not_start",
            "registry_stopped", "container_gone", "no_such_path", "kill_failed", "remove_failed", "restart_port_taken",
            "restart_failed", "run_failed", "ran_to_completion", "command_too_long", "no_address_on",
            "volume_remove_failed", "object_remove_failed", "strangers_hold_names", "registry_binary_missing",
            "only_the_registry_binary", "registry_binary_failed", "no_address_to_listen", "registry_not_listening"]


# ----------------------------------------------------------------------------- the Docker daemon


def docker_unreachable(where: str) -> DockerUnavailable:
    return DockerUnavailable(f"no Docker daemon answers at {where}: start Docker (on Linux `sudo dockerd &` or "
                             "`make lab`, elsewhere Docker Desktop) and try again.")


# ----------------------------------------------------------------------------- containers


def cannot_create_registry(name: str, reason: str) -> EngineError:
    return EngineError(f"could not create the registry container {name}: {reason}.")


def registry_start_failed(name: str, reason: str) -> EngineError:
    return EngineError(f"could not start the registry {name}: {reason}.")


def cannot_create_service(name: str, reason: str) -> EngineError:
    return EngineError(f"could not create the container {name}: {reason}.")


def service_start_failed(name: str, reason: str) -> EngineError:
    return EngineError(f"could not start {name}: {reason}.")


def registry_did_not_start(address: str, trouble: str) -> RegistryUnavailable:
    """A registry whose process stopped (or whose container is gone) before it answered; ``trouble``
    is :func:`registry_stopped` or :func:`container_gone`, the same words under either engine."""
    return RegistryUnavailable(f"the registry at {address} did not start: {trouble}.")


@fragment
def registry_stopped(status: str, last: str) -> str:
    """Why a registry is not running, completed by :func:`registry_did_not_start`."""
    return f"it stopped ({status}); its last log line: {last}"


@fragment
def container_gone() -> str:
    """Why a registry is not running, completed by :func:`registry_did_not_start`."""
    return "the container is gone"


def no_such_path(path: str, name: str) -> EngineError:
    return EngineError(f"{path} does not exist in {name}.")


def kill_failed(name: str, reason: str) -> EngineError:
    return EngineError(f"could not kill {name}: {reason}.")


def remove_failed(name: str, reason: str) -> EngineError:
    """A container or an image the daemon would not remove."""
    return EngineError(f"could not remove {name}: {reason}.")


def restart_port_taken(name: str) -> EngineError:
    return EngineError(f"could not restart {name}: its port is taken by another program now; stop that "
                       "program, or remove the container and run it on another port.")


def restart_failed(name: str, reason: str) -> EngineError:
    return EngineError(f"could not restart {name}: {reason}.")


def run_failed(name: str, reason: str) -> EngineError:
    return EngineError(f"could not start {name}: {reason}.")


def ran_to_completion(name: str) -> EngineError:
    return EngineError(f"{name} ran to completion: run it again (docker container run) instead.")


def command_too_long(argv: list[str], name: str) -> EngineError:
    """``argv``: the command run in the container ``name`` (its first word names it)."""
    return EngineError(f"{' '.join(argv[:1])} in {name} ran longer than 10 minutes and was stopped.")


# ----------------------------------------------------------------------------- volumes, networks, strangers


def no_address_on(name: str, network: str) -> EngineError:
    return EngineError(f"{name} has no address on the network {network}: is it running and attached?")


def volume_remove_failed(name: str, reason: str) -> EngineError:
    return EngineError(f"could not remove the volume {name}: {reason}.")


def object_remove_failed(kind: str, name: str, reason: str) -> EngineError:
    return EngineError(f"could not remove {kind} {name}: {reason}.")


def strangers_hold_names(lab: str, objects: list[tuple[str, str]]) -> NameConflict:
    """Objects (``(kind, name)``, in the order to name them) with a lab's names that it did not create."""
    what = ", ".join(f"the {kind} {name}" for kind, name in objects)
    verbs = {"container": "container rm -f", "network": "network rm", "volume": "volume rm"}
    commands = "; ".join(f"docker {verbs[kind]} {name}" for kind, name in objects)
    one = len(objects) == 1
    return NameConflict(
        f"{what} {'has' if one else 'have'} this lab's name{'s' if not one else ''} "
        f"but {'was' if one else 'were'} not made by it (typing the twins by hand makes "
        f"{'it' if one else 'them'}): remove {'it' if one else 'them'} "
        f"({commands}) and run this cell again, or let the lab take "
        f"{'it' if one else 'them'} over and remove {'it' if one else 'them'} "
        f"with everything in {'it' if one else 'them'}: Lab(\"{lab}\", adopt=True)."
    )


# ----------------------------------------------------------------------------- the daemonless engine's processes


def registry_binary_missing(hint: str) -> EngineUnavailable:
    """``hint``: :func:`registry_binary_hint` or :func:`registry_v3_hint`."""
    return EngineUnavailable(f"the daemonless engine needs the registry binary: {hint}.")


def only_the_registry_binary(binary: str, image: str) -> EngineError:
    return EngineError(
        f"the daemonless engine runs only the registry binary {binary}, not the image {image}: "
        "use the Docker engine for other images."
    )


def registry_binary_failed(binary: str, reason: str) -> EngineError:
    return EngineError(f"could not start the registry {binary}: {reason}.")


def no_address_to_listen(host: str) -> EngineError:
    return EngineError(f"this machine has no {host} to listen on (IPv6 disabled?): use the "
                       "Docker engine for a registry reached at an address that is not loopback.")


def registry_not_listening(name: str, address: str, seconds: float, log: str) -> EngineError:
    return EngineError(f"the registry {name} did not listen on {address} within "
                       f"{seconds:g} s: look at its log ({log}).")


def config_unreadable(path: str, inside: str) -> EngineError:
    """A config file mounted where the registry reads its own cannot be read."""
    return EngineError(f"the config mounted at {inside}, {path}, cannot be read: check that the file exists and is "
                       "readable, then start the registry again.")
