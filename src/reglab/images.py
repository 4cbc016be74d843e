"""The images the course needs: ``registry:3`` (the course's), ``registry:2`` (appendix A), ``hello-world``
(and notebook 07's services).

Which ones a learner gets is automatic (:func:`ensure`): images already present are used; else
they are pulled from Docker Hub; where Docker Hub cannot be reached, reglab builds stand-ins from
Debian packages and labels them ``reglab.standin=true``; else one sentence says the ways forward.
``REGLAB_OFFLINE=1`` means stand-ins and never Docker Hub (CI, the tests, ``make notebooks``: the
committed outputs were made with them); ``REGLAB_OFFLINE=0`` means pull, without probing first.

Stand-ins are assembled here in Python as a ``docker save``-style archive and loaded, not built
with a Dockerfile: no build context, no base image, and the same bytes (so the same digests) on
every machine with the same packages.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import platform
import random
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from . import elf, errors, tools
from .limits import Cannot
from .errors import ImageMissing, ReglabError
from .media import DOCKER_CONFIG, DOCKER_LAYER, DOCKER_MANIFEST, OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, digest_of
from .naming import STANDIN_LABEL
from .reference import parse
from .registry_run import registry_major

RECIPES = {"registry": "1", "hello": "3"}  # hello 2: written by reglab.elf; 3: greeting without "fallback"
EPOCH = 0  # every file in a stand-in layer has this mtime: reproducible digests


HUB_PROBE_TIMEOUT = 3  # seconds


def hub_reachable(url: str, timeout: float = HUB_PROBE_TIMEOUT) -> bool:
    """Whether Docker Hub's registry answers HTTP at all: any answer counts (it says 401 to
    strangers); a refused connection, a failed name lookup or silence means it cannot be reached.
    Proxy settings in the environment apply, as they do to a learner's other tools."""
    from .registry_api import answers

    return answers(url, timeout)


def go_arch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)


# ----------------------------------------------------------------------------- layers


@dataclass
class Layer:
    """One layer as a list of tar members: files, directories and symlinks."""

    entries: list[tuple[tarfile.TarInfo, bytes | None]] = field(default_factory=list)
    _dirs: set[str] = field(default_factory=set)
    _tar: bytes | None = field(default=None, repr=False)
    _gz: bytes | None = field(default=None, repr=False)
    _diff_id: str | None = field(default=None, repr=False)
    compresslevel: int = 6  # 0 for random data: gzip cannot shrink it, and storing is instant

    def _parents(self, path: str) -> None:
        parts = path.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            self.dir("/".join(parts[:i]))

    def dir(self, path: str, mode: int = 0o755) -> Layer:
        path = path.strip("/")
        if path and path not in self._dirs:
            self._parents(path)
            self._dirs.add(path)
            info = tarfile.TarInfo(path + "/")
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, EPOCH
            self.entries.append((info, None))
        return self

    def file(self, path: str, data: bytes, mode: int = 0o644) -> Layer:
        path = path.strip("/")
        self._parents(path)
        info = tarfile.TarInfo(path)
        info.size, info.mode, info.mtime = len(data), mode, EPOCH
        self.entries.append((info, data))
        return self

    def symlink(self, path: str, target: str) -> Layer:
        path = path.strip("/")
        self._parents(path)
        info = tarfile.TarInfo(path)
        info.type, info.linkname, info.mode, info.mtime = tarfile.SYMTYPE, target, 0o777, EPOCH
        self.entries.append((info, None))
        return self

    def tar(self) -> bytes:
        """The layer as an uncompressed tar (the "diff"); built once, then cached."""
        if self._tar is None:
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
                for info, data in self.entries:
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    tar.addfile(info, io.BytesIO(data) if data is not None else None)
            self._tar = buf.getvalue()
        return self._tar

    @property
    def diff_id(self) -> str:
        if self._diff_id is None or self._tar is None:  # a layer changed after tar() rebuilds it
            self._diff_id = digest_of(self.tar())
        return self._diff_id

    def gzipped(self) -> bytes:
        """The layer as a registry stores it: gzip, with a zero timestamp (same bytes every time)."""
        if self._gz is None:
            self._gz = gzip.compress(self.tar(), compresslevel=self.compresslevel, mtime=0)
        return self._gz


