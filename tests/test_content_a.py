"""Lab sheets 01–05 and the image check against the WRONG work a learner plausibly does.

Each test sets a sheet up for a learner of its own, applies wrong work the way a learner types
it (the docker CLI — under the daemonless engine, the sheet's own ``docker`` — and curl, rm), and
asserts the check says ``✘`` with a message naming what is wrong; then the right work, ``✔``;
and at the end every check again, still ``✔``. With nothing running, each check that talks to
a registry says first that nothing answers there. Both engines.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from reglab import checks, images
from reglab.config import Settings
from reglab.engines import get_engine
from reglab.tasks import start

ENGINES = [pytest.param("docker", marks=pytest.mark.docker), pytest.param("local", marks=pytest.mark.daemonless)]


@pytest.fixture(params=ENGINES)
def engine_kind(request):
    return request.param


def _engine(kind: str, learner: str):
    settings = Settings.from_env().but(learner=learner)
    engine = get_engine(kind, settings=settings)
    images.ensure(engine, settings=settings)
    return engine


@pytest.fixture
def sheet_of(engine_kind):
    """``sheet_of("lab-01")``: the sheet set up for a learner of this test's own, on this engine;
    cleaned up after, nothing of it left."""
    made = []

    def make(lab: str):
        learner = f"t-ca-{lab[-2:]}-{engine_kind[0]}"
        engine = _engine(engine_kind, learner)
        sheet = start(lab, engine=engine, echo=False, settings=engine.settings)
        made.append(sheet)
        return sheet

    yield make
    for sheet in made:
        sheet.lab.echo = False
        sheet.cleanup()
        assert sheet.leftovers() == []


def sh(sheet, command: str, ok: bool = True) -> str:
    """Run ``command`` in ``sh`` as the learner's terminal would: ``docker`` is the engine's (the real
    CLI at DOCKER_HOST, or the sheet's daemonless one)."""
    env = dict(os.environ, **sheet.lab.settings.environment())
    if sheet.shell.path:
        env["PATH"] = f"{sheet.shell.path}{os.pathsep}{env['PATH']}"
    done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, env=env, timeout=300, check=False)
    if ok:
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
    return done.stdout + done.stderr


def wait(address: str) -> None:
    subprocess.run(["curl", "-s", "-o", "/dev/null", "--retry", "20", "--retry-delay", "1", "--retry-all-errors",
                    f"http://{address}/v2/"], check=False, timeout=60)


def result(task) -> tuple[bool, str]:
    outcome = task.result()
    return outcome.ok, str(outcome)


def assert_wrong(task, *words: str) -> None:
    ok, text = result(task)
    assert not ok and text.startswith("✘"), text
    for word in words:
        assert word in text, text


def assert_done(task) -> None:
    ok, text = result(task)
    assert ok and text.startswith("✔"), text


# ----------------------------------------------------------------------------- issue 22 item 1


@pytest.mark.parametrize("damage", ["removed", "truncated"])
def test_image_check_fetches_every_blob(engine_kind, damage):
    """A layer's ``data`` file removed (or cut short) under a running registry on a bind mount: HEAD
    still answers 200 from the registry's cache, the image check GETs and hashes every blob: ✘."""
    engine = _engine(engine_kind, f"t-ca-blob-{engine_kind[0]}")
    from reglab import Lab

    lab = Lab("t-ca-blob", engine=engine, echo=False, settings=engine.settings)
    try:
        registry = lab.run_registry(bind="data")
        lab.tag("hello-world", registry.ref("hello-world"))
        lab.push(registry.ref("hello-world"))
        assert checks.image_in_registry(registry, "hello-world")
        layer = registry.api.manifest("hello-world", "latest").layers[0]
        data = registry.bind / "docker/registry/v2/blobs/sha256" / layer[7:9] / layer[7:] / "data"
        assert data.is_file()
        if damage == "removed":
            data.unlink()
        else:
            data.write_bytes(data.read_bytes()[:10])
        assert registry.api.blob_head("hello-world", layer).size > 10  # HEAD: the cache still says yes
        broken = checks.image_in_registry(registry, "hello-world")
        assert not broken and str(broken).startswith("✘"), broken
        assert "cannot serve whole" in str(broken) and layer[7:19] in str(broken), broken
    finally:
        lab.cleanup()


