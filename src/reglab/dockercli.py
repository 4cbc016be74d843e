"""``docker`` without Docker: the docker CLI commands of the course, run by the daemonless engine.

Where no Docker daemon runs (Binder, a JupyterHub classroom), a lab sheet puts this program on
the notebook's ``PATH`` as ``docker`` (``python -m reglab docker …`` anywhere else), so that
``!docker container run …`` in a lab works as it does with Docker — on the same engine the
checks read. It knows the commands the labs use, with their usual flags and output:

- ``container run|ls|ps|rm|kill|stop|start|restart|logs|exec|inspect`` (``run`` starts the
  registry binary for ``registry:2`` or ``registry:3``, on a lab's network and with a config file
  mounted at the image's config path if asked; ``exec`` runs ``registry garbage-collect``, a file
  tool such as ``du``/``ls``/``cat`` on the registry's data folder, or a service's own programs —
  ``redis-cli``, ``weed shell`` — pointed at it);
- ``image ls|tag|push|pull|rm`` (and ``images``, ``tag``, ``push``, ``pull``, ``rmi``);
- ``volume create|ls|rm|inspect``; ``info``; ``version``; ``login`` (checked against the
  registry as the daemon checks it, stored in ``$DOCKER_CONFIG/config.json``).

Names follow the lab's scope: a container or volume named ``reglab-[<learner>-]<lab>-…``
belongs to that lab (so the lab's cleanup removes it); any other name to the lab given with
``--lab`` (a lab sheet's ``docker`` passes its own), else to a lab called ``cli`` (``python -m
reglab clean`` removes it). Anything else says, in one sentence, that only Docker can do it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from dataclasses import dataclass, field

from .config import Settings
from .engines import Cannot, ContainerInfo, Engine, get_engine
from . import errors
from .errors import PortInUse, ReglabError, UsageError
from .naming import PREFIX, Scope
from .reference import parse
from .registry_run import _VALUED, CONFIG_PATHS, REGISTRY_DATA, RegistryRun, split_flags
from .state import lab_dirs
from .units import human

FILE_TOOLS = {"ls", "du", "cat", "find", "tree", "sha256sum", "wc", "head", "tail", "stat"}
Usage = UsageError  # a command or flag the daemonless ``docker`` does not know
_split_flags = split_flags


# ----------------------------------------------------------------------------- scopes


def scope_for(name: str | None, settings: Settings, lab: str | None = None) -> Scope:
    """The lab a container or volume name belongs to (see the module docstring)."""
    learner = settings.learner
    prefix = f"{PREFIX}-" + (f"{learner}-" if learner else "")
    if name and name.startswith(prefix):
        rest = name[len(prefix):]
        labs = sorted((d.name for d in lab_dirs(settings.state_dir, Scope(None, learner))), key=len, reverse=True)
        for known in labs:
            if rest.startswith(known + "-"):
                return Scope(known, learner)
    return Scope(lab or "cli", learner)


def container_id(name: str, started: float) -> str:
    """A stable 64-hex ID, as ``docker container run -d`` prints one."""
    return hashlib.sha256(f"{name}@{started}".encode()).hexdigest()


# ----------------------------------------------------------------------------- parsing


@dataclass
class RunOptions:
    """A ``docker container run`` of anything but the registry (which is a :class:`RegistryRun`)."""

    name: str | None = None
    remove: bool = False
    image: str = ""
    command: list[str] = field(default_factory=list)
    extras: bool = False  # ports, volumes or settings


def parse_run(args: list[str]) -> RunOptions:
    flags, rest = split_flags(args, _VALUED)
    if not rest:
        raise Usage(errors.run_needs_image())
    if "--network" in flags or "--mount" in flags:
        raise errors.network_and_mount_need_docker()
    extras = any(k in flags for k in ("-p", "--publish", "-v", "--volume", "-e", "--env"))
    return RunOptions((flags.get("--name") or [None])[-1], "--rm" in flags, rest[0], rest[1:], extras)


# ----------------------------------------------------------------------------- the commands


class DockerCLI:
    """One ``docker`` invocation against an engine; returns the exit code, prints like Docker.
    ``lab``: the lab a name outside every lab's prefix belongs to (a sheet's own)."""

    def __init__(self, engine: Engine, out=None, err=None, lab: str | None = None, environ=None):
        self.engine = engine
        self.settings = engine.settings
        self.lab = lab
        self.environ = environ or {}  # for `-e KEY` without a value, as the docker CLI reads it
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    # -- dispatch
    def main(self, argv: list[str]) -> int:
        while argv and argv[0].startswith("-"):  # global flags (--debug, -H …): none matter here
            argv = argv[2:] if argv[0] in ("-H", "--host", "--context", "-c", "--config") else argv[1:]
        if not argv or argv[0] in ("help", "--help"):
            self.say(__doc__.split("\n\n", 2)[1])
            return 0
        group, rest = argv[0], argv[1:]
        short = {"run": ("container", "run"), "ps": ("container", "ls"), "rm": ("container", "rm"),
                 "kill": ("container", "kill"), "stop": ("container", "stop"), "start": ("container", "start"),
                 "restart": ("container", "restart"), "logs": ("container", "logs"), "exec": ("container", "exec"),
                 "inspect": ("container", "inspect"), "images": ("image", "ls"), "tag": ("image", "tag"),
                 "push": ("image", "push"), "pull": ("image", "pull"), "rmi": ("image", "rm")}
        if group in short:
            group, command = short[group]
        elif group in ("container", "image", "volume") and rest:
            command, rest = rest[0], rest[1:]
        elif group in ("info", "version", "login"):
            command = group
        else:
            raise errors.unknown_command(argv)
        command = {"ps": "ls", "list": "ls", "remove": "rm"}.get(command, command)
        handler = getattr(self, f"{group}_{command}", None) if group not in ("info", "version", "login") else \
            getattr(self, group)
        if handler is None:
            raise errors.unknown_subcommand(group, command)
        return handler(rest) or 0

    # -- containers
    def container_run(self, args: list[str]) -> int:
        flags, rest = split_flags(args, _VALUED)
        if not rest:
            raise Usage(errors.run_needs_image())
        if parse(rest[0]).tagged != parse(self.settings.registry_image).tagged:
            opts = parse_run(args)
            if opts.extras or opts.command:
                raise errors.running_with_extras_needs_docker(opts.image)
            scope = scope_for(opts.name, self.settings, self.lab)
            name = opts.name or scope.object_name(f"run-{os.urandom(3).hex()}")
            result = self.engine.containers.run(scope, name, opts.image)
            self.out.write(result.output)
            if opts.remove:
                self.engine.containers.remove(name)
            return result.exit_code
        if "--mount" in flags:
            raise errors.running_in_container_needs_docker(program="--mount")
        if not flags.get("--name"):
            flags["--name"] = [scope_for(None, self.settings, self.lab).object_name(f"run-{os.urandom(3).hex()}")]
            args = ["--name", flags["--name"][0], *args]
        run = RegistryRun.parse(args, environ=self.environ)
        for folder, inside in run.files:  # a config file of your own, as the image reads it; nothing else
            if inside not in CONFIG_PATHS.values() or not os.path.isfile(folder):
                raise Usage(errors.mount_not_config(REGISTRY_DATA, run.config_path, inside))
        scope = scope_for(run.name, self.settings, self.lab)
        networks = {o.name for o in self.engine.objects.of(Scope(None, self.settings.learner)) if o.kind == "network"}
        if run.network and run.network not in networks:
            raise Usage(errors.network_not_found(run.network))
        if run.bind:
            os.makedirs(run.bind, exist_ok=True)
        if run.volume and not self.engine.objects.volume_exists(run.volume):
            self.engine.objects.create_volume(scope, run.volume)
        if self.engine.containers.inspect(run.name) is not None:
            raise errors.name_in_use(run.name)
        try:
            self.engine.containers.start_registry(run, scope)
        except PortInUse as exc:
            raise errors.port_already_allocated(run.name, run.host, run.port, exc.holder) from None
        self.engine.containers.keep(run.name)  # it outlives this command, as a container outlives `docker run -d`
        info = self.engine.containers.inspect(run.name)
        self.say(container_id(run.name, info.started if info else 0))
        return 0

    def _names(self, args: list[str], what: str) -> tuple[dict[str, list[str]], list[str]]:
        flags, names = _split_flags(args)
        if not names:
            raise errors.needs_container_name(what)
        return flags, names

    def _info(self, name: str) -> ContainerInfo:
        info = self.engine.containers.inspect(name)
        if info is None:
            raise errors.docker_no_such_container(name)
        return info

    def container_rm(self, args: list[str]) -> int:
        flags, names = self._names(args, "rm")
        force = bool({"-f", "--force"} & set(flags))
        code = 0
        for name in names:
            try:
                info = self._info(name)
                if info.running and not force:
                    raise errors.container_running(name)
                self.engine.containers.remove(name)
                self.say(name)
            except ReglabError as exc:
                print(f"Error response from daemon: {exc}", file=self.err)
                code = 0 if force and self.engine.containers.inspect(name) is None else 1  # as Docker: -f and gone is fine
        return code

    def container_kill(self, args: list[str]) -> int:
        _, names = self._names(args, "kill")
        for name in names:
            self._info(name)
            self.engine.containers.kill(name)
            self.say(name)
        return 0

    container_stop = container_kill

    def container_restart(self, args: list[str]) -> int:
        _, names = self._names(args, "restart")
        for name in names:
            self._info(name)
            self.engine.containers.restart(name)
            self.engine.containers.keep(name)
            self.say(name)
        return 0

    container_start = container_restart

    def container_logs(self, args: list[str]) -> int:
        _, names = self._names(args, "logs")
        self._info(names[0])
        self.out.write(self.engine.containers.logs(names[0]))
        return 0

    def container_ls(self, args: list[str]) -> int:
        flags, _ = _split_flags(args)
        show_all = bool({"-a", "--all"} & set(flags))
        quiet = bool({"-q", "--quiet"} & set(flags))
        tags = {info.id: info.tags[0] for info in self.engine.images.list() if info.tags}
        registry = self.engine.images.info(self.settings.registry_image)
        if registry is not None:
            tags[registry.id] = parse(self.settings.registry_image).tagged
        rows = [("CONTAINER ID", "IMAGE", "STATUS", "PORTS", "NAMES")]
        for obj in self.engine.objects.of(Scope(None, self.settings.learner)):
            info = self.engine.containers.inspect(obj.name) if obj.kind == "container" else None
            if info is None or (not show_all and not info.running):
                continue
            status = "Up" if info.running else f"Exited ({info.exit_code})"
            ports = ", ".join([f"{h}:{p}->{i}/tcp" for h, p, i in info.published] if info.published else
                              [f"{h}:{p}->5000/tcp" for h, p in info.ports]) if info.running else ""
            image = tags.get(info.image) or (info.image[7:19] if info.image.startswith("sha256:") else info.image)
            rows.append((container_id(info.name, info.started)[:12], image,
                         status, ports, info.name))
        if quiet:
            for row in rows[1:]:
                self.say(row[0])
            return 0
        self._table(rows)
        return 0

    def container_exec(self, args: list[str]) -> int:
        _flags, rest = _split_flags(args)
        if len(rest) < 2:
            raise errors.exec_needs_arguments()
        name, argv = rest[0], rest[1:]
        info = self._info(name)
        if not info.running:
            raise errors.container_not_running(name)
        if argv[:2] == ["registry", "garbage-collect"]:
            config = [a for a in argv[2:] if not a.startswith("-")]
            inside = info.config or CONFIG_PATHS[2]
            if config not in ([], [inside]):
                raise errors.registry_config_is(inside)
            done = self.engine.containers.exec(name, argv if config else [*argv, inside])
            self.out.write(done.output)
            return done.exit_code
        if info.config is None:  # a service (redis, nginx, SeaweedFS): its own programs, pointed at it
            done = self.engine.containers.exec(name, argv)
            self.out.write(done.output)
            return done.exit_code
        if argv[0] in FILE_TOOLS:
            if not shutil.which(argv[0]):
                raise errors.not_installed(argv[0])
            done = self.engine.containers.exec(name, argv)
            self.out.write(done.output)
            return done.exit_code
        raise errors.running_in_container_needs_docker(argv[0])

    def container_inspect(self, args: list[str]) -> int:
        flags, names = _split_flags(args, {"-f", "--format", "--type"})
        if not names:
            raise errors.needs_container_name(command="inspect")
        docs = []
        for name in names:
            info = self._info(name)
            mounts = []
            if info.data and info.data.kind != "anonymous":
                mounts.append({"Type": info.data.kind, ("Name" if info.data.kind == "volume" else "Source"):
                               info.data.source, "Destination": REGISTRY_DATA})
            docs.append({
                "Name": f"/{name}",
                "State": {"Status": info.status, "Running": info.running, "ExitCode": info.exit_code or 0},
                "Image": info.image,
                "Mounts": mounts,
                "HostConfig": {"PortBindings": {"5000/tcp": [{"HostIp": h, "HostPort": str(p)} for h, p in info.ports]}},
                "Config": {"Env": [f"{k}={v}" for k, v in info.env], "Labels": dict(info.labels)},
            })
        fmt = (flags.get("-f") or flags.get("--format") or [None])[-1]
        if fmt:
            for doc in docs:
                self.say(_template(fmt, doc))
        else:
            self.say(json.dumps(docs, indent=4))
        return 0

    # -- images
    def image_ls(self, args: list[str]) -> int:
        rows = [("REPOSITORY", "TAG", "IMAGE ID", "SIZE")]
        for info in sorted(self.engine.images.list(), key=lambda i: i.tags):
            for tag in sorted(info.tags):
                repo, _, name = tag.rpartition(":")
                rows.append((repo, name, info.id[7:19], human(info.size)))
        self._table(rows)
        return 0

    def image_tag(self, args: list[str]) -> int:
        _, rest = _split_flags(args)
        if len(rest) != 2:
            raise errors.tag_needs_two()
        self.engine.images.tag(parse(rest[0]).tagged, parse(rest[1]).tagged)
        return 0

    def image_push(self, args: list[str]) -> int:
        flags, rest = _split_flags(args)
        if len(rest) != 1:
            raise errors.image_needs_one(command="push")
        ref = parse(rest[0])
        quiet = bool({"-q", "--quiet"} & set(flags))
        if not quiet:
            if not ref.tag:
                self.say("Using default tag: latest")
            self.say(f"The push refers to repository [{ref.familiar_repository}]")
        statuses: dict[str, str] = {}
        try:
            result = self.engine.images.push(ref.tagged, progress=lambda item, cur, tot, status:
                                             statuses.__setitem__(item, status), auth=self._login(ref.registry))
        except errors.UploadLost:  # the docker CLI's words for a replica's BLOB_UPLOAD_INVALID
            for item, status in statuses.items():
                if not quiet:
                    self.say(f"{item}: {status}")
            print("blob upload unknown", file=self.err)
            return 1
        if quiet:
            self.say(ref.tagged)
            return 0
        for item, status in statuses.items():
            self.say(f"{item}: {status}")
        self.say(f"{ref.tag_or_default}: digest: {result.digest} size: {self._manifest_size(ref)}")
        return 0

    def _manifest_size(self, ref) -> int:
        try:
            from .registry_api import RegistryClient

            return RegistryClient(ref.registry, docker_config=self.settings.docker_config).manifest_head(
                ref.repository, ref.tag_or_default).size
        except ReglabError:
            return 0

    def image_pull(self, args: list[str]) -> int:
        flags, rest = _split_flags(args)
        if len(rest) != 1:
            raise errors.image_needs_one(command="pull")
        ref = parse(rest[0])
        quiet = bool({"-q", "--quiet"} & set(flags))
        existed = self.engine.images.info(ref.tagged) is not None
        if not quiet:
            if not ref.tag and not ref.digest:
                self.say("Using default tag: latest")
            self.say(f"{ref.digest or ref.tag_or_default}: Pulling from {ref.repository}")
        statuses: dict[str, str] = {}
        result = self.engine.images.pull(str(ref) if ref.digest else ref.tagged,
                                         progress=lambda item, cur, tot, status: statuses.__setitem__(item, status),
                                         auth=self._login(ref.registry))
        if quiet:
            self.say(ref.tagged if not ref.digest else str(ref))
            return 0
        for item, status in statuses.items():
            self.say(f"{item}: {status}")
        self.say(f"Digest: {result.digest}")
        if existed and result.moved == 0:
            self.say(f"Status: Image is up to date for {ref.tagged}")
        else:
            self.say(f"Status: Downloaded newer image for {ref.tagged}")
        self.say(ref.tagged)
        return 0

    def image_rm(self, args: list[str]) -> int:
        _, refs = _split_flags(args)
        if not refs:
            raise errors.rm_needs_image()
        for text in refs:
            ref = parse(text)
            self.engine.images.remove(ref.tagged)
            self.say(f"Untagged: {ref.tagged}")
        return 0

    # -- volumes
    def volume_create(self, args: list[str]) -> int:
        _, rest = _split_flags(args)
        if len(rest) != 1:
            raise errors.volume_create_needs_name()
        self.engine.objects.create_volume(scope_for(rest[0], self.settings, self.lab), rest[0])
        self.say(rest[0])
        return 0

    def volume_ls(self, args: list[str]) -> int:
        rows = [("DRIVER", "VOLUME NAME")]
        rows += [("local", obj.name) for obj in self.engine.objects.of(Scope(None, self.settings.learner))
                 if obj.kind == "volume"]
        self._table(rows)
        return 0

    def volume_rm(self, args: list[str]) -> int:
        _, names = _split_flags(args)
        for name in names:
            self.engine.objects.remove_volume(name)
            self.say(name)
        return 0

    def volume_inspect(self, args: list[str]) -> int:
        _, names = _split_flags(args)
        docs = []
        for name in names:
            if not self.engine.objects.volume_exists(name):
                raise errors.docker_no_such_volume(name)
            docs.append({"Driver": "local", "Name": name})
        self.say(json.dumps(docs, indent=4))
        return 0

    # -- the engine
    def login(self, args: list[str]) -> int:
        """``docker login [-u USER] [--password-stdin | -p PASSWORD] HOST``: checked, then stored."""
        from . import credentials

        flags, rest = _split_flags(args, {"-u", "--username", "-p", "--password"})
        if len(rest) != 1:
            raise errors.login_needs_host()
        user = (flags.get("-u") or flags.get("--username") or [""])[-1]
        if "--password-stdin" in flags:
            password = sys.stdin.read().strip()
        else:
            password = (flags.get("-p") or flags.get("--password") or [""])[-1]
        if not user or not password:
            raise errors.login_needs_user()
        self.engine.trust.login(rest[0], user, password)
        folder = self.settings.docker_config
        path = credentials.store(folder, rest[0], user, password)
        print(credentials.WARNING.format(path=path), file=self.err, flush=True)  # as docker 20.10: every login
        self.say("Login Succeeded")
        return 0

    def _login(self, host: str) -> tuple[str, str] | None:
        """What ``docker login`` stored for ``host`` (the CLI sends it with a push or pull)."""
        from .credentials import stored as stored_credentials

        return stored_credentials(self.settings.docker_config, host)

    def info(self, args: list[str]) -> int:
        self.say(f"Server: {self.engine.describe()}")
        self.say("Insecure Registries:")
        for entry in self.engine.daemon.insecure_registries():
            self.say(f"  {entry}")
        return 0

    def version(self, args: list[str]) -> int:
        self.say(f"reglab's daemonless docker: {self.engine.describe()}")
        return 0

    def _table(self, rows: list[tuple[str, ...]]) -> None:
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for row in rows:
            self.say("   ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())


def _template(fmt: str, doc: dict) -> str:
    """The few Go templates the labs' hints use: ``{{.A.B}}`` and ``{{json .A.B}}``."""
    body = fmt.strip()
    if not (body.startswith("{{") and body.endswith("}}")):
        raise errors.format_understood()
    expr = body[2:-2].strip()
    as_json = expr.startswith("json ")
    value = doc
    for part in expr.removeprefix("json ").strip().lstrip(".").split("."):
        value = value.get(part) if isinstance(value, dict) and part else value
    return json.dumps(value) if as_json else str(value)


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    """``python -m reglab docker [--engine local] [--lab LAB] …``: the options before docker's own
    words are reglab's (a lab sheet's ``docker`` passes them); the rest is docker's."""
    argv = list(sys.argv[1:] if argv is None else argv)
    settings = settings or Settings.from_env()
    kind = lab = None
    while argv[:1] and argv[0] in ("--engine", "--lab") and len(argv) > 1:
        if argv[0] == "--engine":
            kind = argv[1]
        else:
            lab = argv[1]
        argv = argv[2:]
    try:
        engine = get_engine(kind, settings)
        if Cannot.DOCKER_CLI not in engine.cannot:
            print("(reglab) a Docker daemon answers here: use the real docker CLI.", file=sys.stderr)
            return 1
        return DockerCLI(engine, lab=lab, environ=dict(os.environ)).main(argv)
    except Usage as exc:
        print(f"docker: {exc}", file=sys.stderr)
        return 125
    except ReglabError as exc:
        print(f"Error response from daemon: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