def random_layer(path: str, size: int, seed: int | str) -> Layer:
    """One file of ``size`` pseudo-random bytes: incompressible, and the same for the same seed."""
    data = random.Random(f"{seed}:{path}:{size}").randbytes(size)
    return Layer(compresslevel=0).file(path, data)


@dataclass
class ImageBuild:
    """An image made in Python: layers plus the container config, under one or more tags."""

    tags: list[str]
    layers: list[Layer]
    config: dict = field(default_factory=dict)

    def config_bytes(self) -> bytes:
        image_config = {
            "architecture": go_arch(),
            "os": "linux",
            "created": "1970-01-01T00:00:00Z",
            "config": self.config,
            "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in self.layers]},
            "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "reglab"} for _ in self.layers],
        }
        return json.dumps(image_config, sort_keys=True, separators=(",", ":")).encode()

    def manifest_bytes(self) -> bytes:
        """An OCI image manifest for the gzipped layers (what a registry would store)."""
        return oci_manifest(self.config_bytes(), [layer.gzipped() for layer in self.layers])


def oci_manifest(config: bytes, layers: list[bytes]) -> bytes:
    """The OCI image manifest naming ``config`` and the compressed ``layers`` by digest."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": digest_of(config), "size": len(config)},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": digest_of(blob), "size": len(blob)} for blob in layers],
    }
    return json.dumps(manifest, separators=(",", ":")).encode()


def docker_manifest(config: bytes, layers: list[bytes]) -> bytes:
    """The schema 2 manifest ``docker push`` writes: Go's ``json.MarshalIndent`` with 3 spaces."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": DOCKER_CONFIG, "size": len(config), "digest": digest_of(config)},
        "layers": [{"mediaType": DOCKER_LAYER, "size": len(blob), "digest": digest_of(blob)} for blob in layers],
    }
    return json.dumps(manifest, indent=3).encode()


def docker_archive(builds: list[ImageBuild]) -> bytes:
    """A ``docker save``-format tarball of several images; shared layers are stored once.

    ``docker load`` of one archive with a whole series is far quicker than one load per image.
    """
    out = Layer()
    written: set[str] = set()
    manifest = []
    for build in builds:
        layer_paths = []
        for layer in build.layers:
            hexdigest = layer.diff_id[7:]
            path = f"{hexdigest}/layer.tar"
            if path not in written:
                out.file(path, layer.tar())
                written.add(path)
            layer_paths.append(path)
        config = build.config_bytes()
        config_name = hashlib.sha256(config).hexdigest() + ".json"
        if config_name not in written:
            out.file(config_name, config)
            written.add(config_name)
        manifest.append({"Config": config_name, "RepoTags": [parse(t).tagged for t in build.tags],
                         "Layers": layer_paths})
    out.file("manifest.json", json.dumps(manifest).encode())
    return out.tar()


def image_archive(tags: list[str], layers: list[Layer], config: dict) -> bytes:
    """A ``docker save``-format tarball holding one image with ``layers`` and ``config``."""
    return docker_archive([ImageBuild(tags, layers, config)])


# ----------------------------------------------------------------------------- stand-ins


def _need(path: str | None, package: str, what: str) -> Path:
    if not path or not Path(path).exists():
        raise errors.standin_package_missing(what, package)
    return Path(path)


def _shared_libraries(binary: Path) -> list[Path]:
    """The loader and libraries a dynamically linked binary needs (from ``ldd``)."""
    out = subprocess.run(["ldd", str(binary)], capture_output=True, text=True)
    if out.returncode != 0:  # static binary: "not a dynamic executable"
        return []
    libs = []
    for line in out.stdout.splitlines():
        words = line.split()
        for word in words:
            if word.startswith("/"):
                libs.append(Path(word))
                break
    return libs


def _standin_config(role: str, cmd: list[str], entrypoint: list[str] | None = None, **extra) -> dict:
    config = {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "Cmd": cmd,
        "Labels": {STANDIN_LABEL: "true", f"{STANDIN_LABEL}.recipe": RECIPES[role]},
    }
    if entrypoint:
        config["Entrypoint"] = entrypoint
    config.update(extra)
    return config


