"""The daemonless engine's services: the program an image holds, run as a process on 127.0.0.1.

Notebook 07 puts three images beside the registry: ``chrislusf/seaweedfs`` (an S3 object store),
``nginx`` (a load balancer) and ``redis`` (a shared cache). Here each runs as the same program
their stand-in images hold (SeaweedFS's ``weed`` built by the set-up, Debian's nginx and
redis-server), the careful way registries run (:mod:`.records`): a record in the lab's state,
its own folder, a pid file, a log, a marker in its command line, started in a session of its own
and stopped by cleanup or by the next ``Lab`` after a killed kernel.

What a container would see is mapped onto this machine by a :class:`Recipe` per image: each
port the program listens on inside a container gets a port of its own on 127.0.0.1 (published
ones the port asked for); a mounted folder is the folder here; another container of the lab's
network named as ``<name>:<port>`` is that container's address here (:func:`resolve`). A
command run with ``docker container exec`` runs here, with the image's programs first on
``PATH`` (small scripts in the record's ``bin/`` that point them at this service).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from ... import errors, ports, tools
from ...errors import EngineError
from ...naming import Scope
from ...reference import parse
from ...service_run import ServiceRun
from . import processes, records
from .records import Container, hostport

START_WAIT = 30.0  # seconds a service may take to listen on its first port
GRPC_OFFSET = 10000  # weed: each server's gRPC port is its HTTP port + 10000 (below 22768: see _free)


@dataclass(frozen=True)
class Recipe:
    """How the daemonless engine stands in for one image."""

    image: str  # the repository: chrislusf/seaweedfs, nginx, redis
    ports: tuple[int, ...]  # what the program listens on inside a container; the first tells it is up
    programs: tuple[str, ...]  # what `docker container exec` finds on its PATH
    package: str  # what to install when the program is missing

    def program(self, settings, name: str | None = None) -> Path | None:
        name = name or self.programs[0]
        if name == "weed":
            return tools.find("weed", settings.tools_dir)
        for candidate in (shutil.which(name), f"/usr/sbin/{name}", f"/usr/bin/{name}"):
            if candidate and os.access(candidate, os.X_OK):
                return Path(candidate)
        return None


SEAWEEDFS = Recipe("chrislusf/seaweedfs", (9333, 8080, 8888, 8333), ("weed",),
                   "weed (scripts/go-tools.sh builds it)")
NGINX = Recipe("nginx", (80,), ("nginx",), "nginx (sudo apt-get install nginx)")
REDIS = Recipe("redis", (6379,), ("redis-server", "redis-cli"), "redis-server (sudo apt-get install redis-server)")
RECIPES = {r.image: r for r in (SEAWEEDFS, NGINX, REDIS)}


def recipe_for(image: str) -> Recipe | None:
    try:
        return RECIPES.get(parse(image).familiar_repository)
    except errors.ReglabError:
        return None


# ----------------------------------------------------------------------------- names and ports


def resolve(root: Path, container: Container, text: str) -> str:
    """``<name>:<port>`` of another container on ``container``'s network → its address here, and
    ``localhost:<port>`` (or ``127.0.0.1:<port>``) of ``container``'s own ports → where they are."""
    if container.network:
        for other in records.of(root, container.scope):
            if other.network != container.network or other.name == container.name:
                continue

            def there(match: re.Match, other=other) -> str:
                port = other.host_port(int(match.group(1)))
                return hostport(other.host, port) if port else match.group(0)

            text = re.sub(rf"(?<![\w.-]){re.escape(other.name)}:(\d+)\b", there, text)

    def mine(match: re.Match) -> str:
        port = container.host_port(int(match.group(2)))
        return f"127.0.0.1:{port}" if port else match.group(0)

    if container.kind == "service":
        text = re.sub(r"(?<![\w.-])(localhost|127\.0\.0\.1):(\d+)\b", mine, text)
    return text


def _free(port: int, scope: Scope, settings, grpc: bool) -> int:
    """A free port on 127.0.0.1 from ``port`` up, kept for the lab (with weed, its gRPC port
    ``port + 10000`` free too, and below the ephemeral range where a client's port may sit)."""
    while True:
        port = ports.choose(port)
        if grpc and (port + GRPC_OFFSET > 32767 or not ports.is_free(port + GRPC_OFFSET)):
            port += 1
            continue
        if ports.hold(port, "127.0.0.1", scope.prefix, settings.port_locks):
            return port
        port += 1


def host_ports(recipe: Recipe, run: ServiceRun, scope: Scope, settings) -> dict[str, int]:
    """Where each port the program listens on goes: a published one where it was asked, the others
    on free ports of the lab's own (SeaweedFS's from 18000 up: their gRPC ports stay below 32768)."""
    chosen: dict[str, int] = {}
    for inside in recipe.ports:
        published = run.published(inside)
        if published:
            chosen[str(inside)] = published
    start = 18000 if recipe is SEAWEEDFS else 16379
    for inside in recipe.ports:
        if str(inside) not in chosen:
            port = _free(start, scope, settings, recipe is SEAWEEDFS)
            chosen[str(inside)] = port
            start = port + 1
    return chosen


