"""Sentences about a registry that outgrew one container: object storage, replicas behind a load
balancer, a shared cache (notebook 07, lab sheet 13)."""

from __future__ import annotations

from . import EngineError, ImageMissing, RegistryError, ReglabError, UploadLost

__all__ = ["bucket_failed", "daemonless_runs_only", "download_interrupted", "no_measurements", "no_part_yet",
           "only_weed_server", "service_image_missing", "service_program_missing", "service_stopped",
           "store_not_ready", "upload_lost", "weed_missing", "weed_shell_failed", "service_no_ping",
           "service_not_listening", "service_program_failed", "service_exec_timeout"]


def upload_lost(host: str) -> UploadLost:
    return UploadLost(f"{host} refused the rest of an upload it had started (404 BLOB_UPLOAD_INVALID; the docker CLI "
                      "says \"blob upload unknown\"): behind a load balancer every replica must share one http.secret "
                      "(REGISTRY_HTTP_SECRET), else the request that continues an upload may reach a replica that "
                      "cannot read its state.")


def download_interrupted(host: str, digest: str) -> RegistryError:
    return RegistryError(f"the download of {digest[:19]}… from {host} stopped part-way (the replica sending it went "
                         "away): ask for the rest with a Range header (curl -C -), or pull again.")


def service_image_missing(image: str) -> ImageMissing:
    return ImageMissing(f"the image {image} is not in the local store: pull it (docker image pull {image}), or run "
                        "the step again with REGLAB_OFFLINE=1 so reglab builds its stand-in.")


def weed_missing(hint: str) -> ImageMissing:
    return ImageMissing(f"SeaweedFS's weed program is not built here, so neither chrislusf/seaweedfs's stand-in nor "
                        f"the daemonless engine's object store can run: {hint}.")


def service_program_missing(image: str, package: str) -> ImageMissing:
    return ImageMissing(f"the daemonless engine runs {image} as the program the image holds, and that program is "
                        f"not on this machine: install {package}.")


def daemonless_runs_only(image: str, known: list[str]) -> str:
    return (f"the daemonless engine runs the registry and {', '.join(known)} only, not the image {image}: use the "
            "Docker engine for other images.")


def only_weed_server(role: str) -> str:
    return (f"the daemonless engine runs `weed server` (master, volume server, filer and S3 gateway in one process), "
            f"not `weed {role}`: use the Docker engine to run SeaweedFS's servers apart.")


def service_stopped(name: str, last: str) -> str:
    return f"{name} stopped as soon as it started; its last log line: {last} (docker container logs {name})."


def store_not_ready(name: str, seconds: float) -> EngineError:
    return EngineError(f"the object store {name} did not accept writes within {seconds:g} s: read its log "
                       f"(docker container logs {name}) and start it again (lab.scale.run_store()).")


def bucket_failed(bucket: str, output: str) -> EngineError:
    return EngineError(f"the bucket {bucket} could not be created ({output.strip() or 'no output'}): is the object "
                       "store running? Start it with lab.scale.run_store().")


def no_part_yet(what: str, start: str) -> ReglabError:
    return ReglabError(f"this lab has no {what} yet: start it with {start}.")


def no_measurements(path: str) -> ReglabError:
    return ReglabError(f"there are no measurements at {path}: run python benchmarks/scale_out.py, which writes "
                       "them there.")


def weed_shell_failed(output: str) -> ReglabError:
    return ReglabError(f"weed shell failed: {output.strip()[-300:]}.")


def service_no_ping(name: str) -> ReglabError:
    return ReglabError(f"{name} did not answer PING within 30 s: read its log (docker container logs {name}).")


def service_not_listening(name: str, port: int, seconds: float, log: str) -> EngineError:
    return EngineError(f"{name} did not listen on 127.0.0.1:{port} within {seconds:g} s: look at its log ({log}).")


def service_program_failed(program: str, reason: str) -> EngineError:
    return EngineError(f"could not start {program}: {reason}.")


def service_exec_timeout(command: str, name: str, seconds: float) -> EngineError:
    return EngineError(f"{command} in {name} ran longer than {seconds:g} s and was stopped.")
