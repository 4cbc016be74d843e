"""Stand-ins for the images notebook 07 names: ``chrislusf/seaweedfs``, ``nginx`` and ``redis``.

Made as :mod:`reglab.images` makes ``registry:2``: FROM scratch, the program this machine has
(SeaweedFS's ``weed`` built from the Go module proxy; Debian's nginx and redis-server), the shared
libraries ``ldd`` names, and a static busybox for ``sh``; assembled in Python as a ``docker save``
archive, labelled ``reglab.standin=true``. What a learner would notice of the real image is kept:

- ``chrislusf/seaweedfs``: ``ENTRYPOINT ["/entrypoint.sh"]``, whose first word picks the server
  (``master``, ``volume``, ``server``, ``filer``, ``s3``, ``shell``) with the real image's default
  flags (``-dir=/data`` …; anything else runs ``weed`` with the words as given), ``WORKDIR /data``,
  ``VOLUME /data``, the same exposed ports, ``weed`` at ``/usr/bin/weed``.
- ``nginx``: ``CMD ["nginx", "-g", "daemon off;"]`` after ``/docker-entrypoint.sh``,
  ``/etc/nginx/nginx.conf`` including ``/etc/nginx/conf.d/*.conf`` (a ``default.conf`` serving
  ``/usr/share/nginx/html`` on port 80), logs to the container's stdout/stderr,
  ``STOPSIGNAL SIGQUIT``, ``EXPOSE 80``.
- ``redis``: ``CMD ["redis-server"]`` after ``docker-entrypoint.sh``, ``redis-cli`` beside it,
  ``WORKDIR /data``, ``VOLUME /data``, ``EXPOSE 6379``; protected mode off when no config file is
  given, as the real image's build switches it off (Debian's binary has it on).

The stand-ins run as root: the real nginx and redis images drop to users ``nginx`` (101) and
``redis`` (999) with their own tools (gosu), which busybox does not replace word for word.

Importing this module makes :func:`reglab.images.ensure` know the three images as roles
``seaweedfs``, ``nginx`` and ``redis`` (:data:`SERVICE_IMAGES`), built offline on demand.
"""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from . import errors, images, tools
from .config import Settings
from .images import Layer, _busybox_applets, _need, _shared_libraries, image_archive
from .naming import STANDIN_LABEL

SEAWEEDFS_IMAGE = "chrislusf/seaweedfs"
NGINX_IMAGE = "nginx"
REDIS_IMAGE = "redis"
RECIPES = {"seaweedfs": "1", "nginx": "1", "redis": "1"}
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def weed_binary(settings: Settings | None = None) -> Path | None:
    """The ``weed`` program scripts/go-tools.sh built (the pinned version, in ``Settings.tools_dir``)."""
    return tools.find("weed", (settings or Settings()).tools_dir)


def _config(role: str, cmd: list[str] | None, entrypoint: list[str] | None, **extra) -> dict:
    config = {"Env": [f"PATH={PATH}"], "Labels": {STANDIN_LABEL: "true", f"{STANDIN_LABEL}.recipe": RECIPES[role]}}
    if cmd is not None:
        config["Cmd"] = cmd
    if entrypoint is not None:
        config["Entrypoint"] = entrypoint
    config.update(extra)
    return config


def _base(layer: Layer, programs: list[tuple[str, Path]], passwd: str, group: str) -> Layer:
    """Busybox, the programs at their paths, their libraries, /etc/passwd and /etc/group."""
    busybox = _need(shutil.which("busybox") or "/bin/busybox", "busybox-static", "a service stand-in")
    if _shared_libraries(busybox):
        _need(None, "busybox-static", "a service stand-in")
    for d in ("bin", "etc", "root", "usr/bin", "usr/local/bin", "usr/sbin", "var/run"):
        layer.dir(d)
    layer.dir("tmp", 0o1777)
    layer.file("bin/busybox", busybox.read_bytes(), 0o755)
    for applet in _busybox_applets(busybox):
        layer.symlink(f"bin/{applet}", "busybox")
    libraries: dict[str, Path] = {}
    for path, program in programs:
        layer.file(path, program.read_bytes(), 0o755)
        for lib in _shared_libraries(program):
            libraries[str(lib)] = lib
    for name, lib in sorted(libraries.items()):
        layer.file(name, lib.resolve().read_bytes(), 0o755)
    layer.file("etc/passwd", passwd.encode())
    layer.file("etc/group", group.encode())
    return layer


def _script(name: str) -> bytes:
    return resources.files("reglab.standin").joinpath(name).read_bytes()


# ----------------------------------------------------------------------------- chrislusf/seaweedfs

SEAWEEDFS_PORTS = (7333, 8080, 8333, 8888, 9333, 18080, 18888, 19333)


