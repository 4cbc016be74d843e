"""The object store of notebook 07: SeaweedFS started, a bucket made, its keys listed, and the same
image pushed to a registry on a folder, to show the bucket holds the registry's tree.

A part of :class:`reglab.steps.scale.ScaleSteps` (``lab.scale.run_store()``, ``lab.scale.bucket()``),
kept apart so each file reads as one topic; it uses the lab's folder, secrets, ports and network
that :class:`~reglab.steps.scale.ScaleSteps` keeps.
"""

from __future__ import annotations

import time

from .. import errors, scaleout, service_images, terminal
from ..reference import parse
from ..registry_run import this_user
from ..scaleout import BUCKET, S3_PORT
from ..service_run import ServiceRun
from ..twin import Twin, docker
from ..units import count


class ObjectStoreSteps:
    """SeaweedFS as the replicas' storage, and its bucket read as the registry's tree."""

    # ------------------------------------------------------------------ the object store

    def run_store(self, port: int = S3_PORT, extra: tuple[str, ...] = ()) -> ServiceRun:
        """Start SeaweedFS (``weed server -s3``), its data in the lab's folder. It answers at once and
        accepts writes some seconds later: start it first, the rest meanwhile."""
        self._ensure("seaweedfs")
        self._network()
        data = self._folder("s3data")
        key_file = self._secret_file("s3-secret-key")
        keys = (("AWS_ACCESS_KEY_ID", scaleout.ACCESS_KEY), ("AWS_SECRET_ACCESS_KEY", self._secret("s3-secret-key")))
        run = ServiceRun(self.sandbox.object_name("seaweedfs"), service_images.SEAWEEDFS_IMAGE,
                         scaleout.STORE_ARGS + extra, (("127.0.0.1", self._port(port), S3_PORT),), keys,
                         ("AWS_SECRET_ACCESS_KEY",), data=(str(data), "/data"), user=this_user(), network=self.network)
        self.engine.containers.start_service(run, self.sandbox.scope)
        self.store, self._store_ready = run, False
        twin = scaleout.with_secret_files(("docker", *run.argv()), {"AWS_SECRET_ACCESS_KEY": key_file})
        self.say.twin(twin.in_lines(run.twin().breaks))
        self.say.say(f"SeaweedFS started: master, volume server, filer and S3 gateway in one process, S3 at "
                     f"http://127.0.0.1:{run.published(S3_PORT)}, its data in {data}; it accepts writes a few "
                     "seconds from now")
        return run

    def _s3(self, *args: str, path: str = "") -> Twin:
        """``curl`` speaking S3 to the store, signed with its keys (AWS Signature Version 4)."""
        store = self._need("store")
        return scaleout.s3_curl(store.published(S3_PORT), self._secret_file("s3-secret-key"), *args, path=path)

    def _writes(self) -> bool:
        """The store accepts a write: an object put into the bucket (then deleted). Until a volume
        server registered and the master's start-up hold is over, the first write waits or fails."""
        probe = f"{BUCKET}/.reglab-probe"
        body = self._folder("secrets") / "probe"
        body.write_text("reglab\n")  # curl -T: an upload curl signs as S3 expects (--data-binary is refused, 403)
        put = terminal.run(self._s3("-o", "/dev/null", "-w", "%{http_code}", "-m", "60", "-T", str(body),
                                    path=probe))
        if put.text.strip() != "200":
            return False
        terminal.run(self._s3("-o", "/dev/null", "-X", "DELETE", path=probe))
        return True

    def wait_store(self, timeout: float = scaleout.STORE_WAIT) -> None:
        """Wait until the store accepts writes (quietly: before, the registry's first write would fail)."""
        store = self._need("store")
        if self._store_ready:
            return
        deadline = time.monotonic() + timeout
        while not self._writes():
            if time.monotonic() > deadline or self.engine.containers.state(store.name) != "running":
                raise errors.store_not_ready(store.name, timeout)
            time.sleep(0.25)
        self._store_ready = True

    def _weed_shell(self, command: str) -> str:
        """``echo '<command>' | weed shell`` inside the store's container; its output."""
        store = self._need("store")
        argv = ["sh", "-c", f'echo "{command}" | weed shell -master=localhost:{scaleout.MASTER_PORT}']
        self.say.twin(docker("container", "exec", store.name, *argv))
        done = self.engine.containers.exec(store.name, argv)
        if done.exit_code != 0:
            raise errors.bucket_failed(BUCKET, done.output) if "bucket" in command else \
                errors.weed_shell_failed(done.output)
        return done.output

    def create_bucket(self, name: str = BUCKET) -> None:
        """Create the bucket the registry will use (neither registry creates it, and this store is
        told not to either): ``s3.bucket.create`` in SeaweedFS's own shell."""
        output = self._weed_shell(f"s3.bucket.create -name {name}")
        self.say.output(output)
        self.wait_store()  # the first write of a registry must not come before the store takes writes

    def bucket(self, name: str = BUCKET) -> list[str]:
        """The bucket's keys, as the S3 API lists them (``ListObjectsV2``); returns them."""
        self.wait_store()
        twin = self._s3(path=f"{name}?list-type=2") | Twin.of("grep", "-o", "<Key>[^<]*") | Twin.of("cut", "-c6-")
        self.say.twin(twin)
        text = terminal.run(twin).text
        self.say.output(text)
        keys = text.split()
        self.say.explain(f"{count(len(keys), 'object')} in the bucket {name}, each named by a key that is a path")
        return keys

    # ------------------------------------------------------------------ the tree as object keys

    def compare_with_folder(self, reference: str, port: int | None = None) -> list[str]:
        """Push the same image to a registry that keeps its data in a folder (notebook 02) and list
        its files: the same paths as the bucket's keys."""
        balancer = self._need("balancer")
        ref = parse(reference)
        folder_registry = self.registries.run(port=port or balancer.port + 9, bind="registry-on-disk",
                                              name="registry-on-disk", current=False, image=self.image)
        local = folder_registry.ref(ref.repository, ref.tag_or_default)
        self.say.twin(docker("image", "tag", ref.tagged, local))
        self.engine.images.tag(ref.tagged, local)
        self.sandbox.record_tag(parse(local).tagged)
        self.say.twin(docker("image", "push", local))
        self.engine.images.push(local)
        twin = Twin.of("find", str(folder_registry.bind), "-type", "f") | Twin.of("sort")
        self.say.twin(twin)
        text = terminal.run(twin).text
        self.say.output(text)
        top = str(folder_registry.bind) + "/"
        return [line[len(top):] for line in text.splitlines() if line.startswith(top)]

    def same_layout(self, keys: list[str], files: list[str]) -> bool:
        """Say whether the bucket's keys and the folder's files are the same paths."""
        same = sorted(keys) == sorted(files)
        if same:
            self.say.explain(f"the same {count(len(keys), 'path')}: the bucket holds the registry's tree, "
                             "each file an object whose key is its path")
        else:
            only = sorted(set(keys) ^ set(files))
            self.say.explain(f"they differ in {count(len(only), 'path')}, e.g. {only[0]}")
        return same
