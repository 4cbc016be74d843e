""""The stand-ins give the same digests everywhere, which is what the committed outputs show"
(README, binder/start), made a test rather than a claim.

The sanitizer masks neither digests nor image IDs (nbval compares them in full, under both
engines); these tests say where they come from. The hello-world stand-in is built now (byte by byte, no compiler:
:mod:`reglab.elf`); its image ID is computed here with hashlib straight from the archive's
config, and its manifest digest is what the daemonless engine computes when it stores the image
as ``docker push`` sends it. Both must be exactly the ones the committed notebooks show — and
those were printed by the *Docker* engine, so the daemonless engine and Docker agree on them.
A changed recipe, greeting or compression fails here until the notebooks are re-executed."""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
from pathlib import Path

from reglab import images
from reglab.oci import ImageStore

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
HELLO_ONLY = ["01-run-your-own-registry", "02-keep-your-images-with-volumes", "05-secure-your-registry"]


def _printed(stem: str) -> str:
    nb = json.loads((NOTEBOOKS / f"{stem}.ipynb").read_text())
    return "".join("".join(o.get("text", "")) for c in nb["cells"] if c["cell_type"] == "code"
                   for o in c.get("outputs", []))


def _config_digest(archive: bytes) -> str:
    """The image ID as Docker computes it: the sha256 of the config file's bytes."""
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        [entry] = json.load(tar.extractfile("manifest.json"))
        return "sha256:" + hashlib.sha256(tar.extractfile(entry["Config"]).read()).hexdigest()


def test_hello_world_image_id_shown_is_the_stand_in_built_now():
    ident = _config_digest(images.hello_standin_archive("hello-world:latest"))
    for stem in HELLO_ONLY:
        shown = set(re.findall(r"(?<=image )[0-9a-f]{12}\b|(?<=   )[0-9a-f]{12}(?=   )", _printed(stem)))
        assert shown == {ident[7:19]}, f"{stem} shows {shown}, the stand-in built now is {ident[7:19]}: make notebooks"


def test_hello_world_manifest_digest_shown_is_the_daemonless_engines(tmp_path):
    store = ImageStore(tmp_path / "store")
    store.import_docker_archive(images.hello_standin_archive("hello-world:latest"))
    pushed = store.find("hello-world:latest").manifest_digest  # as docker push sends it (Go's gzip)
    printed = _printed("01-run-your-own-registry")
    assert f"manifest digest {pushed}" in printed, "notebook 01's push shows another digest: make notebooks"
    assert f"digest {pushed}" in printed.split("pulled ", 1)[1]  # and its pull back, the same
    before_crane = printed.split("$ docker image load", 1)[0]  # step 7 pushes an image of its own (motd)
    assert set(re.findall(r"sha256:[0-9a-f]{64}", before_crane)) == {pushed}


def _rules() -> list[tuple[re.Pattern, str]]:
    """tests/sanitize.cfg as nbval reads it: ``regex:`` / ``replace:`` pairs, applied in order."""
    lines = (ROOT / "tests" / "sanitize.cfg").read_text().splitlines()
    regexes = [line[len("regex: "):] for line in lines if line.startswith("regex: ")]
    replaces = [line[len("replace: "):] for line in lines if line.startswith("replace: ")]
    assert len(regexes) == len(replaces)
    return [(re.compile(r), s) for r, s in zip(regexes, replaces)]


def _sanitized(text: str) -> str:
    from port_numbers import number_ports

    for regex, replacement in _rules():
        text = regex.sub(replacement, text)
    return number_ports(text)


def test_the_sanitizer_hides_only_what_varies():
    """Housekeeping lines go only when a line starts with them; the daemonless engine's line goes
    only word for word (another line of that engine stays, and fails the comparison); the greeting
    and the twins stay as they are, but for their port."""
    from reglab.engines.local import NO_RUNTIME

    greeting = images.hello_greeting()
    assert _sanitized(greeting) == greeting
    assert _sanitized("(reglab) hello-world (offline stand-in): built\n") == ""
    assert _sanitized("pushed it (reglab) somewhere\n") == "pushed it (reglab) somewhere\n"  # not anchored: kept
    daemonless = f"{NO_RUNTIME}; this is what Docker prints:\n{greeting}"
    assert _sanitized(daemonless) == greeting  # the two engines' outputs compare equal, and only so
    other = f"{NO_RUNTIME}; with Docker, this step runs htpasswd inside registry:2\n"
    assert _sanitized(other) == other  # another engine difference is not hidden
    assert _sanitized("(reglab) the registry came back at 172.18.0.3:5000, not 172.18.0.2:5000\n") != ""
    networks = "(reglab) the daemonless engine has no container networks: a folder stands for reglab-05-net"
    assert _sanitized(networks + ", and a registry reached on it listens on the IPv6 loopback [::1]\n") == ""
    assert _sanitized(networks + ", and on 127.0.0.1\n").startswith("(reglab) ")  # other words: kept, compared
    digest = "manifest digest sha256:" + "ab" * 32 + "\n"
    assert _sanitized(digest) == digest  # digests are compared in full: they are the same everywhere
    assert _sanitized("ab" * 32 + "\r\n") == "CONTAINERID\r\n"  # what docker run -d prints, random
    twin = "$ docker container run -d -p 127.0.0.1:5000:5000 --name reglab-01-registry registry:2\n"
    assert _sanitized(twin) == twin.replace(":5000:", ":PORT1:", 1)
    two = "hub 127.0.0.1:5000, cache 127.0.0.1:5001, hub again 127.0.0.1:5000\n"
    assert _sanitized(two) == "hub 127.0.0.1:PORT1, cache 127.0.0.1:PORT2, hub again 127.0.0.1:PORT1\n"
    assert _sanitized(two.replace("5000", "5003")) == _sanitized(two)  # other ports, same roles: equal
    assert _sanitized(two.replace("5001", "5000", 1)) != _sanitized(two)  # the cache named as the hub: not


def test_notebook_04s_synthetic_images_have_the_digests_docker_printed(tmp_path):
    """Large random layers: the daemonless engine gzips them as Docker's push does (Go's
    compress/gzip, level 6, :mod:`reglab.dockergzip`), so app:v1 and app:v5 have, under both
    engines, the manifest digests the Docker engine printed in notebook 04 (its DELETE of app:v1
    and its pull of app:v5)."""
    series = images.growth_series("127.0.0.1:5000", versions=6, second_app_versions=2)  # as the notebook
    store = ImageStore(tmp_path / "store")
    store.import_docker_archive(images.docker_archive(series))
    printed = _printed("04-storage-growth-and-garbage-collection")
    v1 = store.find("127.0.0.1:5000/app:v1").manifest_digest
    v5 = store.find("127.0.0.1:5000/app:v5").manifest_digest
    assert f"refuses to delete app@{v1} (405)" in printed
    assert f"pulled 127.0.0.1:5000/app:v5 from 127.0.0.1:5000: 1 layer downloaded, 1 already here; digest {v5}" in printed