# ----------------------------------------------------------------------------- lab 01


def test_lab_01_wrong_work(sheet_of, engine_kind):
    sheet = sheet_of("lab-01")
    q1, q2, q3, q4 = sheet.q1, sheet.q2, sheet.q3, sheet.q4
    # nothing of the learner's runs: the first real problem
    assert_wrong(q1, "nothing answers at " + sheet.address)
    assert_wrong(q2, f"nothing answers at {sheet.address}")
    assert_wrong(q3, f"nothing answers at {sheet.address}")
    assert_wrong(q4, f"there is no container {sheet.hello}")

    port = sheet.address.rsplit(":", 1)[1]
    if engine_kind == "docker":  # published on every address (the daemonless engine publishes on loopback only)
        sh(sheet, f"docker container run -d --name {sheet.registry} -p {port}:5000 registry:3")
        wait(sheet.address)
        assert_wrong(q1, "on every address", f"-p {sheet.address}:5000")
        sh(sheet, f"docker container rm -f -v {sheet.registry}")
    sh(sheet, f"docker container run -d --name {sheet.registry} -p {sheet.address}:5000 registry:3")
    wait(sheet.address)
    assert_done(q1)

    # another image under hello:v1: the team's motd
    sh(sheet, f"docker image pull {sheet.team}/team/motd:1.0")
    sh(sheet, f"docker image tag {sheet.team}/team/motd:1.0 {sheet.address}/hello:v1")
    sh(sheet, f"docker image push {sheet.address}/hello:v1")
    assert_wrong(q2, "hello:v1 is another image", "not hello-world")
    # the run of a wrong image, and hello-world itself instead of the registry's name
    sh(sheet, f"docker container run --name {sheet.hello} hello-world")
    assert_wrong(q4, "ran the image hello-world", f"not {sheet.address}/hello:v1")
    sh(sheet, f"docker container rm {sheet.hello}")
    sh(sheet, f"docker image tag hello-world {sheet.address}/hello:v1")
    sh(sheet, f"docker image push {sheet.address}/hello:v1")
    assert_done(q2)

    # another image as motd:1.0
    sh(sheet, f"docker image tag hello-world {sheet.address}/motd:1.0")
    sh(sheet, f"docker image push {sheet.address}/motd:1.0")
    assert_wrong(q3, "not the team's")
    sh(sheet, f"docker image tag {sheet.team}/team/motd:1.0 {sheet.address}/motd:1.0")
    sh(sheet, f"docker image push {sheet.address}/motd:1.0")
    assert_done(q3)

    sh(sheet, f"docker container run --name {sheet.hello} {sheet.address}/hello:v1")
    assert_done(q4)
    for task in (q1, q2, q3, q4):  # every check again, after the later tasks
        assert_done(task)


# ----------------------------------------------------------------------------- lab 02


