"""Sentences about images on this machine: tag, push, pull, remove; the image stores (the daemon's,
the daemonless engine's OCI layout) and the course's stand-ins."""

from __future__ import annotations

from . import EngineError, ImageMissing, ManifestUnknown, fragment

__all__ = ["nothing_to_push", "nothing_to_remove"]


def nothing_to_push(tag: str) -> ImageMissing:
    return ImageMissing(f"there is no image {tag} to push: tag one with that name first (lab.tag()).")


def nothing_to_remove(tag: str) -> ImageMissing:
    return ImageMissing(f"there is no image {tag} here to remove (lab.images() lists them).")


__all__ += ["lookup_failed", "standin_refused", "hub_pull_failed", "tag_failed", "not_tagged", "daemon_reported",
            "transfer_failed", "pushed_no_digest", "pull_failed", "pulled_no_digest", "no_fetch_daemonless",
            "registry_binary_not_image", "several_names", "never_docker_hub", "store_json_invalid", "store_bad_digest",
            "store_blob_missing", "blob_arrived_damaged", "not_a_docker_archive", "manifest_arrived_damaged",
            "no_image_for_platform", "pulled_manifest_not_json", "standin_package_missing",
            "standin_registry_not_built", "standin_cannot_be_built", "hub_not_reached", "hub_pull_went_wrong",
            "build_registry_v3", "install_packages"]


# ----------------------------------------------------------------------------- the Docker daemon's store


def lookup_failed(reference: str, reason: str) -> EngineError:
    return EngineError(f"the daemon could not look up {reference}: {reason}.")


def standin_refused(reason: str) -> EngineError:
    return EngineError(f"the daemon refused a stand-in image: {reason}.")


def hub_pull_failed(reference: str, reason: str) -> ImageMissing:
    return ImageMissing(
        f"could not pull {reference} from Docker Hub ({reason}): without internet set "
        "REGLAB_OFFLINE=1 to build stand-ins from Debian packages (python -m reglab images)."
    )


def tag_failed(source: str, target: str, reason: str) -> EngineError:
    return EngineError(f"could not tag {source} as {target}: {reason}.")


def not_tagged(source: str, target: str) -> EngineError:
    return EngineError(f"the daemon did not tag {source} as {target}.")


def daemon_reported(reference: str, text: str) -> EngineError:
    return EngineError(f"{reference}: the daemon reported: {text}.")


def transfer_failed(reference: str, reason: str) -> EngineError:
    return EngineError(f"{reference}: {reason}.")


def pushed_no_digest(reference: str) -> EngineError:
    return EngineError(f"the daemon pushed {reference} but reported no digest: check `docker push` by hand.")


def pull_failed(reference: str, reason: str) -> EngineError:
    return EngineError(f"could not pull {reference}: {reason}.")


def pulled_no_digest(reference: str) -> EngineError:
    return EngineError(f"the daemon pulled {reference} but reported no digest.")


# ----------------------------------------------------------------------------- the daemonless engine's store


def no_fetch_daemonless(reference: str) -> ImageMissing:
    return ImageMissing(
        f"the daemonless engine does not fetch {reference} from Docker Hub: set REGLAB_OFFLINE=1 to build "
        "the stand-ins from Debian packages (python -m reglab images), or use the Docker engine."
    )


def registry_binary_not_image(image: str, binary: str) -> EngineError:
    return EngineError(
        f"under the daemonless engine {image} is the registry binary "
        f"{binary}, not an image: it cannot be tagged, pushed or removed; use the Docker engine for that."
    )


def several_names(image: str, tags: list[str]) -> EngineError:
    """``image``: the short ID the learner gave."""
    return EngineError(f"the image {image} has several names ({', '.join(tags)}): "
                       "remove them by name.")


def never_docker_hub() -> ImageMissing:
    return ImageMissing("the daemonless engine never contacts Docker Hub: name your own registry in the "
                        "image (127.0.0.1:<port>/…), or set a registry mirror first.")


