"""Steps for a registry that outgrew one container (notebook 07): its blobs in S3-compatible object
storage, several replicas behind a load balancer, a cache they share.

The parts, each started by the lab on its own network (containers under Docker; processes on
127.0.0.1 under the daemonless engine, :mod:`reglab.engines.local.services`):

- **the object store**: SeaweedFS (``chrislusf/seaweedfs``), ``weed server -s3``: master, volume
  server, filer and S3 gateway in one process, its data in the lab's own folder;
- **replicas**: registries with ``storage.s3`` on one bucket, from one config file the lab writes
  (mounted at the image's config path), a setting or two changed per step with ``-e``;
- **the load balancer**: nginx, round-robin (or ``ip_hash``: sticky) over the replicas, at the
  lab's address: the lab's pushes and pulls go through it;
- **the shared cache**: redis as the blob descriptor cache of every replica.

Secrets (the store's key, the replicas' ``http.secret``) live in files of the lab's folder
(0600); twins read them with ``"$(cat …)"`` and no output shows them. Every step shows its twin,
then what happened; what only an HTTP client can show (an upload whose replica dies half-way, a
download cut short) is the lab's own client (:class:`reglab.registry_api.RegistryClient`), each
request on a line of its own with the replica nginx chose (nginx names it in ``X-Upstream``).
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
import time
from pathlib import Path

import requests
import urllib3

from .. import errors, ports, scaleout, service_images, terminal
from .. import images as course_images
from ..engines import Cannot, Engine
from ..errors import ReglabError
from ..media import OCI_MANIFEST, digest_of, short_digest
from ..narrator import Narrator
from ..reference import parse
from ..registries import Registries
from ..registry import Registry
from ..registry_api import RegistryClient, error_for
from ..registry_run import CONFIG_PATHS, registry_major
from ..sandbox import Sandbox
from ..scaleout import BUCKET, HTTP_SECRET, SEED, Attempt, KiB, Outcome
from ..service_run import ServiceRun
from ..twin import Raw, Twin, docker
from ..units import count, human
from .object_store import ObjectStoreSteps


class ScaleSteps(ObjectStoreSteps):
    """An object store, replicas on it behind nginx, a shared cache — and what goes wrong between them."""

    def __init__(self, narrator: Narrator, engine: Engine, sandbox: Sandbox, registries: Registries):
        self.say, self.engine, self.sandbox, self.registries = narrator, engine, sandbox, registries
        self.store: ServiceRun | None = None
        self.cache: ServiceRun | None = None
        self.balancer: Registry | None = None
        self.replicas: list[Registry] = []
        self.image: str | None = None
        self._store_ready = False
        self._rate = "0"
        self._sticky = False
        self.layers: dict[str, str] = {}  # image this lab made → the digest of its layer
        self._uploads = 0

    # ------------------------------------------------------------------ names, files, ports

    @property
    def network(self) -> str:
        return self.sandbox.object_name(scaleout.NETWORK)

    def _folder(self, name: str) -> Path:
        return self.sandbox.folder(name)

    def _secret_file(self, name: str) -> Path:
        """A secret of the lab's (made once, 0600), in its folder: twins read it with ``$(cat …)``."""
        path = self._folder("secrets") / name
        if not path.exists():
            path.touch(mode=0o600)
            path.write_text(secrets.token_hex(16))
        return path

    def _secret(self, name: str) -> str:
        return self._secret_file(name).read_text().strip()

    def _port(self, preferred: int) -> int:
        """A free port on 127.0.0.1 from ``preferred`` up, kept for the lab until its cleanup."""
        port = preferred
        while True:
            port = ports.choose(port)
            if self.sandbox.hold_port(port, "127.0.0.1"):
                return port
            port += 1

    def _ensure(self, role: str) -> None:
        """The service image ``role`` is ready (built offline, like the course's own, when missing)."""
        statuses = course_images.ensure(self.engine, (role,), self.sandbox.settings, service_images.SERVICE_IMAGES)
        for status in statuses:
            if status.action != "present":
                self.say.note(str(status))

    def _network(self) -> None:
        if self.engine.objects.create_network(self.sandbox.scope, self.network):
            self.say.twin(docker("network", "create", self.network))
            if Cannot.NETWORKS in self.engine.cannot:
                self.say.note(errors.cannot_network(self.engine.label, self.network, reached=False))

    def _need(self, what: str):
        part = {"store": self.store, "balancer": self.balancer, "cache": self.cache}[what]
        if part is None or (what == "balancer" and not self.replicas):
            start = {"store": "lab.scale.run_store()", "balancer": "lab.scale.run_replicas()",
                     "cache": "lab.scale.run_cache()"}[what]
            raise errors.no_part_yet({"store": "object store", "balancer": "replicas behind a load balancer",
                                      "cache": "shared cache"}[what], start)
        return part

    # ------------------------------------------------------------------ replicas and the load balancer

    def _config(self, image: str) -> Path:
        """The replicas' one config file (0600: it holds the store's keys): ``storage.s3`` on the bucket."""
        major = registry_major(image)
        path = self._folder("registry") / f"config-v{major}.yml"
        if not path.exists():
            path.touch(mode=0o600)
        path.write_text(scaleout.registry_config(self._need("store").name, self._secret("s3-secret-key"), major))
        return path

    def config(self, image: str | None = None) -> Path:
        """Show the replicas' config file (the store's secret key left out of what is shown)."""
        image = image or self.image or self.registries.image
        path = self._config(image)
        self.say.twin(Twin.of("cat", str(path)))
        secret = self._secret("s3-secret-key")
        self.say.output(path.read_text().replace(json.dumps(secret), '"<the secret key: not shown>"'))
        return path

    def _replica_env(self, image: str, secret: str | None, cache: bool, read_only: bool, index: int) -> dict:
        value = {"shared": "http-secret", "different": f"http-secret-{index}"}.get(secret or "")
        return scaleout.replica_env(registry_major(image), self._secret(value) if value else None,
                           self._need("cache").name if cache else None, read_only)

    def run_replicas(self, replicas: int = 2, secret: str | None = None, cache: bool = False, sticky: bool = False,
                     read_only: bool = False, port: int | None = None, image: str | None = None) -> Registry:
        """Run ``replicas`` registries on the bucket (a fresh container each) and nginx in front of
        them at the lab's address. ``secret``: ``"shared"`` (one ``http.secret`` for all), ``"different"``
        (one each), or None (each makes its own at start); ``cache``: the blob descriptor cache in
        redis; ``sticky``: nginx sends each client to one replica (``ip_hash``); ``read_only``:
        maintenance mode. Returns the load balancer, which the lab's pushes and pulls use."""
        self._need("store")
        image = image or self.image or self.registries.image
        self.image = image
        config = self._config(image)
        balancer_port = self.balancer.port if self.balancer else \
            self._port(port or self.sandbox.port or ports.DEFAULT_PORT)
        for old in self.replicas:
            self.engine.containers.remove(old.name)
        self.replicas = []
        hidden = {HTTP_SECRET: self._secret_file("http-secret")}
        for i in range(1, replicas + 1):
            env = self._replica_env(image, secret, cache, read_only, i)
            with self.say.quiet():
                replica = self.registries.run(port=balancer_port + i, name=f"registry-{i}", env=env,
                                              files={str(config): CONFIG_PATHS[registry_major(image)]},
                                              network=scaleout.NETWORK, current=False, image=image)
            if secret == "different":
                hidden = {HTTP_SECRET: self._secret_file(f"http-secret-{i}")}
            run = replica.run.but(hidden=(HTTP_SECRET,) if HTTP_SECRET in env else ())
            argv = ("docker", *run.argv())
            self.say.twin(scaleout.with_secret_files(argv, hidden).in_lines(scaleout.run_breaks_of(argv)))
            self.replicas.append(replica)
        self._start_balancer(balancer_port, sticky)
        what = {"shared": "one shared http.secret", "different": "a different http.secret each",
                None: "no http.secret (each makes its own)"}[secret]
        extras = (["the blob descriptor cache in redis"] if cache else []) + (["read-only"] if read_only else [])
        self.say.say(f"{count(replicas, 'replica')} on the bucket {BUCKET}, {what}" +
                     "".join(f", {e}" for e in extras) +
                     f"; nginx at {self.balancer.url} sends each request to "
                     + ("the replica that client always gets (ip_hash)" if sticky else "the next replica in turn"))
        return self.balancer

    def _start_balancer(self, port: int, sticky: bool, rate: str = "0") -> None:
        self._ensure("nginx")
        folder = self._folder("nginx")
        conf = folder / "default.conf"
        text = scaleout.nginx_conf([r.name for r in self.replicas], sticky, rate)
        if not conf.exists() or conf.read_text() != text:
            conf.write_text(text)
            self.say.twin(Twin.of("cat", str(conf)))
            self.say.output(text)
        run = ServiceRun(self.sandbox.object_name("nginx"), service_images.NGINX_IMAGE,
                         publish=(("127.0.0.1", port, 80),), files=((str(folder), "/etc/nginx/conf.d"),),
                         network=self.network)
        if self.balancer is not None and self.balancer.port == port and self.engine.containers.state(run.name):
            # the same container: a restart reads the changed file and looks the replicas up again
            self.say.twin(docker("container", "restart", run.name))
            self.engine.containers.restart(run.name)
        else:
            self.engine.containers.start_service(run, self.sandbox.scope)
            self.say.twin(run.twin())
        self._sticky, self._rate = sticky, rate
        balancer = Registry(run.name, "127.0.0.1", port, network=self.network, trust=(self.engine.trust.folder(),),
                            docker_config=lambda: self.sandbox.docker_config)
        balancer.api.wait_ready(timeout=30, problem=lambda: self.engine.containers.problem(run.name))
        self.balancer = balancer
        self.sandbox.registry, self.sandbox.port = balancer, port

    def _replica_of(self, upstream: str | None) -> str | None:
        """The replica nginx names in ``X-Upstream`` (its address on the lab's network)."""
        if not upstream:
            return None
        last = upstream.split(",")[-1].strip()
        for replica in self.replicas:
            try:
                if self.engine.objects.address(replica.name, self.network) == last:
                    return replica.name
            except ReglabError:
                continue
        return last

    # ------------------------------------------------------------------ images of this notebook

    def make_scratch(self, tag: str = "v1", layer_kib: int = 256) -> str:
        """``team/scratch:<tag>``: a small image whose layer no other image has (a build's scratch
        output, deleted again soon)."""
        balancer = self._need("balancer")
        ref = balancer.ref("team/scratch", tag)
        layer = course_images.random_layer("scratch.bin", layer_kib * KiB, f"{SEED}-scratch-{tag}")
        self._load([course_images.ImageBuild([ref], [layer], {"Cmd": ["/scratch.bin"]})], f"scratch-{tag}.tar")
        self.layers[parse(ref).tagged] = ""  # its layer's digest is known once pushed (compressed by the push)
        self.say.say(f"loaded {parse(ref).tagged}: one layer of its own (/scratch.bin, {human(layer_kib * KiB)})")
        return ref

    def make_app(self, tag: str, layer_kib: int = 512) -> str:
        """``team/app:<tag>`` for the load balancer's address: one layer every tag shares, and a
        config of its own (its version label) — so a second push sends nothing but that config."""
        balancer = self._need("balancer")
        ref = balancer.ref("team/app", tag)
        layer = course_images.random_layer("app.bin", layer_kib * KiB, SEED)
        build = course_images.ImageBuild([ref], [layer], {"Cmd": ["/app.bin"],
                                                           "Labels": {"org.opencontainers.image.version": tag}})
        self._load([build], f"app-{tag}.tar")
        self.layers[parse(ref).tagged] = ""
        self.say.say(f"loaded {parse(ref).tagged}: its layer (/app.bin, {human(layer_kib * KiB)}) is the same in every "
                     f"tag of team/app, its config says version {tag}")
        return ref

    def _load(self, builds: list, filename: str) -> list[str]:
        data = course_images.docker_archive(builds)
        path = self._folder("images") / filename
        path.write_bytes(data)
        self.say.twin(docker("image", "load", "-i", str(path)))
        self.engine.images.load(data)
        tags = [parse(tag).tagged for build in builds for tag in build.tags]
        for tag in tags:
            self.sandbox.record_tag(tag)
        return tags

    # ------------------------------------------------------------------ replicas without a shared secret

    def upload_errors(self) -> list[str]:
        """What the replicas' logs say about their secrets and the uploads they refused."""
        names = [r.name for r in self._need_replicas()]
        pattern = 'msg="[^"]*secret[^"]*"'
        twin = Twin((Raw("(" + "; ".join(f"docker container logs {n}" for n in names) + ") 2>&1"),),
                    ((("grep", "-o", pattern)), ("sort",), ("uniq", "-c")))
        self.say.twin(twin)
        text = "".join(self.engine.containers.logs(n) for n in names)
        out = terminal.pipe_through(twin.pipe, text)
        self.say.output(out)
        return out.splitlines()

    def _need_replicas(self) -> list[Registry]:
        self._need("balancer")
        return self.replicas

    def upload_with_a_redeploy(self, size_kib: int = 48, chunk_kib: int = 16,
                               repository: str = "team/upload") -> Outcome:
        """Upload a blob in chunks through nginx (POST, then a PATCH per chunk, then PUT) and
        restart every replica after the first chunk, as a redeploy does: does the upload survive?"""
        balancer = self._need("balancer")
        api = balancer.api
        # small chunks: a replica that refuses a PATCH answers before reading a big body, and nginx
        # then says 502 (writev() failed: Broken pipe) instead of passing on the replica's 404
        self._uploads += 1
        data = random.Random(f"{SEED}-upload-{self._uploads}").randbytes(size_kib * KiB)
        digest = digest_of(data)
        chunk = chunk_kib * KiB
        outcome = Outcome(False)
        start = time.perf_counter()
        path = f"/v2/{repository}/blobs/uploads/"
        first: list[str] = []

        def said(method: str, what: str, answer) -> None:
            replica = self._replica_of(answer.headers.get("X-Upstream"))
            first[:] = first or [replica]
            role = "the replica that started it" if replica == first[0] else "the other replica"
            outcome.attempts.append(Attempt(method, what, answer.status_code, role))
            self.say.say(str(outcome.attempts[-1]))

        answer = api.request("POST", path, ok=(202,), what=repository)
        said("POST", path, answer)
        location = answer.headers["Location"]
        offset, redeployed = 0, False
        try:
            while offset < len(data):
                piece = data[offset:offset + chunk]
                what = f"{path}<upload id> (bytes {offset}-{offset + len(piece) - 1})"
                answer = api.request("PATCH", api.url(location), ok=tuple(range(100, 600)), data=piece,
                                     headers={"Content-Type": "application/octet-stream",
                                              "Content-Range": f"{offset}-{offset + len(piece) - 1}"})
                said("PATCH", what, answer)
                if answer.status_code != 202:
                    raise error_for(api.host, "PATCH", location, answer.status_code, answer.content, repository)
                location = answer.headers["Location"]
                offset += len(piece)
                if not redeployed:
                    redeployed = True
                    self.restart_replicas(quiet=True)
            answer = api.request("PUT", api.url(location), ok=(201,), params={"digest": digest},
                                 headers={"Content-Type": "application/octet-stream"}, data=b"")
            said("PUT", f"{path}<upload id>?digest={short_digest(digest)}", answer)
            outcome.ok = api.blob_digest(repository, digest) == digest
            self.say.say(f"the blob is whole in the bucket ({human(len(data))}, digest checked): the upload survived "
                         "the redeploy" if outcome.ok else "the registry says Created, but the blob is not whole")
        except ReglabError as exc:
            self.say.say(f"✘ {type(exc).__name__}: {exc}")
            self.say.explain("the upload is lost: its state was signed with a secret no replica has any more, "
                             "and the client must start again from POST")
        finally:
            outcome.seconds = time.perf_counter() - start
        return outcome

    def _replica(self, name: str) -> Registry:
        return next(r for r in self.replicas if r.name == name)

    # ------------------------------------------------------------------ the shared cache

    def run_cache(self) -> ServiceRun:
        """Start redis on the lab's network: the blob descriptor cache every replica will share."""
        self._ensure("redis")
        self._network()
        run = ServiceRun(self.sandbox.object_name("redis"), service_images.REDIS_IMAGE, network=self.network)
        self.engine.containers.start_service(run, self.sandbox.scope)
        self.say.twin(run.twin())
        deadline = time.monotonic() + 30
        while "PONG" not in self.engine.containers.exec(run.name, ["redis-cli", "ping"]).output:
            if time.monotonic() > deadline:
                raise errors.service_no_ping(run.name)
            time.sleep(0.1)
        self.cache = run
        self.say.say(f"redis answers on the network {self.network} as {run.name}:{scaleout.REDIS_PORT}")
        return run

    def cache_keys(self) -> list[str]:
        """The cache's keys (``redis-cli --scan``), sorted."""
        cache = self._need("cache")
        self._remember()
        twin = docker("container", "exec", cache.name, "redis-cli", "--scan") | Twin.of("sort")
        self.say.twin(twin)
        done = self.engine.containers.exec(cache.name, ["redis-cli", "--scan"])
        text = terminal.pipe_through(twin.pipe, done.output)
        self.say.output(text)
        keys = text.split()
        blobs = [k for k in keys if k.startswith("blobs::")]
        self.say.explain(f"{count(len(blobs), 'blob')} described once for every replica (media type, size, "
                         f"digest); {count(len(keys) - len(blobs), 'key')} for which repository links which blob")
        return keys

    def flush_cache(self) -> None:
        """Empty the shared cache (``redis-cli FLUSHDB``): every replica asks the bucket again."""
        cache = self._need("cache")
        self.say.twin(docker("container", "exec", cache.name, "redis-cli", "FLUSHDB"))
        self.say.output(self.engine.containers.exec(cache.name, ["redis-cli", "FLUSHDB"]).output)

    def _remember(self) -> None:
        """Note the layer digest of each image this lab made and pushed (the push compressed it)."""
        api = self._need("balancer").api
        for tagged, digest in self.layers.items():
            if not digest:
                ref = parse(tagged)
                try:
                    self.layers[tagged] = api.manifest(ref.repository, ref.tag_or_default).layers[0]
                except ReglabError:
                    pass

    def blob_answers(self, reference: str) -> dict[str, tuple[int, int, int]]:
        """``HEAD`` and ``GET`` of the layer of an image this lab made, on each replica: (HEAD
        status, length promised, bytes that came)."""
        replicas = self._need_replicas()
        ref = parse(reference)
        self._remember()
        if not self.layers.get(ref.tagged):
            raise errors.manifest_unknown(self._need("balancer").address, ref.repository, ref.tag_or_default)
        return self._blob_answers(replicas, ref.repository, self.layers[ref.tagged])

    def _blob_answers(self, replicas: list[Registry], repository: str, digest: str) -> dict:
        found = {}
        for replica in replicas:
            self.say.twin(Twin.of("curl", "-sI", f"{replica.url}/v2/{repository}/blobs/{digest}"))
            head = replica.api.request("HEAD", f"/v2/{repository}/blobs/{digest}", ok=tuple(range(100, 600)))
            promised = int(head.headers.get("Content-Length") or 0)
            got = 0
            if head.status_code == 200:
                try:
                    for piece in replica.api.blob_chunks(repository, digest):
                        got += len(piece)
                except ReglabError:
                    pass
            found[replica.name] = (head.status_code, promised, got)
            verdict = (f"HEAD {head.status_code}, {human(promised)} promised; GET sends {human(got)}"
                       if head.status_code == 200 else f"HEAD {head.status_code}: no such blob")
            self.say.say(f"{replica.name}: {verdict}")
        return found

    def restart_replicas(self, quiet: bool = False) -> None:
        """Restart every replica (``docker container restart``): what each kept in memory goes (a
        secret it made itself too), the bucket and the shared cache stay."""
        replicas = self._need_replicas()
        self.say.twin(docker("container", "restart", *(r.name for r in replicas)))
        for replica in replicas:
            self.engine.containers.restart(replica.name)
        for replica in replicas:
            replica.api.wait_ready(timeout=30, problem=lambda r=replica: self.engine.containers.problem(r.name))
        if self.balancer is not None:  # and nginx reaches each again (a busy machine: seconds), as a health check
            for _ in replicas:
                self.balancer.api.wait_ready(timeout=30)
        if not quiet:
            kept = f"; the cache in {self.cache.name} kept every entry" if self.cache else ""
            self.say.say(f"{count(len(replicas), 'replica')} restarted: each forgot what it kept in memory{kept}")

    # ------------------------------------------------------------------ garbage collection

    def garbage_collect(self) -> tuple[int, int]:
        """``registry garbage-collect`` on the bucket, from replica 1's container; (kept, deleted) blobs."""
        replica = self._need_replicas()[0]
        argv = ["registry", "garbage-collect", replica.run.config_path]
        self.say.twin(docker("container", "exec", replica.name, *argv))
        done = self.engine.containers.exec(replica.name, argv)
        match = scaleout.GC_SUMMARY.search(done.output)
        if done.exit_code != 0 or not match:
            last = done.output.strip().splitlines()[-1] if done.output.strip() else "no output"
            raise errors.gc_failed(done.exit_code, last)
        marked, blobs, _ = (int(g) for g in match.groups())
        self.say.say(f"kept {count(marked, 'referenced blob')}; deleted {count(blobs, 'blob')} from the bucket")
        return marked, blobs

    def push_during_collection(self, tag: str = "new") -> Outcome:
        """A push in flight while garbage collection runs on writable replicas: every blob of
        ``team/app:<tag>`` uploaded, then the collection, then the manifest."""
        balancer = self._need("balancer")
        api = balancer.api
        layer = course_images.random_layer("new.bin", 256 * KiB, f"{SEED}-{tag}")
        build = course_images.ImageBuild([balancer.ref("team/app", tag)], [layer], {"Cmd": ["/new.bin"]})
        blobs = [layer.gzipped(), build.config_bytes()]
        for blob in blobs:
            location = api.start_upload("team/app")
            api.upload(location, digest_of(blob), lambda o, n, b=blob: b[o:o + n], len(blob))
        self.say.say(f"a push of team/app:{tag} is half done: its {count(len(blobs), 'blob')} are uploaded, its "
                     "manifest not yet sent")
        self.garbage_collect()
        self.say.twin(Twin.of("curl", "-X", "PUT", "-H", f"Content-Type: {OCI_MANIFEST}", "--data-binary",
                              "@manifest.json", f"{balancer.url}/v2/team/app/manifests/{tag}"))
        outcome = Outcome(False)
        try:
            digest = api.put_manifest("team/app", tag, build.manifest_bytes(), OCI_MANIFEST)
            self.say.say(f"201 Created: team/app:{tag} is {short_digest(digest)}")
        except ReglabError as exc:
            self.say.say(f"✘ {type(exc).__name__}: {exc}")
            return outcome
        self.layers[parse(balancer.ref("team/app", tag)).tagged] = digest_of(blobs[0])
        found = self._blob_answers(self.replicas, "team/app", digest_of(blobs[0]))
        outcome.ok = all(got == promised for _, promised, got in found.values())
        if not outcome.ok:
            self.say.explain(f"team/app:{tag} is tagged, and every replica says its layer is there (the shared "
                             "cache remembers it), yet the collection deleted it: whoever pulls the tag gets nothing")
        return outcome

    # ------------------------------------------------------------------ a replica killed mid-pull

    def _download_killing_at_a_quarter(self, client: RegistryClient, repository: str, digest: str, size: int,
                                       wanted: str | None = None) -> tuple[bytearray, str | None, str]:
        """GET the blob through the balancer, killing the replica that sends it once a quarter came;
        (what came, the replica killed, the replica that served). ``wanted``: asked again (for up to
        15 s: nginx rests a replica it could not reach for 10 s) until that replica serves it."""
        got, killed = bytearray(), None
        deadline = time.monotonic() + 15
        while True:
            response = client.request("GET", f"/v2/{repository}/blobs/{digest}", stream=True)
            serving = self._replica_of(response.headers.get("X-Upstream"))
            if wanted in (None, serving) or time.monotonic() > deadline:
                break
            response.close()
            time.sleep(0.2)
        try:
            for piece in response.iter_content(256 * KiB):
                got += piece
                if killed is None and len(got) >= size // 4:
                    killed = serving
                    self.engine.containers.kill(killed)
        except (requests.RequestException, urllib3.exceptions.HTTPError):
            pass
        return got, killed, serving

    def pull_with_a_kill(self, size_mib: int = 16, rate: str = "8m", repository: str = "team/big") -> Outcome:
        """Download a big blob through nginx (``limit_rate``: a slower link, so the download takes a
        while), kill the replica sending it a quarter of the way, then ask for the rest (``Range``)."""
        balancer = self._need("balancer")
        data = random.Random(f"{SEED}-big").randbytes(size_mib * scaleout.MiB)
        digest = digest_of(data)
        api = balancer.api
        location = api.start_upload(repository)
        api.upload(location, digest, lambda o, n: data[o:o + n], len(data))
        self.say.say(f"pushed a {human(len(data))} blob to {repository} (as the big layer of an image)")
        self._start_balancer(balancer.port, self._sticky, rate)
        url = f"{balancer.url}/v2/{repository}/blobs/{digest}"
        self.say.twin(Twin.of("curl", "-sSo", "big.blob", url))
        outcome = Outcome(False)
        start = time.perf_counter()
        # a client that gives up after 2 s of silence: a killed container's connection may end
        # without a word (its network goes with it), a killed process's ends at once
        impatient = RegistryClient(balancer.address, timeout=2)
        first = None
        for _ in range(3):
            got, killed, serving = self._download_killing_at_a_quarter(impatient, repository, digest, len(data),
                                                                       first)
            first = first or serving
            if len(got) < len(data) or killed is None:
                break
            # on a busy machine the replica had sent it all before it died (the balancer's socket
            # took the rest in): the break did not happen; bring the replica back and try again
            self.engine.containers.restart(killed)
            self._replica(killed).api.wait_ready(timeout=30)
        outcome.attempts.append(Attempt("GET", f"/v2/{repository}/blobs/{short_digest(digest)}", 200, serving))
        outcome.note = f"{len(got)} of {len(data)} bytes before the break"
        self.say.twin(docker("container", "kill", killed or serving))
        if len(got) < len(data):
            cut = errors.download_interrupted(balancer.address, digest)
            self.say.say(f"✘ {type(cut).__name__}: {cut}")
        self.say.twin(Twin.of("curl", "-sSo", "big.blob", "-C", "-", url))
        rest = api.request("GET", f"/v2/{repository}/blobs/{digest}", ok=(200, 206),
                           headers={"Range": f"bytes={len(got)}-"})
        outcome.attempts.append(Attempt("GET", "(Range: bytes=<what came>-)", rest.status_code,
                                        self._replica_of(rest.headers.get("X-Upstream"))))
        whole = bytes(got) + rest.content if rest.status_code == 206 else rest.content
        outcome.ok = hashlib.sha256(whole).hexdigest() == digest.split(":", 1)[1]
        outcome.seconds = time.perf_counter() - start
        other = outcome.attempts[-1].replica
        self.say.say(f"{rest.status_code} {'Partial Content' if rest.status_code == 206 else 'OK'} from {other}: "
                     f"the rest of the blob; all {human(len(data))} hash to its digest: {outcome.ok}")
        if killed:
            self.say.twin(docker("container", "start", killed))
            self.engine.containers.restart(killed)
            self._replica(killed).api.wait_ready(timeout=30)
        with self.say.quiet():
            self._start_balancer(balancer.port, self._sticky)
        return outcome