def test_lab_02_wrong_work(sheet_of, engine_kind):
    sheet = sheet_of("lab-02")
    q1, q2, q3, q4, q5 = sheet.q1, sheet.q2, sheet.q3, sheet.q4, sheet.q5
    assert_wrong(q3, f"nothing answers at {sheet.address}")
    assert_wrong(q4, f"nothing answers at {sheet.address}")
    assert_wrong(q2, f"nothing answers at {sheet.address}")
    assert_wrong(q5, f"nothing answers at {sheet.opened_address}")

    other = sheet.volume + "-x"
    sh(sheet, f"docker volume create {other}")
    assert_wrong(q1, f"there is no volume {sheet.volume}")
    sh(sheet, f"docker volume rm {other}")
    sh(sheet, f"docker volume create {sheet.volume}")
    assert_done(q1)

    sh(sheet, f"docker container run -d --name {sheet.registry} -p {sheet.address}:5000 registry:3")
    wait(sheet.address)
    assert_wrong(q2, "not in the volume " + sheet.volume)
    sh(sheet, f"docker container rm -f -v {sheet.registry}")
    sh(sheet, f"docker container run -d --name {sheet.registry} -p {sheet.address}:5000 "
              f"-v {sheet.volume}:/var/lib/registry registry:3")
    wait(sheet.address)
    assert_done(q2)

    # another image under hello:v1
    sheet.lab.make_image(f"{sheet.address}/hello:v1", [("not-hello.bin", 1_000)], seed="t-ca")
    sh(sheet, f"docker image push {sheet.address}/hello:v1")
    assert_wrong(q3, "hello:v1 is another image", "not hello-world")
    sh(sheet, f"docker image tag hello-world {sheet.address}/hello:v1")
    sh(sheet, f"docker image push {sheet.address}/hello:v1")
    assert_done(q3)

    # the replacement, pushed to again: what it serves may not come from the volume
    sh(sheet, f"docker container rm -f -v {sheet.registry}")
    sh(sheet, f"docker container run -d --name {sheet.replacement} -p {sheet.address}:5000 "
              f"-v {sheet.volume}:/var/lib/registry registry:3")
    wait(sheet.address)
    sh(sheet, f"docker image push {sheet.address}/hello:v1")
    assert_wrong(q4, "log shows hello:v1 pushed to it", "without a push")
    sh(sheet, f"docker container rm -f -v {sheet.replacement}")
    sh(sheet, f"docker container run -d --name {sheet.replacement} -p {sheet.address}:5000 "
              f"-v {sheet.volume}:/var/lib/registry registry:3")
    wait(sheet.address)
    assert_done(q4)

    # a bind mount written by root, not by the learner
    sh(sheet, f"docker container run -d --name {sheet.opened} -p {sheet.opened_address}:5000 "
              f"-v {sheet.folder}:/var/lib/registry registry:3")
    wait(sheet.opened_address)
    sh(sheet, f"docker image tag hello-world {sheet.opened_address}/hello:v1")
    sh(sheet, f"docker image push {sheet.opened_address}/hello:v1")
    if os.getuid() == 0:  # as root, "yours" needs --user (else any file it writes is root's)
        assert_wrong(q5, "--user")
    sh(sheet, f"docker container rm -f -v {sheet.opened}")
    sh(sheet, f'docker container run -d --name {sheet.opened} -p {sheet.opened_address}:5000 '
              f'--user "$(id -u):$(id -g)" -v {sheet.folder}:/var/lib/registry registry:3')
    wait(sheet.opened_address)
    sh(sheet, f"docker image push {sheet.opened_address}/hello:v1")
    assert_done(q5)
    for task in (q1, q2, q3, q4, q5):  # task 2's registry lives on in task 4's replacement
        assert_done(task)


# ----------------------------------------------------------------------------- lab 03


def test_lab_03_wrong_work(sheet_of, engine_kind):
    sheet = sheet_of("lab-03")
    q1, q2 = sheet.q1, sheet.q2
    assert_wrong(q1, "keeps its data inside the container")
    sh(sheet, f"docker image pull {sheet.address}/app:1.0")
    sh(sheet, f"docker image pull {sheet.address}/app:1.1")
    sh(sheet, f"docker container rm -f {sheet.registry}")  # without -v: the anonymous volume stays
    if engine_kind == "docker":
        assert_wrong(q2, "anonymous volume", "still exists")
    sh(sheet, f"docker container run -d --name {sheet.registry} -p {sheet.address}:5000 "
              f"-v {sheet.volume}:/var/lib/registry registry:3")
    wait(sheet.address)
    assert_wrong(q1, "it has no app:1.0")
    sh(sheet, f"docker image tag {sheet.address}/app:1.1 {sheet.address}/app:1.0")  # 1.1's image as 1.0
    sh(sheet, f"docker image push {sheet.address}/app:1.0")
    sh(sheet, f"docker image push {sheet.address}/app:1.1")
    assert_wrong(q1, "app:1.0 is another image", "not the team's app:1.0")
    sh(sheet, f"docker image rm {sheet.address}/app:1.0")
    sh(sheet, f"docker image pull {sheet.address}/app:1.1")
    # the team's 1.0 is gone from the registry: only a copy kept elsewhere brings it back (the set-up's)
    team = sheet.lab.make_image(f"{sheet.address}/app:1.0", [("srv/app.bin", 10_010)], seed="lab-03-1.0")
    sh(sheet, f"docker image push {team}")
    assert_done(q1)
    if engine_kind == "docker":
        anonymous = sheet.anonymous.source
        sh(sheet, f"docker volume rm {anonymous}")
    assert_done(q2)
    assert_done(q1)


