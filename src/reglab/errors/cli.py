"""Sentences of the daemonless ``docker`` command and of a typed ``docker container run`` read back."""

from __future__ import annotations

from . import ReglabError, UsageError, fragment

__all__ = ["cannot_publish", "flag_needs_argument", "one_data_folder", "publish_once", "registry_needs_name",
           "run_needs_image", "unknown_flag", "mount_not_config", "network_not_found"]


def one_data_folder() -> str:
    return "choose either volume= or bind=, not both: the registry has one data folder."


def run_needs_image() -> str:
    return '"docker container run" requires at least 1 argument: the image.'


@fragment
def unknown_flag(command: str, flag: str) -> str:
    """The docker CLI's own words (``unknown flag: --x``), naming the command."""
    return f"unknown flag for {command} here: {flag}"


@fragment
def flag_needs_argument(flag: str) -> str:
    """The docker CLI's own words."""
    return f"flag needs an argument: {flag}"


def publish_once() -> str:
    return "publish the registry's port once: -p 127.0.0.1:<port>:5000."


def cannot_publish(spec: str) -> str:
    return f"cannot publish {spec!r}: use -p 127.0.0.1:<port>:5000 (the registry listens on 5000 inside)."


def registry_needs_name() -> str:
    return "name the registry container with --name, so that the lab can find it again."


__all__ += ["container_not_running", "container_running", "docker_no_such_container", "docker_no_such_volume",
            "exec_needs_arguments", "format_understood", "image_needs_one", "login_needs_host", "login_needs_user",
            "name_in_use", "needs_container_name", "network_and_mount_need_docker", "not_installed",
            "port_already_allocated", "registry_config_is", "registry_data_only_in", "rm_needs_image",
            "running_in_container_needs_docker", "running_with_extras_needs_docker", "tag_needs_two",
            "unknown_command", "unknown_subcommand", "volume_create_needs_name"]


# ----------------------------------------------------------------------------- what only Docker does


def _needs_docker(what: str) -> UsageError:
    return UsageError(f"{what} needs Docker: the daemonless engine runs only registries and the course's images "
                      "(the labs tell you what they need).")


def network_and_mount_need_docker() -> UsageError:
    return _needs_docker("--network and --mount")


def running_with_extras_needs_docker(image: str) -> UsageError:
    return _needs_docker(f"running {image} with ports, volumes or a command")


def running_in_container_needs_docker(program: str) -> UsageError:
    return _needs_docker(f"running {program} in a container")


def unknown_command(argv: list[str]) -> UsageError:
    """``argv``: the words after ``docker`` (the first two name the command)."""
    return UsageError(f"docker {' '.join(argv[:2])} is not a command the daemonless engine knows: "
                      "it knows container, image and volume commands (docker help).")


def unknown_subcommand(group: str, command: str) -> UsageError:
    return UsageError(f"docker {group} {command} is not a command the daemonless engine knows (docker help).")


def registry_data_only_in(data: str, inside: str) -> UsageError:
    return UsageError(f"the daemonless registry keeps its data in {data} only, not {inside}.")


def registry_config_is(path: str) -> UsageError:
    return UsageError(f"the registry's configuration is {path}.")


def not_installed(program: str) -> UsageError:
    return UsageError(f"{program} is not installed on this machine.")


def format_understood() -> UsageError:
    return UsageError("the daemonless docker understands --format '{{.Field}}' or '{{json .Field}}' only.")


# ----------------------------------------------------------------------------- a command's arguments


def needs_container_name(command: str) -> UsageError:
    return UsageError(f'"docker container {command}" requires at least 1 argument: a container name.')


def exec_needs_arguments() -> UsageError:
    return UsageError('"docker container exec" requires a container name and a command.')


def tag_needs_two() -> UsageError:
    return UsageError('"docker image tag" requires exactly 2 arguments: SOURCE TARGET.')


def image_needs_one(command: str) -> UsageError:
    """``command``: ``push`` or ``pull``."""
    return UsageError(f'"docker image {command}" requires exactly 1 argument: the image name.')


def rm_needs_image() -> UsageError:
    return UsageError('"docker image rm" requires at least 1 argument: an image name.')


def volume_create_needs_name() -> UsageError:
    return UsageError('"docker volume create" here needs exactly 1 argument: the volume name.')


def login_needs_host() -> UsageError:
    return UsageError("docker login needs the registry's host:port (the daemonless engine has no default registry).")


def login_needs_user() -> UsageError:
    return UsageError("docker login here needs --username and a password (--password-stdin < file).")


# ----------------------------------------------------------------------------- what the daemon would answer


def name_in_use(name: str) -> UsageError:
    """Docker's own words, then what to do."""
    return UsageError(f'Conflict. The container name "{name}" is already in use: remove it first '
                      f"(docker container rm -f {name}) or choose another name.")


def port_already_allocated(name: str, host: str, port: int, holder: str) -> ReglabError:
    """Docker's own words, then who holds the port (:attr:`reglab.errors.PortInUse.holder`)."""
    return ReglabError(f"driver failed programming external connectivity on endpoint {name}: Bind for "
                       f"{host}:{port} failed: port is already allocated (taken by {holder}).")


@fragment
def docker_no_such_container(name: str) -> ReglabError:
    """The daemon's own words (``Error response from daemon: No such container: …``)."""
    return ReglabError(f"No such container: {name}")


def container_running(name: str) -> ReglabError:
    """Docker's own words."""
    return ReglabError(f"You cannot remove a running container {name}. Stop the container before "
                       "attempting removal or force remove (docker container rm -f).")


def container_not_running(name: str) -> ReglabError:
    return ReglabError(f"Container {name} is not running: start it first (docker container start {name}).")


@fragment
def docker_no_such_volume(name: str) -> ReglabError:
    """The daemon's own words (``Error response from daemon: get …: no such volume``)."""
    return ReglabError(f"get {name}: no such volume")


def mount_not_config(data: str, config: str, inside: str) -> str:
    return (f"the daemonless registry keeps its data in {data} and reads a config file mounted at {config}, "
            f"nothing else at {inside}: use the Docker engine for other mounts.")


def network_not_found(name: str) -> str:
    return f"Error response from daemon: network {name} not found (docker network ls lists them)."