def seaweedfs_standin_archive(tag: str = SEAWEEDFS_IMAGE, settings: Settings | None = None) -> bytes:
    """``chrislusf/seaweedfs`` look-alike: ``weed`` (built from the Go module proxy), busybox."""
    weed = weed_binary(settings)
    if weed is None:
        raise errors.weed_missing(tools.install_hint("weed"))
    layer = _base(Layer(), [("usr/bin/weed", weed)], "root:x:0:0:root:/root:/bin/sh\n", "root:x:0:\n")
    layer.dir("etc/seaweedfs")
    layer.dir("data/filerldb2")
    layer.file("entrypoint.sh", _script("seaweedfs-entrypoint.sh"), 0o755)
    config = _config("seaweedfs", None, ["/entrypoint.sh"],
                     ExposedPorts={f"{p}/tcp": {} for p in SEAWEEDFS_PORTS},
                     Volumes={"/data": {}}, WorkingDir="/data")
    return image_archive([tag], [layer], config)


# ----------------------------------------------------------------------------- nginx


def nginx_standin_archive(tag: str = NGINX_IMAGE, settings: Settings | None = None) -> bytes:
    """``nginx`` look-alike: Debian's nginx with the official image's file layout."""
    nginx = _need(shutil.which("nginx") or "/usr/sbin/nginx", "nginx", tag)
    layer = _base(Layer(), [("usr/sbin/nginx", nginx)],
                  "root:x:0:0:root:/root:/bin/sh\nnginx:x:101:101:nginx user:/nonexistent:/bin/false\n",
                  "root:x:0:\nnginx:x:101:\n")
    for d in ("etc/nginx/conf.d", "docker-entrypoint.d", "usr/share/nginx/html", "var/cache/nginx",
              "var/log/nginx", "var/lib/nginx", "run", "var/lock"):
        layer.dir(d)
    mime = Path("/etc/nginx/mime.types")
    if mime.exists():
        layer.file("etc/nginx/mime.types", mime.read_bytes())
    layer.file("etc/nginx/nginx.conf", _script("nginx.conf"))
    layer.file("etc/nginx/conf.d/default.conf", _script("nginx-default.conf"))
    layer.file("usr/share/nginx/html/index.html", _script("nginx-index.html"))
    layer.symlink("var/log/nginx/access.log", "/dev/stdout")
    layer.symlink("var/log/nginx/error.log", "/dev/stderr")
    layer.file("docker-entrypoint.sh", _script("nginx-entrypoint.sh"), 0o755)
    config = _config("nginx", ["nginx", "-g", "daemon off;"], ["/docker-entrypoint.sh"],
                     ExposedPorts={"80/tcp": {}}, StopSignal="SIGQUIT")
    return image_archive([tag], [layer], config)


# ----------------------------------------------------------------------------- redis


def redis_standin_archive(tag: str = REDIS_IMAGE, settings: Settings | None = None) -> bytes:
    """``redis`` look-alike: Debian's redis-server and redis-cli."""
    server = _need(shutil.which("redis-server") or "/usr/bin/redis-server", "redis-server", tag)
    cli = _need(shutil.which("redis-cli") or "/usr/bin/redis-cli", "redis-tools", tag)
    layer = _base(Layer(), [("usr/local/bin/redis-server", server.resolve()), ("usr/local/bin/redis-cli", cli)],
                  "root:x:0:0:root:/root:/bin/sh\nredis:x:999:999::/home/redis:/bin/sh\n",
                  "root:x:0:\nredis:x:999:\n")
    layer.dir("data")
    layer.file("usr/local/bin/docker-entrypoint.sh", _script("redis-entrypoint.sh"), 0o755)
    config = _config("redis", ["redis-server"], ["docker-entrypoint.sh"],
                     ExposedPorts={"6379/tcp": {}}, Volumes={"/data": {}}, WorkingDir="/data")
    return image_archive([tag], [layer], config)


SERVICE_STANDINS = {SEAWEEDFS_IMAGE: seaweedfs_standin_archive, NGINX_IMAGE: nginx_standin_archive,
                    REDIS_IMAGE: redis_standin_archive}
SERVICE_IMAGES = {"seaweedfs": SEAWEEDFS_IMAGE, "nginx": NGINX_IMAGE, "redis": REDIS_IMAGE}  # role → image

# images.ensure(engine, tuple(SERVICE_IMAGES), settings, SERVICE_IMAGES) builds them like the course's own
images.STANDINS.update({role: SERVICE_STANDINS[image] for role, image in SERVICE_IMAGES.items()})
images.RECIPES.update({role: RECIPES[role] for role in SERVICE_IMAGES})
images.STANDIN_PACKAGES.update({role: () for role in SERVICE_IMAGES})  # their archive says what is missing