# ----------------------------------------------------------------------------- lab 04


def test_lab_04_wrong_work(sheet_of, engine_kind):
    sheet = sheet_of("lab-04")
    q1, q2 = sheet.q1, sheet.q2
    old = sheet.old
    assert_wrong(q1, f"there is no container {sheet.registry}")
    assert_wrong(q2, f"{old} still exists")
    sh(sheet, f"docker container rm -f {old}")  # without -v
    if engine_kind == "docker":
        assert_wrong(q2, "anonymous volume", "docker volume rm")
        sh(sheet, f"docker volume rm {sheet.anonymous.source}")
    assert_done(q2)
    # the team's registry without its volume
    sh(sheet, f"docker container run -d --name {sheet.registry} -p {sheet.address}:5000 registry:3")
    wait(sheet.address)
    assert_wrong(q1, f"does not use the volume {sheet.volume}")
    sh(sheet, f"docker container rm -f -v {sheet.registry}")
    sh(sheet, f"docker container run -d --name {sheet.registry} -p {sheet.address}:5000 "
              f"-v {sheet.volume}:/var/lib/registry registry:3")
    wait(sheet.address)
    assert_done(q1)
    assert_done(q2)


# ----------------------------------------------------------------------------- lab 05


def curl(*args: str) -> str:
    return subprocess.run(["curl", "-s", *args], capture_output=True, text=True, check=True, timeout=60).stdout


def test_lab_05_wrong_work(sheet_of, engine_kind):
    sheet = sheet_of("lab-05")
    q1, q2, q3, q4 = sheet.q1, sheet.q2, sheet.q3, sheet.q4
    url = f"http://{sheet.address}/v2"
    accept = "Accept: application/vnd.docker.distribution.manifest.v2+json"
    assert_wrong(q1, "it has no sibling:v1")
    sh(sheet, f"docker image push {sheet.address}/sibling:v1")
    assert_done(q1)

    # a retag whose bytes are not v1's: the same JSON, indented
    body = json.loads(curl("-H", accept, f"{url}/layered/manifests/v1"))
    request = urllib.request.Request(f"{url}/layered/manifests/stable", data=json.dumps(body, indent=2).encode(),
                                     method="PUT", headers={"Content-Type": body["mediaType"]})
    urllib.request.urlopen(request, timeout=30).close()
    assert_wrong(q2, "not v1's manifest", "exact bytes")
    sh(sheet, f"curl -s -H '{accept}' {url}/layered/manifests/v1 | curl -sS -X PUT -H "
              f"'Content-Type: application/vnd.docker.distribution.manifest.v2+json' --data-binary @- "
              f"{url}/layered/manifests/stable")
    assert_done(q2)

    # a mount from a repository that does not have the blob: an upload starts, nothing is linked
    base = body["layers"][0]["digest"]
    curl("-X", "POST", f"{url}/base/blobs/uploads/?mount={base}&from=nothing")
    assert_wrong(q3, "base has no link")
    curl("-X", "POST", f"{url}/base/blobs/uploads/?mount={base}&from=layered")
    assert_done(q3)
    assert_done(q1)  # task 3 linked the base layer a third time: task 1 still holds

    # the tag removed by hand, behind the registry's back
    tags = Path(sheet.folder) / "docker/registry/v2/repositories/layered/_manifests/tags"
    shutil.rmtree(tags / "old")
    assert_wrong(q4, "not through the API", "DELETE")
    sh(sheet, f"curl -s -H '{accept}' {url}/layered/manifests/v1 | curl -sS -X PUT -H "
              f"'Content-Type: application/vnd.docker.distribution.manifest.v2+json' --data-binary @- "
              f"{url}/layered/manifests/old")
    assert_wrong(q4, "still lists the tag old")
    assert "202 Accepted" in sh(sheet, f"curl -si -X DELETE {url}/layered/manifests/old")
    assert_done(q4)
    for task in (q1, q2, q3, q4):
        assert_done(task)

    # a delete by digest takes v1 (and stable) with it
    digest = checks.digest_of(sheet.address, "layered", "v1")
    curl("-X", "DELETE", f"{url}/layered/manifests/{digest}")
    assert_wrong(q4, "layered:v1 is gone too")

    # nothing running at all: each check says so first
    sheet.engine.containers.kill(sheet.registry)
    for task in (q1, q2, q3, q4):
        assert_wrong(task, f"nothing answers at {sheet.address}")