# ----------------------------------------------------------------------------- command lines


def _has_flag(args: list[str], flag: str) -> bool:
    return any(a == flag or a.startswith(flag + "=") for a in args)


def _weed(c: Container, program: Path, data: Path) -> list[str]:
    """The image's entrypoint (``server`` gets ``-dir=/data`` and its default flags), then this
    machine's addresses: every server on 127.0.0.1, each on the port chosen for it."""
    role, rest = (c.args[0], list(c.args[1:])) if c.args else ("server", [])
    if role != "server":
        raise EngineError(errors.only_weed_server(role))
    defaults = [] if _has_flag(rest, "-volume.max") else ["-volume.max=0"]
    p = c.ports
    return [str(program), "-logtostderr=true", "server", f"-dir={data}", *defaults, "-master.volumePreallocate",
            "-master.volumeSizeLimitMB=1024", *rest, "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={p['9333']}", f"-volume.port={p['8080']}", f"-filer.port={p['8888']}",
            f"-s3.port={p['8333']}", "-s3.port.iceberg=0", "-s3.port.lance=0"]


NGINX_MAIN = """\
# reglab: the nginx image's main file, for one process on this machine (daemonless engine)
daemon off;
master_process off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log stderr notice;
events {{
    worker_connections 256;
}}
http {{
{mime}    default_type application/octet-stream;
    access_log /dev/stdout;
    client_body_temp_path {dir}/temp/body;
    proxy_temp_path {dir}/temp/proxy;
    fastcgi_temp_path {dir}/temp/fastcgi;
    uwsgi_temp_path {dir}/temp/uwsgi;
    scgi_temp_path {dir}/temp/scgi;
    include {dir}/conf.d/*.conf;
}}
"""


def _nginx(root: Path, c: Container, program: Path) -> list[str]:
    """The image's ``/etc/nginx/nginx.conf``, written for this machine; the files mounted at
    ``/etc/nginx/conf.d`` copied beside it with ``listen 80`` on this container's port and the
    lab's names as addresses here."""
    site = c.dir / "conf.d"
    shutil.rmtree(site, ignore_errors=True)
    site.mkdir(parents=True)
    (c.dir / "temp").mkdir(exist_ok=True)
    for here, inside in c.files.items():
        source = Path(here)
        if inside.rstrip("/") == "/etc/nginx/conf.d" and source.is_dir():
            found = sorted(source.glob("*.conf"))
        elif inside.startswith("/etc/nginx/conf.d/") and inside.endswith(".conf"):
            found = [source]
        else:
            continue
        for conf in found:
            text = re.sub(r"(?m)^(\s*listen\s+)80(\s*;)", rf"\g<1>127.0.0.1:{c.ports['80']}\2",
                          conf.read_text())
            (site / Path(inside if inside.endswith(".conf") else conf.name).name).write_text(resolve(root, c, text))
    mime = Path("/etc/nginx/mime.types")
    main = c.dir / "nginx.conf"
    main.write_text(NGINX_MAIN.format(dir=c.dir, mime=f"    include {mime};\n" if mime.exists() else ""))
    return [str(program), "-p", str(c.dir), "-e", "stderr", "-c", str(main)]


def _redis(c: Container, program: Path, data: Path) -> list[str]:
    """redis-server as the image runs it (protected mode off there: here it listens on 127.0.0.1)."""
    args = list(c.args)
    if args[:1] == ["redis-server"]:
        args = args[1:]
    conf = c.dir / "redis.conf"
    conf.write_text(f"bind 127.0.0.1\nport {c.ports['6379']}\ndir {data}\nsave \"\"\nappendonly no\n"
                    "daemonize no\nlogfile \"\"\nset-proc-title no\n")
    return [str(program), str(conf), *args]


def _tools(c: Container, recipe: Recipe, settings) -> None:
    """``bin/``: the image's programs, pointed at this service (its PATH for ``docker container exec``)."""
    folder = c.dir / "bin"
    folder.mkdir(exist_ok=True)
    for name in recipe.programs:
        program = recipe.program(settings, name)
        if program is None:
            continue
        extra = {"redis-cli": f"-p {c.ports.get('6379')} ", "nginx": f"-p {c.dir} -c {c.dir / 'nginx.conf'} "}
        script = folder / name
        script.write_text(f'#!/bin/sh\nexec "{program}" {extra.get(name, "")}"$@"\n')
        script.chmod(0o755)


# ----------------------------------------------------------------------------- start, exec