# Applets left out of the stand-in, so it behaves like upstream registry:2 (Alpine's busybox):
# `htpasswd` has not been in the registry images since their rebuild of June 2020 (distribution-library-image
# #107; even the 2.7.1 tag changed), and the recipe `docker run --entrypoint
# htpasswd registry:2` must fail here as it does there. (Debian's busybox 1.35 has no htpasswd
# applet today; this keeps it so if a later one gains it.)
EXCLUDED_APPLETS = {"busybox", "htpasswd"}


def _busybox_applets(busybox: Path) -> list[str]:
    out = subprocess.run([str(busybox), "--list"], capture_output=True, text=True).stdout.split()
    return sorted(set(out) - EXCLUDED_APPLETS)


def registry_standin_programs() -> set[str]:
    """The programs on the stand-in registry image's PATH (``/bin``): the registry and busybox's applets."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    applets = _busybox_applets(Path(busybox)) if Path(busybox).exists() else []
    return {"registry", "busybox", *applets}


# The registry stand-ins, one per major version, each laid out as its upstream image
# (github.com/distribution/distribution-library-image): registry:2 runs Debian's 2.8 binary (with
# its libc and loader), config in /etc/docker/registry; registry:3 runs the static v3 binary that
# scripts/go-tools.sh builds (pinned in reglab/tools.txt), config in /etc/distribution, and sets
# OTEL_TRACES_EXPORTER=none as the official image does (else v3 exports traces to localhost:4318).
REGISTRY_LAYOUTS = {
    2: {"config_dir": "etc/docker/registry", "config": "config.yml", "env": []},
    3: {"config_dir": "etc/distribution", "config": "config-v3.yml", "env": ["OTEL_TRACES_EXPORTER=none"]},
}
REGISTRY_V3_MISSING = "registry v3 (scripts/go-tools.sh)"  # what standin_missing names for registry:3


def registry_standin_config(major: int) -> bytes:
    """The stand-in's config.yml for ``major``: upstream's, without our leading comment lines."""
    text = resources.files("reglab.standin").joinpath(REGISTRY_LAYOUTS[major]["config"]).read_bytes()
    lines = text.splitlines(keepends=True)
    while lines and lines[0].startswith(b"#"):
        lines.pop(0)
    return b"".join(lines)


def _registry_binary(tag: str, settings) -> Path:
    if registry_major(tag) == 3:
        found = tools.find("registry", settings.tools_dir)
        if found is None:
            raise errors.standin_registry_not_built(tag, REGISTRY_V3_MISSING, tools.install_hint('registry'))
        return found
    return _need(str(settings.registry_bin or "") or shutil.which("docker-registry")
                 or "/usr/bin/docker-registry", "docker-registry", tag)


def _registry_standin_tools(tag: str, settings) -> tuple[Path, Path]:
    """The registry binary (``Settings.registry_bin``, the v3 build, else Debian's) and a static
    busybox, or :class:`ImageMissing` naming the package."""
    binary = _registry_binary(tag, settings)
    busybox = _need(shutil.which("busybox") or "/bin/busybox", "busybox-static", tag)
    if _shared_libraries(busybox):
        _need(None, "busybox-static", tag)
    return binary, busybox


def registry_standin_archive(tag: str, settings) -> bytes:
    """``registry:2`` look-alike (Debian's distribution 2.8 binary, its libc, busybox), or
    ``registry:3`` look-alike (the static v3 binary, busybox): see :data:`REGISTRY_LAYOUTS`."""
    binary, busybox = _registry_standin_tools(tag, settings)
    layout = REGISTRY_LAYOUTS[registry_major(tag)]
    config_path = f"{layout['config_dir']}/config.yml"
    layer = Layer()
    for d in ("bin", layout["config_dir"], "var/lib/registry", "root"):
        layer.dir(d)
    layer.dir("tmp", 0o1777)
    layer.file("bin/registry", binary.read_bytes(), 0o755)
    for lib in _shared_libraries(binary):
        layer.file(str(lib), lib.resolve().read_bytes(), 0o755)
    layer.file("bin/busybox", busybox.read_bytes(), 0o755)
    for applet in _busybox_applets(busybox):
        layer.symlink(f"bin/{applet}", "busybox")
    standin = resources.files("reglab.standin")
    layer.file("entrypoint.sh", standin.joinpath("entrypoint.sh").read_bytes(), 0o755)
    layer.file(config_path, registry_standin_config(registry_major(tag)))
    layer.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n")
    layer.file("etc/group", b"root:x:0:\n")
    certs = Path("/etc/ssl/certs/ca-certificates.crt")
    if certs.exists():
        layer.file("etc/ssl/certs/ca-certificates.crt", certs.read_bytes())
    config = _standin_config(
        "registry",
        [f"/{config_path}"],
        ["/entrypoint.sh"],
        ExposedPorts={"5000/tcp": {}},
        Volumes={"/var/lib/registry": {}},
    )
    config["Env"] += layout["env"]
    return image_archive([tag], [layer], config)


def hello_greeting() -> str:
    """What the stand-in ``hello-world`` prints (and what the daemonless engine shows for it)."""
    return resources.files("reglab.standin").joinpath("greeting.txt").read_text()


def hello_standin_archive(tag: str, settings=None) -> bytes:
    """``hello-world`` look-alike: one tiny static program printing our own greeting, written
    byte by byte (:mod:`reglab.elf`), so its digest is the same on every machine of an architecture."""
    layer = Layer().file("hello", elf.program(hello_greeting(), go_arch()), 0o755)
    return image_archive([tag], [layer], _standin_config("hello", ["/hello"]))


STANDINS = {"registry": registry_standin_archive, "hello": hello_standin_archive}
STANDIN_PACKAGES = {"registry": ("docker-registry", "busybox-static"), "hello": ()}  # hello: written by reglab.elf


def standin_missing(role: str, settings, reference: str | None = None) -> str | None:
    """The Debian package the stand-in for ``role`` cannot be built without, or None if it can be."""
    if not STANDIN_PACKAGES[role]:
        return None
    try:
        _registry_standin_tools(reference or required(settings)[role], settings)
    except ImageMissing as exc:
        if REGISTRY_V3_MISSING in str(exc):
            return REGISTRY_V3_MISSING
        return next((p for p in STANDIN_PACKAGES[role] if f": {p} is missing" in str(exc)), STANDIN_PACKAGES[role][0])
    return None


@dataclass(frozen=True)
class ImageStatus:
    """What ``ensure`` found or did for one image."""

    role: str
    reference: str
    present: bool
    standin: bool
    action: str  # "present", "pulled", "built", "missing"
    why: str = ""  # why a stand-in was built rather than pulled (automatic choice only)

    def __str__(self) -> str:
        kind = " (offline stand-in)" if self.standin else ""
        return f"{self.reference}{kind}: {self.action}" + (f" — {self.why}" if self.why else "")


def required(settings) -> dict[str, str]:
    """Role → reference of every image the course needs."""
    return {"registry": settings.registry_image, "hello": settings.hello_image}


def ensure(engine, roles: tuple[str, ...] = ("registry", "hello"), settings=None,
           references: dict[str, str] | None = None) -> list[ImageStatus]:
    """Make sure the course images exist in ``engine``'s image store.

    ``settings``: the engine's unless given; ``references``: other images for a role (``{"registry":
    "registry:2"}`` beside the course's registry:3). Present images are used as they are. A missing one is, with ``REGLAB_OFFLINE=1``, built as
    a stand-in; with ``REGLAB_OFFLINE=0``, pulled; by default pulled when Docker Hub answers
    (probed once, only when an image is missing), else built as a stand-in where its packages
    are installed, else :class:`ImageMissing` says the ways forward in one sentence.
    """
    statuses = []
    settings = settings or engine.settings
    source = settings.image_source
    hub: bool | None = None  # probed when first needed
    for role in roles:
        ref = {**required(settings), **(references or {})}[role]
        info = engine.images.info(ref)
        outdated = info is not None and info.standin and info.recipe not in (None, RECIPES[role])
        if info is not None and not outdated:
            statuses.append(ImageStatus(role, ref, True, info.standin, "present"))
            continue
        if outdated:
            engine.images.load(STANDINS[role](ref, settings))  # loading over an old stand-in retags it
            statuses.append(ImageStatus(role, ref, True, True, "rebuilt"))
            if info.id != (engine.images.info(ref) or info).id:
                try:  # the old stand-in lost its name: remove it unless a container still uses it
                    engine.images.remove(info.id)
                except ReglabError:
                    pass
            continue
        if source == "standin":
            engine.images.load(STANDINS[role](ref, settings))
            statuses.append(ImageStatus(role, ref, True, True, "built"))
            continue
        if source == "hub":
            engine.images.fetch(ref)
            statuses.append(ImageStatus(role, ref, True, False, "pulled"))
            continue
        if Cannot.PULL_FROM_HUB in engine.cannot:
            why = errors.cannot_pull_from_hub(engine.label)
        else:
            if hub is None:
                hub = hub_reachable(settings.hub_probe_url)
            why = errors.hub_not_reached(settings.hub_probe_url)
            if hub:
                try:
                    engine.images.fetch(ref)
                    statuses.append(ImageStatus(role, ref, True, False, "pulled"))
                    continue
                except ImageMissing:
                    why = errors.hub_pull_went_wrong(settings.hub_probe_url)
        missing = standin_missing(role, settings, ref)
        if missing:
            install = (errors.build_registry_v3(tools.go_minimum()) if missing == REGISTRY_V3_MISSING
                       else errors.install_packages(missing, list(STANDIN_PACKAGES[role])))
            raise errors.standin_cannot_be_built(ref, why, missing, install)
        engine.images.load(STANDINS[role](ref, settings))
        statuses.append(ImageStatus(role, ref, True, True, "built", why))
    return statuses


def real_images_note(statuses: list[ImageStatus]) -> str | None:
    """One line for a notebook when the course images are not reglab's stand-ins, or None."""
    real = [s.reference for s in statuses if not s.standin]
    if not real:
        return None
    return (f"{' and '.join(real)} here {'is' if len(real) == 1 else 'are'} not reglab's stand-in"
            f"{'' if len(real) == 1 else 's'} ({'it' if len(real) == 1 else 'they'} came from Docker Hub or elsewhere): the digests, sizes and "
            "hello-world's greeting you see differ from those saved in the notebook, as expected.")


# ----------------------------------------------------------------------------- synthetic images

MiB = 1024 * 1024
SYNTHETIC_LABEL = "reglab.synthetic"


def synthetic_image(reference: str, layers: list[Layer]) -> ImageBuild:
    """An image of the given layers, for storage experiments (nothing in it runs)."""
    config = {"Cmd": ["/app/run"], "Labels": {SYNTHETIC_LABEL: "true"}}
    return ImageBuild([reference], layers, config)


def growth_series(registry: str, versions: int = 6, base_mib: float = 20, app_mib: tuple[float, float] = (1, 5),
                  second_app_versions: int = 2, unrelated_mib: float = 8, seed: int = 0) -> list[ImageBuild]:
    """Images in push order: ``app:v1…vN`` on one base, ``other-app`` on the same base, one unrelated image.

    Every app version adds one layer of 1-5 MiB (sizes drawn from ``seed``); the base is the same
    layer object in every image, so it is stored once however many images use it.
    """
    rng = random.Random(seed)
    base = random_layer("base/os.bin", int(base_mib * MiB), f"base-{seed}")

    def app_layer(name: str, version: int) -> Layer:
        size = int(rng.uniform(*app_mib) * MiB)
        return random_layer(f"app/{name}-{version}.bin", size, f"{name}-{version}-{seed}")

    builds = [synthetic_image(f"{registry}/app:v{v}", [base, app_layer("app", v)]) for v in range(1, versions + 1)]
    builds += [synthetic_image(f"{registry}/other-app:v{v}", [base, app_layer("other-app", v)])
               for v in range(1, second_app_versions + 1)]
    unrelated_base = random_layer("base/other-os.bin", int(unrelated_mib * MiB), f"unrelated-{seed}")
    builds.append(synthetic_image(f"{registry}/unrelated:v1", [unrelated_base, app_layer("unrelated", 1)]))
    return builds


def rebuilt(build: ImageBuild, seed: int | str) -> ImageBuild:
    """The same image rebuilt: same lower layers, a new top layer of the same size, same tag."""
    top = build.layers[-1]
    info, data = next((i, d) for i, d in top.entries if d is not None)
    layer = random_layer(info.name, len(data), f"rebuilt-{seed}")
    return synthetic_image(build.tags[0], [*build.layers[:-1], layer])