# ----------------------------------------------------------------------------- "Your turn" in notebooks 01–03

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PRACTICE = re.compile(r"^practice\.q(\d+)\.check\(\)$")

# wrong work a learner plausibly does instead of each task, typed in the notebook's kernel, then
# the check again: (notebook, task, code, words the ✘ must say); "docker" rows only where they apply
WRONG = [
    ("01", 1, "!docker image tag {registry.address}/motd:docker {registry.address}/hello-world:v2\n"
              "!docker image push --quiet {registry.address}/hello-world:v2", None, "another image"),
    ("01", 2, "!docker image pull --quiet {registry.address}/motd:crane\n"
              "!docker image tag {registry.address}/motd:crane {registry.address}/backup/motd:crane\n"
              "!docker image push --quiet {registry.address}/backup/motd:crane", "docker", "wrote its own manifest"),
    ("01", 3, "!docker container run --name {practice.pinned} {registry.address}/hello-world", None,
     "a digest cannot"),
    ("02", 1, "!docker image tag {registry.address}/hello-world {registry.address}/hello-world:v3", None,
     "no tag folder hello-world/_manifests/tags/v2"),
    ("02", 2, "!docker container rm -f -v {practice.registry}\n"
              "!docker container run -d --name {practice.registry} -p {registry.address}:5000 registry:3", None,
     "does not keep its data in"),
    ("03", 1, "!docker image tag {registry.address}/sibling:v1 {registry.address}/copy:v1\n"
              "!docker image push --quiet {registry.address}/copy:v1", None, "not layered:v1's manifest"),
    ("03", 2, "import shutil\nshutil.rmtree(f'{registry.bind}/docker/registry/v2/repositories/alpha/_manifests/tags/latest')",
     None, "not by hand"),
]


def _kernel_run(client, code: str) -> str:
    printed = []

    def keep(msg):
        if msg["msg_type"] == "stream":
            printed.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            printed.append("\n".join(msg["content"]["traceback"]))
        elif msg["msg_type"] in ("execute_result", "display_data"):
            printed.append(msg["content"]["data"].get("text/plain", ""))

    reply = client.execute_interactive(code, timeout=300, output_hook=keep)
    assert reply["content"]["status"] == "ok", f"{code[:80]!r} failed: {''.join(printed)[-2000:]}"
    return "".join(printed)


