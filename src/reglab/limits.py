"""What an engine may not be able to do, as data: an engine lists its limits in ``engine.cannot``,
and a step that meets one words it with :mod:`reglab.errors.limits` instead of asking which
engine it has."""

from __future__ import annotations

import enum

__all__ = ["Cannot"]


class Cannot(enum.Enum):
    """Things a lesson shows that an engine may not be able to do (its :attr:`Engine.cannot`)."""

    RUN_CONTAINERS = "run containers"  # no container runtime: hello-world does not really run
    NETWORKS = "container networks"  # no networks: a folder stands for one, [::1] for an address on it
    CONTAINER_NAMES = "container names"  # no name service: a registry reaches another at its loopback address
    ASK_DAEMON = "ask a daemon"  # no daemon to ask for its insecure registries: Docker 20.10's rule
    DAEMON_JSON = "daemon.json"  # no daemon.json: the engine keeps the same lists for the lab only
    PULL_FROM_HUB = "pull from Docker Hub"  # never fetches the course images from Docker Hub
    DOCKER_CLI = "docker CLI"  # no docker command drives it: a lab sheet provides reglab's own
    KEEP_IMAGES_APART = "keep learners' images apart"  # one image store for every user of the engine
