"""Labs 06–10 on registry:3, every check proven against wrong work, live, under both engines.

For each sheet, as a learner of its own: the plausible wrong work (issue 22's first, then one of
ours per task) is done with the same shell commands a learner types — the docker CLI under
Docker, reglab's daemonless ``docker`` without it — and the task's check must say ``✘`` with what
is wrong; then the solution, and ``✔``; every check again after the later tasks (still ``✔``);
and with the registry gone, every check says first that nothing answers there.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import nbformat
import pytest

from reglab.config import Settings
from reglab.engines import get_engine
from reglab.registry_api import RegistryClient
from reglab.tasks import start

ENGINES = [pytest.param("docker", marks=pytest.mark.docker), pytest.param("local", marks=pytest.mark.daemonless)]
ACCEPT_DOCKER = "-H 'Accept: application/vnd.docker.distribution.manifest.v2+json'"
ACCEPT_OCI = "-H 'Accept: application/vnd.oci.image.manifest.v1+json'"
TAGS = "docker/registry/v2/repositories/{repo}/_manifests/tags/{tag}"


@pytest.fixture
def sheet_for(request, tmp_path):
    """``sheet_for(lab)``: the sheet set up for a learner of this test, on the engine the test is
    parametrized with (Docker: the session's daemon); cleaned up, and nothing of it left, after."""
    made = []

    def make(lab: str, kind: str):
        learner = f"t-cb-{kind}"
        if kind == "docker":
            engine = request.getfixturevalue("engine")
            settings = engine.settings.but(learner=learner)
            engine = get_engine("docker", settings=settings)
        else:
            settings = Settings.from_env().but(learner=learner, engine="local")
            engine = get_engine("local", settings=settings)
        sheet = start(lab, engine=engine, echo=False, settings=settings)
        made.append(sheet)
        return sheet

    yield make
    for sheet in made:
        sheet.cleanup()
        assert sheet.leftovers() == []


def sh(sheet, command: str) -> str:
    """Run ``command`` as a ``!`` cell of the sheet would (its names filled in), and return what it printed."""
    done = subprocess.run(["bash", "-c", sheet.shell.prefix(sheet.fill(command))], capture_output=True, text=True,
                          timeout=300)
    return done.stdout + done.stderr


def digest(sheet, repo: str, tag: str, accept: str = ACCEPT_DOCKER) -> str:
    out = sh(sheet, f"curl -sI {accept} http://{{address}}/v2/{repo}/manifests/{tag}")
    return next(line.split()[1] for line in out.splitlines() if line.lower().startswith("docker-content-digest"))


def delete(sheet, repo: str, tag: str, accept: str = ACCEPT_DOCKER) -> None:
    found = digest(sheet, repo, tag, accept)
    sh(sheet, f"curl -sSf -X DELETE http://{{address}}/v2/{repo}/manifests/{found}")


def recreate(sheet, *options: str, folder: str = "{folder}") -> None:
    """The registry recreated on its name and address, as the sheets' solutions do it."""
    sh(sheet, "docker container rm -f -v {registry}")
    sh(sheet, f"docker container run -d --name {{registry}} -p {{address}}:5000 --user \"$(id -u):$(id -g)\" "
              f"-v {folder}:/var/lib/registry {' '.join(options)} registry:3")
    RegistryClient(sheet.address).wait_ready(timeout=30)


def wrong(task, *words: str) -> None:
    result = task.result()
    assert not result.ok, result
    for word in words:
        assert word in result.detail, result


def right(*tasks) -> None:
    for task in tasks:
        result = task.result()
        assert result.ok, result


def nothing_answers(sheet) -> None:
    """With the registry gone, every task's check says so first."""
    sh(sheet, "docker container rm -f -v {registry}")
    for task in sheet.tasks:
        result = task.result()
        assert not result.ok and f"nothing answers at {sheet.address}" in result.detail, result


@pytest.mark.parametrize("kind", ENGINES)
def test_lab_06_garbage_collection(sheet_for, kind, tmp_path):
    """(Task 2, read-only, is a state task 4 undoes: it alone is not ✔ again at the end.)"""
    sheet = sheet_for("lab-06", kind)
    assert not any(task.result().ok for task in sheet.tasks)
    # q1: a tag removed by hand (rm -r of its folder), or by DELETE by tag (registry:3 answers 202), is
    # not a deleted image
    sh(sheet, "rm -r {folder}/" + TAGS.format(repo="app", tag="v1"))
    wrong(sheet.q1, "tag app:v1 is gone but its manifest", "still stored")
    sh(sheet, f"curl -sSf -X DELETE http://{{address}}/v2/app/manifests/{sheet.digests['v1']}")
    assert "202" in sh(sheet, "curl -s -o /dev/null -w '%{{http_code}}' -X DELETE http://{address}/v2/app/manifests/v2")
    wrong(sheet.q1, "tag app:v2 is gone but its manifest", "still stored")
    sh(sheet, f"curl -sSf -X DELETE http://{{address}}/v2/app/manifests/{sheet.digests['v2']}")
    right(sheet.q1)
    # q2: a read-only mount of the folder refuses writes too, but not as maintenance mode
    sh(sheet, "docker container rm -f -v {registry}")
    sh(sheet, "docker container run -d --name {registry} -p {address}:5000 --user \"$(id -u):$(id -g)\" "
              "-v {folder}:/var/lib/registry:ro registry:3")
    wrong(sheet.q2, "maintenance mode" if kind == "docker" else "still accepts pushes")
    recreate(sheet, "-e 'REGISTRY_STORAGE_MAINTENANCE_READONLY=enabled: true'", folder=sheet.folder + "-elsewhere")
    wrong(sheet.q2, f"must keep its data in {sheet.folder}")
    recreate(sheet, "-e 'REGISTRY_STORAGE_MAINTENANCE_READONLY=enabled: true'")
    right(sheet.q2)
    # q3: nothing collected yet
    wrong(sheet.q3, "top layers of app:v1 and app:v2 are still on disk")
    out = sh(sheet, "docker container exec {registry} registry garbage-collect --dry-run /etc/distribution/config.yml")
    assert "blobs marked" in out
    wrong(sheet.q3, "still on disk")
    sh(sheet, "docker container exec {registry} registry garbage-collect /etc/distribution/config.yml")
    right(sheet.q3)
    # q4: still read-only; another image under app:v5; deletes turned off on the way
    wrong(sheet.q4, "still refuses pushes")
    recreate(sheet, "-e REGISTRY_STORAGE_DELETE_ENABLED=false")
    manifest = tmp_path / "v4.json"  # app:v4's manifest, put under the tag v5: another image as app:v5
    manifest.write_text(sh(sheet, f"curl -s {ACCEPT_DOCKER} http://{{address}}/v2/app/manifests/v4"))
    out = sh(sheet, "curl -s -o /dev/null -w '%{{http_code}}' -X PUT -H 'Content-Type: "
                    f"application/vnd.docker.distribution.manifest.v2+json' --data-binary @{manifest} "
                    "http://{address}/v2/app/manifests/v5")
    assert out == "201", out
    wrong(sheet.q4, "app:v5 in the registry is another image")
    sh(sheet, "docker image push {address}/app:v5")
    wrong(sheet.q4, "refuses deletes")
    recreate(sheet)
    right(sheet.q4, sheet.q1, sheet.q3)
    nothing_answers(sheet)


@pytest.mark.parametrize("kind", ENGINES)
def test_lab_07_delete_405_on_registry_3(sheet_for, kind):
    sheet = sheet_for("lab-07", kind)
    out = sh(sheet, "curl -s -X DELETE http://{address}/v2/app/manifests/" + sheet.digests["v1"])
    assert '"code":"UNSUPPORTED"' in out  # the 405, from the team's config on registry:3
    assert not any(task.result().ok for task in sheet.tasks)
    # q1: dropping the team's config turns deletes on (registry:3's own config) — and loses the config
    recreate(sheet)
    wrong(sheet.q1, "no longer reads the team's config")
    # the config edited but the container not restarted: a mounted file is read at start
    recreate(sheet, f"-v {sheet.config}:{sheet.inside}:ro")
    wrong(sheet.q1, "405")
    sh(sheet, "sed -i 's/enabled: false/enabled: true/' {config}")
    wrong(sheet.q1, "405")
    sh(sheet, "docker container restart {registry}")
    right(sheet.q1)
    # q2: the tag folder removed by hand leaves the image
    sh(sheet, "rm -r {folder}/" + TAGS.format(repo="app", tag="v1"))
    wrong(sheet.q2, "tag app:v1 is gone but its manifest")
    sh(sheet, f"curl -sSf -X DELETE http://{{address}}/v2/app/manifests/{sheet.digests['v1']}")
    right(sheet.q2, sheet.q1)
    nothing_answers(sheet)


@pytest.mark.parametrize("kind", ENGINES)
def test_lab_08_oci_manifests_need_their_accept(sheet_for, kind):
    sheet = sheet_for("lab-08", kind)
    out = sh(sheet, "sh {script} app v1")
    assert "deleting app:v1 ()" in out and "404" in out  # the script finds no digest on registry:3
    out = sh(sheet, "curl -s http://{address}/v2/app/manifests/v1")
    assert "OCI manifest found, but accept header does not support OCI manifests" in out
    assert not any(task.result().ok for task in sheet.tasks)
    # q1: the tag folder removed by hand
    sh(sheet, "rm -r {folder}/" + TAGS.format(repo="app", tag="v1"))
    wrong(sheet.q1, "tag app:v1 is gone but its manifest")
    sh(sheet, f"curl -sSf -X DELETE http://{{address}}/v2/app/manifests/{sheet.digests['v1']}")
    right(sheet.q1)
    # q2: app:v2 deleted by hand, the script left as it was
    delete(sheet, "app", "v2", ACCEPT_OCI)
    wrong(sheet.q2, "sends no Accept header")
    # Docker's type only: an OCI manifest still answers 404
    sh(sheet, f"""sed -i "s|curl -sI |curl -sI {ACCEPT_DOCKER} |" {{script}}""")
    wrong(sheet.q2, "does not name the OCI manifest type")
    sh(sheet, f"""sed -i "s|curl -sI |curl -sI {ACCEPT_OCI} |" {{script}}""")
    right(sheet.q2)  # the look-up works now, and app:v2 is gone (by hand, earlier)
    right(sheet.q1, sheet.q2)
    nothing_answers(sheet)


@pytest.mark.parametrize("kind", ENGINES)
def test_lab_08_fixed_script_not_run_yet(sheet_for, kind):
    sheet = sheet_for("lab-08", kind)
    sh(sheet, f"""sed -i "s|curl -sI |curl -sI {ACCEPT_OCI} {ACCEPT_DOCKER} |" {{script}}""")
    wrong(sheet.q2, "finds the right digest now", "app still has the tag v2", "run it")
    assert "deleted app:v2" in sh(sheet, "sh {script} app v2")
    right(sheet.q2)


@pytest.mark.parametrize("kind", ENGINES)
def test_lab_09_disk_not_freed(sheet_for, kind):
    sheet = sheet_for("lab-09", kind)
    assert not any(task.result().ok for task in sheet.tasks)
    # q1: the deleted images' layers removed by hand: their manifests and configs stay
    for layer in (blobs[-1] for blobs in sheet.gone.values()):
        sh(sheet, f"rm -r {{folder}}/docker/registry/v2/blobs/sha256/{layer[7:9]}/{layer[7:]}")
    wrong(sheet.q1, "4 blob(s) of the deleted data:v1 and data:v2")
    recreate(sheet, "-e 'REGISTRY_STORAGE_MAINTENANCE_READONLY=enabled: true'")
    sh(sheet, "docker container exec {registry} registry garbage-collect /etc/distribution/config.yml")
    right(sheet.q1)
    # q2: plain collection keeps the untagged manifest
    wrong(sheet.q2, "untagged manifest keeps its layer")
    sh(sheet, "docker container exec {registry} registry garbage-collect /etc/distribution/config.yml")
    wrong(sheet.q2, "untagged manifest keeps its layer")
    sh(sheet, "docker container exec {registry} registry garbage-collect --delete-untagged /etc/distribution/config.yml")
    right(sheet.q2)
    # q3: still read-only; then writable with deletes turned off
    wrong(sheet.q3, "still refuses pushes")
    recreate(sheet, "-e REGISTRY_STORAGE_DELETE_ENABLED=false")
    wrong(sheet.q3, "refuses deletes")
    recreate(sheet)
    right(sheet.q3, sheet.q1, sheet.q2)
    nothing_answers(sheet)


@pytest.mark.parametrize("kind", ENGINES)
def test_lab_09_collected_while_serving(sheet_for, kind):
    """Collected beside the running registry, without a restart: its cache still says 200."""
    sheet = sheet_for("lab-09", kind)
    layer = sheet.gone["v1"][-1]
    sh(sheet, f"curl -sI http://{{address}}/v2/data/blobs/{layer}")  # someone asks for it: now it is cached
    sh(sheet, "docker container exec {registry} registry garbage-collect --delete-untagged /etc/distribution/config.yml")
    right(sheet.q1, sheet.q2)
    wrong(sheet.q3, "still answers 200", "restart the registry")
    sh(sheet, "docker container restart {registry}")
    right(sheet.q3)


@pytest.mark.parametrize("kind", ENGINES)
def test_lab_10_stale_cache(sheet_for, kind):
    sheet = sheet_for("lab-10", kind)
    layer = sheet.old
    assert "200" in sh(sheet, f"curl -s -o /dev/null -w '%{{{{http_code}}}}' -I http://{{address}}/v2/scratch/blobs/{layer}")
    assert not any(task.result().ok for task in sheet.tasks)
    # q1: pushing again does not help; a registry on an empty folder forgets — and loses tools:v1
    sh(sheet, "docker image push {address}/scratch:v1")
    wrong(sheet.q1, "still answers 200")
    recreate(sheet, folder=sheet.folder + "-new")
    wrong(sheet.q1, "tools:v1 is not served whole")
    recreate(sheet)
    right(sheet.q1)
    # q2: another image pushed as scratch:v1
    sh(sheet, "docker image tag {address}/tools:v1 {address}/scratch:v1")
    sh(sheet, "docker image push {address}/scratch:v1")
    wrong(sheet.q2, "scratch:v1 in the registry is another image")
    from reglab.tasks.fix_cache import scratch_image

    sheet.lab.load_images([scratch_image(sheet.address, "v1")])
    sh(sheet, "docker image push {address}/scratch:v1")
    right(sheet.q2, sheet.q1)
    nothing_answers(sheet)


NOTEBOOK_04 = Path(__file__).resolve().parent.parent / "notebooks" / "04-storage-growth-and-garbage-collection.ipynb"


# Under Docker only: the practice checks' words under both engines are compared in full where nbval
# runs the notebook with its solutions (and against wrong work below, under both); a whole notebook
# again without them is CPU make test's 2 cores cannot spare
@pytest.mark.parametrize("kind", ENGINES[:1])
def test_notebook_04_your_turn_unsolved_is_all_cross_and_leaves_nothing(kind, request, tmp_path):
    """Notebook 04 run as a learner who skips the practice (its hidden ``solution`` cells removed):
    each ``practice.qN.check()`` prints ✘ with what is wrong, and the clean-up leaves nothing."""
    from jupyter_client.manager import start_new_kernel

    env = dict(os.environ, REGLAB_LEARNER=f"t-cb-nb04-{kind}", REGLAB_ENGINE=kind)
    if kind == "local":
        env["DOCKER_HOST"] = f"unix://{tmp_path}/no-docker.sock"
    else:
        request.getfixturevalue("engine")  # the session's daemon, with the course images
    cells = [c for c in nbformat.read(NOTEBOOK_04, as_version=4).cells
             if c.cell_type == "code" and "solution" not in c.metadata.get("tags", [])]
    assert any("practice.q2.check()" in c.source for c in cells)
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(NOTEBOOK_04.parent),
                                       startup_timeout=300)
    printed = {}
    try:
        for cell in cells:
            out = []

            def keep(msg, out=out):
                if msg["msg_type"] == "stream":
                    out.append(msg["content"]["text"])
                elif msg["msg_type"] == "execute_result":
                    out.append(msg["content"]["data"].get("text/plain", ""))
                elif msg["msg_type"] == "error":
                    out.append("\n".join(msg["content"]["traceback"]))

            reply = client.execute_interactive(cell.source, timeout=300, output_hook=keep)
            assert reply["content"]["status"] == "ok", f"{cell.source[:60]!r}: {''.join(out)[-2000:]}"
            printed[cell.source.strip()] = "".join(out).strip()
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert printed["practice.q1.check()"].startswith("✘ Task 1 · ") and "still has the tag v2" in printed[
        "practice.q1.check()"]
    assert printed["practice.q2.check()"].startswith("✘ Task 2 · ") and "delete other-app:v2 first" in printed[
        "practice.q2.check()"]
    assert printed["lab.check(checks.nothing_left)"].startswith("✔ lab 04 left nothing behind")