@pytest.mark.parametrize("number", ["01", "02", "03"])
def test_practice_unsolved_says_what_is_missing_and_wrong_work_fails(engine_kind, number, tmp_path):
    """The notebook run as a learner who skips every "Your turn" (its hidden solution cells left out):
    each practice check prints one ✘ and no ✔; then each task's plausible wrong work, typed in the
    same kernel, is ✘ with what is wrong; after the notebook's clean-up nothing is left."""
    import nbformat
    from jupyter_client.manager import start_new_kernel

    path = next(NOTEBOOKS.glob(f"{number}-*.ipynb"))
    learner = f"t-ca-p{number}-{engine_kind[0]}"
    env = dict(os.environ, REGLAB_ENGINE=engine_kind, REGLAB_LEARNER=learner)
    if engine_kind == "local":
        env["DOCKER_HOST"] = f"unix://{tmp_path}/no-docker.sock"
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(NOTEBOOKS), startup_timeout=300)
    try:
        checked = {}
        cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
        cleanup = next((i for i, c in enumerate(cells) if c.source.strip() == "removed = lab.cleanup()"), len(cells))
        for cell in cells[:cleanup]:
            if "solution" in cell.metadata.get("tags", []):
                continue
            printed = _kernel_run(client, cell.source)
            if (m := PRACTICE.match(cell.source.strip())):
                checked[int(m.group(1))] = printed.strip().splitlines()
        assert sorted(checked) == list(range(1, len(checked) + 1)) and len(checked) >= 2, checked
        for task, lines in checked.items():
            assert len(lines) == 1 and lines[0].startswith(f"✘ Task {task} · "), lines
        for nb, task, code, only, words in WRONG:
            if nb != number or (only and only != engine_kind):
                continue
            _kernel_run(client, code)
            again = _kernel_run(client, f"practice.q{task}.check()").strip()
            assert again.startswith(f"✘ Task {task} · ") and words in again, (code, again)
        _kernel_run(client, "removed = lab.cleanup()")
        left = _kernel_run(client, "print(lab.check(checks.nothing_left))")
        assert left.startswith("✔"), left
    finally:
        try:  # a failed assertion above left the lab as it was: clear it before the kernel goes
            client.execute_interactive("lab.cleanup()", timeout=120, output_hook=lambda msg: None)
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)


# ----------------------------------------------------------------------------- crane, and what notebook 01 says of it


def test_crane_copy_keeps_the_digest_and_docker_push_of_a_pulled_image(engine_kind):
    """Notebook 01's claims, live: crane copy keeps a manifest's digest across registries; Docker 20.10's
    pull + push of an image crane pushed gives another digest (its own manifest, each layer gzipped
    again), while the daemonless engine pushes the pulled manifest and blobs as they are."""
    from reglab import Lab

    engine = _engine(engine_kind, f"t-ca-crane-{engine_kind[0]}")
    lab = Lab("t-ca-crane", engine=engine, echo=False, settings=engine.settings)
    try:
        team, mine = lab.run_registry(name="team"), lab.run_registry(name="mine")
        lab.make_image(team.ref("motd", "docker"), [("etc/motd", 2_000)], seed="t-ca")
        original = lab.crane.push(team.ref("motd", "docker"), team.ref("motd", "crane"))
        assert original and original == checks.digest_of(team.address, "motd", "crane")
        assert lab.crane.copy(team.ref("motd", "crane"), mine.ref("copied", "crane")) == original
        assert checks.digest_of(mine.address, "copied", "crane") == original
        lab.pull(team.ref("motd", "crane"))
        lab.tag(team.ref("motd", "crane"), mine.ref("pushed", "crane"))
        pushed = lab.push(mine.ref("pushed", "crane")).digest
        assert checks.config_of(mine.address, "pushed", "crane") == checks.config_of(team.address, "motd", "crane")
        if engine_kind == "docker":
            assert pushed != original  # Docker 20.10: its own manifest, the layer gzipped again
        else:
            assert pushed == original  # the daemonless engine: the pulled bytes as they are
    finally:
        lab.cleanup()


@pytest.mark.daemonless
def test_crane_steps_without_crane_say_so_and_go_on(tmp_path, capsys):
    from types import SimpleNamespace

    from reglab.narrator import Narrator
    from reglab.steps.local_images import CraneSteps

    steps = CraneSteps(Narrator(True), None, SimpleNamespace(settings=SimpleNamespace(tools_dir=tmp_path)))
    assert steps.digest("127.0.0.1:5999/hello-world") is None
    assert steps.copy("127.0.0.1:5999/a", "127.0.0.1:5999/b") is None
    printed = capsys.readouterr().out
    assert "$ crane digest 127.0.0.1:5999/hello-world" in printed
    assert "crane is not built here" in printed and "go install github.com/google/go-containerregistry" in printed
