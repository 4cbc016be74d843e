"""`make test` on a learner's own machine: the Docker daemon also holds the learner's own objects —
a tag of hello-world's image (``docker tag hello-world mine:1``), the container ``docker run
hello-world`` leaves, an image of their own and one that lost its tag, a volume, a container using it,
a network — none labelled by reglab.

The tests that remove or count images run here, nested (a pytest of their own on this daemon), beside
such objects — once with a tag of hello-world's image among them, once with only the container (the
commonest case: then Docker refuses to remove hello-world's last name): they pass, the notebook runs
whose committed outputs need hello-world's image to be the course's alone (01 and 02 remove
hello-world) are skipped saying why (conftest.py), and afterwards every object of the learner's is
still there, unchanged.
"""

import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

import docker
import pytest

from reglab.config import Settings

ROOT = Path(__file__).resolve().parent.parent
# the tests that remove or count images and containers, or compare what hello-world's removal prints
NESTED = [
    "tests/test_failures.py::test_image_in_use_and_stopped_registry",
    "tests/test_seed_flow.py::test_run_tag_push_remove_pull",
    "tests/test_seed_flow.py::test_cleanup_leaves_nothing",
    "tests/test_twins_print.py::test_image_table_is_what_docker_image_ls_prints",
    "tests/test_twins_print.py::test_cleanup_removes_an_image_the_lab_loaded_that_lost_its_tag[docker]",
    "labs/solutions/01-run-push-pull.ipynb",
    "notebooks/01-run-your-own-registry.ipynb",
    "tests/test_notebooks.py::test_notebook_passes_with_port_5000_taken_and_leaves_nothing"
    "[01-run-your-own-registry-docker]",
]
SKIPPED = ["notebooks/01-run-your-own-registry.ipynb", "tests/test_notebooks.py:"]  # where -rs reports them


def _state(client, made: dict) -> dict:
    """What the learner's objects are now: ids, names, tags, states, mounts."""
    out = {}
    for name, image_id in made["images"].items():
        image = client.images.get(image_id)
        out[f"image {name}"] = (image.id, sorted(t for t in image.tags if t in made["tags"]))
    for name in made["containers"]:
        c = client.containers.get(name)
        out[f"container {name}"] = (c.id, c.attrs["Image"], c.status, [m.get("Name") for m in c.attrs["Mounts"]])
    for name in made["volumes"]:
        out[f"volume {name}"] = client.volumes.get(name).attrs["CreatedAt"]
    for name in made["networks"]:
        out[f"network {name}"] = client.networks.get(name).id
    return out


@pytest.fixture(params=["their tag and container", "their container only"])
def learners_objects(engine, request):
    """A learner's own objects on this daemon, none labelled by reglab; removed afterwards. With a tag
    of hello-world's image of theirs, or only the container ``docker run hello-world`` left (then
    Docker refuses to remove hello-world's last name)."""
    from reglab import images

    images.ensure(engine, ("hello",))  # a notebook run earlier on this daemon may have removed hello-world
    client = docker.from_env()
    mine = f"mine-{secrets.token_hex(3)}"
    hello = client.images.get(Settings.from_env().hello_image)
    tagged = request.param == "their tag and container"
    made = {"tags": [f"{mine}:1", f"{mine}/committed:1"] if tagged else [f"{mine}/committed:1"], "images": {},
            "containers": [], "volumes": [], "networks": [], "tagged": tagged}
    try:
        if tagged:
            hello.tag(mine, "1")
        made["images"]["hello-world"] = hello.id
        ran = client.containers.run(hello.id, name=f"{mine}-hello", detach=True)  # docker run hello-world
        ran.wait(timeout=60)
        made["containers"].append(ran.name)
        made["images"]["their own"] = ran.commit(f"{mine}/committed", "1").id
        made["images"]["theirs, untagged"] = ran.commit(conf={"Labels": {"mine": mine}}).id
        volume = client.volumes.create(f"{mine}-data")
        made["volumes"].append(volume.name)
        made["containers"].append(client.containers.create(Settings.from_env().registry_image, name=f"{mine}-registry",
                                                           volumes={volume.name: {"bind": "/var/lib/registry"}}).name)
        made["networks"].append(client.networks.create(f"{mine}-net").name)
        yield client, made
    finally:
        for name in made["containers"]:
            client.containers.get(name).remove(force=True)
        for name in made["networks"]:
            client.networks.get(name).remove()
        for name in made["volumes"]:
            client.volumes.get(name).remove()
        for image_id in list(made["images"].values())[1:]:
            client.images.remove(image_id, force=True)
        if tagged:
            client.images.remove(f"{mine}:1")  # a tag only: hello-world's image stays the course's


def test_the_tests_that_remove_or_count_images_pass_beside_a_learners_own_objects(learners_objects, capsys):
    client, made = learners_objects
    before = _state(client, made)
    started = time.monotonic()
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:randomly", *NESTED],
                         capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=900)
    seconds = time.monotonic() - started
    assert run.returncode == 0, run.stdout[-4000:]
    summary = run.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"=* ?\d+ passed, \d+ skipped in [\d.]+s.*", summary), summary
    # the notebooks that remove hello-world are skipped, saying what of the learner's holds its image
    mine = made["containers"][0].removesuffix("-hello")
    theirs = ([f"the tag {mine}:1"] if made["tagged"] else []) + [f"the container {mine}-hello"]
    skips = [line for line in run.stdout.splitlines() if line.startswith("SKIPPED")]
    where = [re.match(r"SKIPPED \[\d+\] (\S+)", line).group(1) for line in skips]
    assert len(where) == len(SKIPPED) and all(w.startswith(s) for w, s in zip(sorted(where), sorted(SKIPPED))), skips
    assert all(all(what in line for what in theirs) for line in skips), skips
    # and the learner's objects are all still there, unchanged
    assert _state(client, made) == before
    assert client.images.get(Settings.from_env().hello_image).id == made["images"]["hello-world"]
    with capsys.disabled():
        print(f"\nbeside a learner's objects ({'their tag' if made['tagged'] else 'no tag'}): "
              f"{summary.strip('= ')} (nested, {seconds:.0f} s)")