def start(root: Path, run: ServiceRun, scope: Scope, settings) -> Container:
    """Make the record of ``run`` and start its process; return once it listens on its first port."""
    recipe = recipe_for(run.image)
    if recipe is None:
        raise EngineError(errors.daemonless_runs_only(run.image, sorted(RECIPES)))
    if recipe.program(settings) is None:
        raise errors.service_program_missing(run.image, recipe.package)
    for host, _, _ in run.publish:
        if host not in ("127.0.0.1", "0.0.0.0"):
            raise errors.UsageError(errors.loopback_only(host))
    records.make_room(root, run.name, scope)
    container = Container(run.name, scope.lab, "service", parse(run.image).tagged, time.time_ns(),
                          learner=scope.learner, network=run.network, env=dict(run.env),
                          files={here: inside for here, inside in run.files}, state_dir=str(root), user=run.user,
                          args=list(run.args), publish=[list(p) for p in run.publish])
    container.ports = host_ports(recipe, run, scope, settings)
    container.port = container.ports[str(recipe.ports[0])]
    container.data = run.data[0] if run.data else str(container.dir / "data")
    container.dir.mkdir(parents=True, exist_ok=True)
    Path(container.data).mkdir(parents=True, exist_ok=True)
    container.save()
    spawn(root, container, settings)
    return container


def command(root: Path, container: Container, settings) -> list[str]:
    recipe = recipe_for(container.image)
    program = recipe.program(settings) if recipe else None
    if program is None:
        raise errors.service_program_missing(container.image, recipe.package if recipe else container.image)
    data = Path(container.data)
    if recipe is SEAWEEDFS:
        argv = _weed(container, program, data)
        container.marker = f"-dir={data}"
    elif recipe is NGINX:
        argv = _nginx(root, container, program)
        container.marker = str(container.dir / "nginx.conf")
    else:
        argv = _redis(container, program, data)
        container.marker = str(container.dir / "redis.conf")
    _tools(container, recipe, settings)
    return argv


def spawn(root: Path, container: Container, settings, fresh: bool = True) -> None:
    """Start the service's process (a session of its own, its output in ``log``, its pid in
    ``pid``) and return once it listens on its first port; one that stops first is an error
    (``fresh``: its record goes too, as ``docker run`` leaves no container that never started)."""
    argv = command(root, container, settings)
    # the program's environment is the container's, not this process's: AWS_* variables of this
    # machine (AWS_CA_BUNDLE) must not reach an S3 client or server
    env = {"PATH": os.defpath, "HOME": str(container.dir),
           **{k: resolve(root, container, v) for k, v in container.env.items()}}
    container.log.write_bytes(b"")
    with open(container.log, "ab") as log:
        try:
            child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                     cwd=container.data, env=env, start_new_session=True)
        except OSError as exc:
            raise errors.service_program_failed(argv[0], exc.strerror) from None
    processes.children[child.pid] = child
    container.pid_file.write_text(f"{child.pid}\n")
    container.exit_code, container.started = None, time.time()
    container.save()
    wait_listening(container, child, fresh)


def wait_listening(container: Container, child: subprocess.Popen, fresh: bool) -> None:
    deadline = time.monotonic() + START_WAIT
    delay = 0.01
    while time.monotonic() < deadline:
        if processes.listens(child.pid, container.port):
            return
        if child.poll() is not None:
            processes.children.pop(child.pid, None)
            text = container.log.read_text(errors="replace")
            if fresh:
                records.discard(container)
            else:
                records.halt(container)
                container.exit_code = child.returncode
                container.save()
            if "address already in use" in text.lower():
                raise errors.port_taken(container.port, "127.0.0.1", processes.port_holder(container.port))
            raise EngineError(errors.service_stopped(container.name, processes.last_words_of(text)))
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
    raise errors.service_not_listening(container.name, container.port, START_WAIT, str(container.log))


def exec_argv(root: Path, container: Container, argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """``docker container exec`` of a service, here: the words with this machine's addresses, and
    an environment whose PATH starts with the image's programs."""
    env = {**os.environ, "PATH": f"{container.dir / 'bin'}:{os.environ.get('PATH', os.defpath)}",
           **{k: resolve(root, container, v) for k, v in container.env.items()}}
    env = {k: v for k, v in env.items() if not k.startswith("AWS_") or k in container.env}
    return [resolve(root, container, a) for a in argv], env


def run_exec(root: Path, container: Container, argv: list[str], timeout: float = 120) -> tuple[int, str]:
    words, env = exec_argv(root, container, argv)
    try:
        done = subprocess.run(words, capture_output=True, timeout=timeout, cwd=container.data, env=env, check=False)
    except FileNotFoundError:
        raise errors.program_missing(container.image, argv[0]) from None
    except subprocess.TimeoutExpired:
        raise errors.service_exec_timeout(command=' '.join(argv[:2]), name=container.name, seconds=timeout) from None
    return done.returncode, (done.stdout + done.stderr).decode(errors="replace")