@pytest.mark.parametrize("kind", ENGINES)
def test_notebook_04_practice_against_wrong_work(kind, request):
    """Notebook 04's practice, on a registry in the state the notebook leaves it (other-app:v2 and
    app:v5 on a registry:3 with deletes on): DELETE by tag and rm -r of the tag are ✘ for task 1;
    a collection without a restart, and no collection, are ✘ for task 2; then the solution is ✔,
    task 1 still ✔ after task 2, and nothing answering is said first."""
    from reglab import Lab, images

    learner = f"t-cb-p04-{kind}"
    if kind == "docker":
        engine = request.getfixturevalue("engine")
        settings = engine.settings.but(learner=learner)
        engine = get_engine("docker", settings=settings)
    else:
        settings = Settings.from_env().but(learner=learner, engine="local")
        engine = get_engine("local", settings=settings)
    lab = Lab("04", engine=engine, echo=False, settings=settings)
    try:
        registry = lab.run_registry(bind="registry-data")
        series = images.growth_series(registry.address, versions=5, base_mib=1, app_mib=(0.1, 0.2),
                                      second_app_versions=2, unrelated_mib=0.1)
        for tag in lab.load_images(series):
            lab.push(tag)
        practice = start("04", lab, echo=False)
        folder = str(registry.bind)

        def run(command: str) -> str:
            return sh(practice, command.replace("{folder}", folder))

        assert not practice.q1.result().ok and not practice.q2.result().ok
        run("curl -s -X DELETE http://{address}/v2/other-app/manifests/v2")  # by tag: 202, the image stays
        wrong(practice.q1, "tag other-app:v2 is gone but its manifest")
        run(f"curl -sSf -X DELETE http://{{address}}/v2/other-app/manifests/{practice.digest}")
        right(practice.q1)
        # no collection; then a collection beside the running registry, which had served the layer
        wrong(practice.q2, "still on disk: collect the garbage")
        run(f"curl -s -o /dev/null http://{{address}}/v2/other-app/blobs/{practice.layer}")
        run("docker container exec {registry} registry garbage-collect /etc/distribution/config.yml")
        wrong(practice.q2, "restart")
        run("docker container restart {registry}")
        right(practice.q2, practice.q1)
        run("docker container rm -f -v {registry}")
        for task in practice.tasks:
            result = task.result()
            assert not result.ok and f"nothing answers at {practice.address}" in result.detail, result
    finally:
        lab.cleanup()
    assert lab.objects() == []


def test_practice_04_is_registered():
    from reglab.tasks import PRACTICE

    assert PRACTICE["04"] == "practice_04:Practice04"