def store_json_invalid(path: str, root: str) -> EngineError:
    return EngineError(f"{path} is not valid JSON: remove the folder {root} and run "
                       "`python -m reglab images` to rebuild the image store.")


def store_bad_digest(digest: str) -> EngineError:
    return EngineError(f"{digest!r} is not a sha256 digest: the image data is damaged.")


def store_blob_missing(digest: str, root: str) -> ImageMissing:
    return ImageMissing(f"the blob {digest} is missing from {root}: pull the image again.")


def blob_arrived_damaged(digest: str, got: str, size: int) -> EngineError:
    return EngineError(
        f"the blob {digest} arrived damaged (its bytes hash to {got}, {size} bytes): "
        "pull again; if it repeats, the registry's storage is corrupt."
    )


def not_a_docker_archive(reason: str) -> EngineError:
    return EngineError(f"that is not a docker save archive reglab can read ({reason}): rebuild it with "
                       "`python -m reglab images`.")


# ----------------------------------------------------------------------------- the daemonless push and pull


def manifest_arrived_damaged(reference: str, expected: str, got: str) -> EngineError:
    return EngineError(f"the manifest of {reference} arrived damaged (expected {expected}, got {got}): pull again.")


def no_image_for_platform(reference: str, arch: str) -> ManifestUnknown:
    """``arch``: Go's name for this machine's architecture (``amd64``, ``arm64``)."""
    return ManifestUnknown(f"{reference} has no image for linux/{arch}: push one built for this machine.")


def pulled_manifest_not_json(reference: str) -> EngineError:
    return EngineError(f"the manifest of {reference} is not JSON: the registry sent something else.")


# ----------------------------------------------------------------------------- the course's images and stand-ins


def standin_package_missing(what: str, package: str) -> ImageMissing:
    """:func:`reglab.images.standin_missing` finds the package again in these words (``: <package> is missing``)."""
    return ImageMissing(
        f"cannot build the offline stand-in for {what}: {package} is missing — "
        f"install it (sudo apt-get install {package}) or unset REGLAB_OFFLINE to pull from Docker Hub."
    )


def standin_registry_not_built(tag: str, binary: str, hint: str) -> ImageMissing:
    """``binary``: :data:`reglab.images.REGISTRY_V3_MISSING` (found again in these words)."""
    return ImageMissing(f"cannot build the offline stand-in for {tag}: the {binary} binary "
                        f"is not built — {hint}.")


def standin_cannot_be_built(reference: str, why: str, missing: str, remedy: str) -> ImageMissing:
    """``why``: :func:`hub_not_reached`, :func:`hub_pull_went_wrong` or :func:`reglab.errors.cannot_pull_from_hub`;
    ``remedy``: :func:`build_registry_v3` or :func:`install_packages`."""
    return ImageMissing(
        f"{reference} is not here, {why}, and its stand-in cannot be built because {missing} is missing: "
        f"connect to the internet and run `python -m reglab images`, or {remedy} and run it again, "
        f"or load the image yourself (docker image load -i <file>).")


@fragment
def hub_not_reached(url: str) -> str:
    """Why a course image was built as a stand-in (or could not be): part of :func:`standin_cannot_be_built`."""
    return f"Docker Hub cannot be reached ({url})"


@fragment
def hub_pull_went_wrong(url: str) -> str:
    """Why a course image was built as a stand-in (or could not be): part of :func:`standin_cannot_be_built`."""
    return f"pulling it from Docker Hub ({url}) failed"


@fragment
def build_registry_v3(go_minimum: str) -> str:
    """What to do: part of :func:`standin_cannot_be_built`."""
    return f"build it (scripts/go-tools.sh, with Go {go_minimum} or newer)"


@fragment
def install_packages(missing: str, packages: list[str]) -> str:
    """What to do: part of :func:`standin_cannot_be_built`."""
    return f"install {missing} (Debian/Ubuntu: sudo apt-get install {' '.join(packages)})"
