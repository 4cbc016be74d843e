"""Notebooks 05 and 06, their "Your turn" tasks, lab sheets 11 and 12 and the progress bars,
proven against live state: every task check ✘ on the plausible wrong work (issue 22's list first)
with a message saying what is wrong, ✔ on the work done, still ✔ after the later tasks; the
"nothing answers" case says so first; a login typed with the real docker CLI counts; the
notebooks run without their solution cells print ✘ for every practice check and leave nothing.

Where they run: the daemonless engine beside everything (``daemonless``); with Docker, notebook
05, its practice and lab 11 write ``/etc/docker/certs.d`` (and 05 ``daemon.json``), so they run
on the daemon reglab's set-up started (the machine's); the rest on any Docker daemon.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from conftest import labs
from reglab import checks, progress
from reglab.engines.local import LocalEngine
from reglab.errors import ReglabError
from reglab.limits import Cannot
from reglab.naming import Scope
from reglab.registry_api import RegistryClient
from reglab.steps.mirror import DNS_OPTIONS, PROXY_TTL
from reglab.steps.mirror import NETWORK as MIRROR_NETWORK
from reglab.tasks import start
from reglab.tasks.practice_05 import Practice05
from reglab.tasks.practice_06 import Practice06

ROOT = Path(__file__).resolve().parent.parent
ENGINES = [pytest.param("docker", marks=pytest.mark.engine), pytest.param("local", marks=pytest.mark.daemonless)]
DOCKER_CLI = next((c for c in ("/usr/bin/docker", "/usr/local/bin/docker") if Path(c).exists()), None)


def _engine(kind: str, request):
    return request.getfixturevalue("engine") if kind == "docker" else LocalEngine()


def _states(sheet) -> list[tuple[bool, str]]:
    return [(t.result().ok, t.result().detail) for t in sheet.tasks]


def _refused(task, *words: str) -> None:
    """The task's check says ✘, and its message holds ``words``."""
    result = task.result()
    assert not result.ok, f"{task!r} passed: {result}"
    for word in words:
        assert word in result.detail, f"{word!r} not in {result.detail!r}"


# ----------------------------------------------------------------------------- progress bars


def test_a_bar_ends_in_the_outcomes_state(monkeypatch):
    """A refused push after every layer was "already there" ends red where it stopped, never a full
    green bar; a push that worked ends full and green (in a notebook: the ipywidgets bar)."""
    pytest.importorskip("ipywidgets")
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", lambda *a, **k: None)
    refused = progress.LayerProgress(2, "push")
    refused("a", 0, 0, "Layer already exists")
    refused("b", 0, 0, "Layer already exists")
    with pytest.raises(ReglabError):
        try:
            raise ReglabError("405 UNSUPPORTED")
        finally:
            refused.close()
    assert refused._widget.bar_style == "danger" and refused.ok is False
    half = progress.LayerProgress(3, "pull")
    half("a", 0, 0, "Pull complete")
    with pytest.raises(ReglabError), half:
        raise ReglabError("manifest unknown")
    assert half._widget.value == 1 and half._widget.bar_style == "danger"
    done = progress.LayerProgress(2, "push")
    done("a", 0, 0, "Pushed")
    done.close()
    assert done._widget.value == 2 and done._widget.bar_style == "success" and done.ok


def test_a_bar_in_a_terminal_says_it_failed():
    bar = progress.Bar(2, "push")
    bar.step()
    bar.close(ok=False)
    assert bar.ok is False and "push failed" in bar._bar.desc


# ----------------------------------------------------------------------------- notebook 06's words, measured


@pytest.mark.daemonless
def test_notebook_06_says_what_registry_3_does(capsys):
    """A registry:3 cache fetches each new blob once, says so; the hub's log shows the GET /v2/
    before each call; the figure's numbers are printed beside it; the scheduler lines are counted
    by the twin printed; a practice cache's copy of app is off the store before the next learner."""
    with labs(LocalEngine(), "t-") as make:
        lab = make("cc-06", echo=True)
        lab.mirror.run_hub(port=None)
        lab.mirror.publish(versions=2, base_mib=0.5)
        lab.mirror.run_proxy()
        cold = lab.mirror.pull_as("A", "app:v1")
        out = capsys.readouterr().out
        assert cold.upstream == cold.served and cold.upstream_downloads == cold.upstream_blobs
        assert "each once: streamed to the learner and into the cache's storage together" in out
        lab.mirror.hub_saw(cold)
        out = capsys.readouterr().out
        assert "GET /v2/ → 200 before each call to the hub" in out and cold.hub.of("base")
        lab.mirror.pull_as("B", "app:v1")
        figure = lab.mirror.figure()
        out = capsys.readouterr().out
        assert len(figure.axes) == 2 and "(the figure's numbers)" in out
        rows = [line.split() for line in out.splitlines() if line.startswith(("A ·", "B ·"))]
        assert [r[-1] for r in rows] == [f"{cold.upstream / 2**20:.1f}"] * 2  # the cache's total stays
        lab.mirror.kept_for()
        out = capsys.readouterr().out
        entries = lab.engine.containers.logs(lab.mirror.proxy.name).count("Adding new scheduler entry")
        assert out.splitlines()[1] == str(entries) and "ttl=167h59m59.9…s" in out
        assert "proxy.ttl's default in registry:3" in out
        other = "127.0.0.1:1/app:v1"  # another registry's name for app, as a practice's pull makes
        lab.tag(lab.mirror.proxy.ref("app", "v1"), other)
        lab.mirror.become("C")
        assert lab.engine.images.info(other) is None and lab.engine.images.info(lab.mirror.proxy.ref("app", "v1")) is None


# ----------------------------------------------------------------------------- notebook 05's practice


def _secured(lab):
    """Notebook 05's lab up to its checks: a registry with TLS and a login, alice logged in."""
    registry = lab.secure.run_plain()
    lab.secure.make_certificates()
    lab.secure.add_user("alice")
    registry = lab.secure.run_with_login()
    lab.secure.trust()
    lab.secure.use_throwaway_docker_config()
    lab.secure.login("alice")
    lab.tag("hello-world", registry.ref("hello-world"))
    lab.push(registry.ref("hello-world"))
    return registry


def _as(lab, registry, user: str) -> RegistryClient:
    password = lab.secure.passwords[user].read_text().strip()
    return RegistryClient(registry.address, tls=True, ca=registry.ca, auth=(user, password), trust=registry.trust)


@pytest.mark.parametrize("kind", ENGINES)
def test_practice_05_against_wrong_work(kind, request, tmp_path):
    engine = _engine(kind, request)
    if kind == "docker" and Path("/etc/docker/certs.d").exists() and not os.access("/etc/docker/certs.d", os.W_OK):
        pytest.skip("cannot write /etc/docker/certs.d here")
    settings = engine.settings.but(docker_config=tmp_path / "home-docker")  # a terminal's ~/.docker
    with labs(engine, "t-") as make:
        lab = make("cc-05", settings=settings)
        registry = _secured(lab)
        practice = Practice05(lab, echo=False)  # a test lab's name is not "05": the class itself
        q1, q2, q3 = practice.tasks
        # untouched: all ✘, each with its own reason
        _refused(q1, "alice's, not bob's")
        _refused(q2, "has no bob/hello:v1")
        _refused(q3, "no bob/hello:v1 to keep")
        # q1: a wrong password stores nothing; bob's login counts, typed with the lab or in a terminal
        with pytest.raises(ReglabError):
            lab.secure.login("bob", wrong=True)
        _refused(q1, "alice's, not bob's")
        lab.secure.login("bob")
        assert q1.result().ok
        if kind == "docker" and DOCKER_CLI:  # the real CLI, in a terminal without the notebook's DOCKER_CONFIG
            (Path(practice.docker_config) / "config.json").unlink()
            _refused(q1, "no login for")
            password = lab.secure.passwords["bob"].read_text()
            typed = subprocess.run([DOCKER_CLI, "login", "-u", "bob", "--password-stdin", registry.address],
                                   input=password, capture_output=True, text=True, check=False,
                                   env={**os.environ, "DOCKER_CONFIG": str(settings.docker_config)})
            assert typed.returncode == 0, typed.stderr
            assert q1.result().ok and str(settings.docker_config) in q1.result().detail
            lab.secure.login("bob")  # the lab's own pushes below read the notebook's DOCKER_CONFIG
        # q2: another image under the name, then hello-world
        other = lab.make_image(registry.ref("bob/hello", "v1"), [("srv/other.bin", 5_000)], seed="cc-05")
        lab.push(other)
        _refused(q2, "is another image", "not hello-world")
        lab.tag("hello-world", registry.ref("bob/hello", "v1"))
        lab.push(registry.ref("bob/hello", "v1"))
        assert q2.result().ok
        # q3: old never pushed; old deleted by digest (v1 goes too); then by tag
        _refused(q3, "never answered a DELETE of bob/hello:old")
        bob = _as(lab, registry, "bob")
        lab.tag("hello-world", registry.ref("bob/hello", "old"))
        lab.push(registry.ref("bob/hello", "old"))
        _refused(q3, "bob/hello:old is still there")
        digest = bob.manifest_head("bob/hello", "old").digest
        bob.delete_manifest("bob/hello", digest)
        _refused(q3, "v1 is gone too", "DELETE by digest")
        _refused(q2, "has no bob/hello:v1")
        lab.push(registry.ref("bob/hello", "v1"))
        lab.push(registry.ref("bob/hello", "old"))
        assert bob.request("DELETE", "/v2/bob/hello/manifests/old", ok=(202,)).status_code == 202
        assert [t.result().ok for t in practice.tasks] == [True, True, True]  # each still ✔ after the later ones
        # nothing answers: the first real problem
        lab.engine.containers.kill(registry.name)
        for task in practice.tasks:
            _refused(task, f"nothing answers at {registry.address}")
        lab.cleanup()
        assert lab.objects() == [] and not (engine.trust.folder() / registry.address).exists()


# ----------------------------------------------------------------------------- notebook 06's practice


def _quick_cache(lab, practice, env: dict[str, str]):
    """The cache the learner types (``docker container run -d --name {cache} -p {address}:5000 …``)."""
    docker = Cannot.NETWORKS not in lab.engine.cannot
    return lab.registries.run(name="quick-cache", port=int(practice.address.rsplit(":", 1)[1]), current=False,
                              network=MIRROR_NETWORK if docker else None, dns_options=DNS_OPTIONS if docker else (),
                              env={"REGISTRY_PROXY_REMOTEURL": practice.upstream, **env})


@pytest.mark.parametrize("kind", ENGINES)
def test_practice_06_against_wrong_work(kind, request):
    engine = _engine(kind, request)
    with labs(engine, "t-") as make:
        lab = make("cc-06p")
        lab.mirror.run_hub(port=None)
        lab.mirror.publish(versions=2, base_mib=0.5)
        proxy = lab.mirror.run_proxy()
        practice = Practice06(lab, echo=False)
        q1, q2, q3 = practice.tasks
        _refused(q1, "there is no container", "nothing answers")
        _refused(q2, "shows no pull of app:v2")
        _refused(q3, "there is no container")
        # q1: no TTL (168 h), TTL 0 (forever), then seconds
        _quick_cache(lab, practice, {})
        _refused(q1, f"has no {PROXY_TTL}", "168 h")
        engine.containers.remove(practice.cache)
        _quick_cache(lab, practice, {PROXY_TTL: "0"})
        _refused(q1, "turns expiry off")
        engine.containers.remove(practice.cache)
        # deletes off: expiry cannot delete
        _quick_cache(lab, practice, {PROXY_TTL: "3s", "REGISTRY_STORAGE_DELETE_ENABLED": "false"})
        assert q1.result().ok
        # q2: a pull through the notebook's cache is not a pull through yours
        lab.mirror.pull_as("F", "app:v2")
        _refused(q2, "shows no pull of app:v2")
        lab.mirror.become("you")
        engine.images.pull(f"{practice.address}/app:v2")
        assert q2.result().ok
        first = q3.result()  # before the 3 s TTL: still stored; on a busy machine the expiry came already
        assert not first.ok and any(w in first.detail for w in ("still in its storage", "could not delete them")), first
        time.sleep(6)
        _refused(q3, "could not delete them", "deletes off")
        # the right cache
        engine.containers.remove(practice.cache)
        engine.images.remove(f"{practice.address}/app:v2")
        _quick_cache(lab, practice, {PROXY_TTL: "3s"})
        lab.mirror.become("you")
        engine.images.pull(f"{practice.address}/app:v2")
        assert q1.result().ok and q2.result().ok
        time.sleep(6)
        assert [t.result().ok for t in practice.tasks] == [True, True, True], _states(practice)
        assert checks.cached(engine, proxy, "app", "v2")  # the notebook's cache kept its own copy


# ----------------------------------------------------------------------------- lab 11


@pytest.mark.parametrize("kind", ENGINES)
def test_lab_11_against_wrong_work_and_a_login_typed_in_a_terminal(kind, request, tmp_path):
    engine = _engine(kind, request)
    settings = engine.settings.but(docker_config=tmp_path / "home-docker", learner="t-cc11")
    sheet = start("lab-11", engine=engine, echo=False, settings=settings)
    try:
        q1, q2, q3 = sheet.tasks
        _refused(q1, "there is no", "x509: certificate signed by unknown authority")
        sheet.trust_file.parent.mkdir(parents=True, exist_ok=True)
        sheet.trust_file.write_bytes(b"not the CA\n")
        _refused(q1, "is not the lab's CA certificate")
        sheet.trust_file.write_bytes(Path(sheet.ca).read_bytes())
        assert q1.result().ok
        _refused(q2, "no login for")
        password = Path(sheet.password_file).read_text()
        if kind == "docker" and DOCKER_CLI:  # the real CLI in a terminal: the sheet's DOCKER_CONFIG, then ~/.docker
            for folder in (sheet.docker_config, settings.docker_config):
                typed = subprocess.run([DOCKER_CLI, "login", "-u", sheet.user, "--password-stdin", sheet.address],
                                       input=password, capture_output=True, text=True, check=False,
                                       env={**os.environ, "DOCKER_CONFIG": str(folder)})
                assert typed.returncode == 0, typed.stderr
                assert q2.result().ok
                (Path(folder) / "config.json").unlink()
        from reglab import credentials

        credentials.store(settings.docker_config, sheet.address, sheet.user, password.strip())  # ~/.docker
        assert q2.result().ok
        _refused(q3, "has no app:v1")
        # another image pushed under app:v1
        registry = sheet.lab.sandbox.current()
        wrong = sheet.lab.make_image(registry.ref("app", "v1-other"), [("srv/other.bin", 5_000)], seed="cc-11")
        sheet.lab.tag(wrong, registry.ref("app", "v1"))
        sheet.lab.sandbox.docker_config = settings.docker_config
        sheet.lab.push(registry.ref("app", "v1"))
        _refused(q3, "is another image", "push the image the set-up made")
        sheet.lab.remove_image(registry.ref("app", "v1"))
        sheet.lab.remove_image(wrong)
        sheet.lab.pull(registry.ref("app", "v1"))  # the wrong one, from the registry: retag the set-up's
        assert not q3.result().ok
        engine.images.remove(registry.ref("app", "v1"))
        # the set-up's image again, under its name (its ID kept by the sheet)
        engine.images.tag(sheet.image_id, registry.ref("app", "v1"))
        sheet.lab.push(registry.ref("app", "v1"))
        assert [t.result().ok for t in sheet.tasks] == [True, True, True], _states(sheet)
        engine.containers.kill(registry.name)
        for task in sheet.tasks:
            _refused(task, f"nothing answers at {registry.address}")
    finally:
        sheet.cleanup()
    assert engine.objects.of(Scope("lab-11", "t-cc11")) == [] and not sheet.trust_file.exists()


# ----------------------------------------------------------------------------- lab 12


@pytest.mark.parametrize("kind", ENGINES)
def test_lab_12_the_hub_down_is_proven_by_a_pull(kind, request):
    """Task 3 passes only after a pull the cache served with the hub stopped — not for stopping the
    hub alone, not for a pull made while it ran — and the earlier checks still pass after it."""
    engine = _engine(kind, request)
    settings = engine.settings.but(learner="t-cc12")
    sheet = start("lab-12", engine=engine, echo=False, settings=settings)
    try:
        q1, q2, q3 = sheet.tasks
        _refused(q1, "nothing answers at")
        _refused(q2, f"nothing answers at {sheet.address}")
        _refused(q3, f"nothing answers at {sheet.address}")
        docker = Cannot.NETWORKS not in engine.cannot
        port = int(sheet.address.rsplit(":", 1)[1])
        sheet.lab.registries.run(name="proxy", port=port, volume=sheet.volume, current=False,
                                 network=MIRROR_NETWORK if docker else None, dns_options=DNS_OPTIONS if docker else (),
                                 env={"REGISTRY_PROXY_REMOTEURL": sheet.upstream})
        assert q1.result().ok, q1.result()
        ref = f"{sheet.address}/app:v1"
        engine.images.pull(ref)
        assert q2.result().ok, q2.result()
        _refused(q3, "is still running")
        engine.containers.kill(sheet.hub)
        time.sleep(1.1)  # log times are the registries' own: a pull a moment later is clearly after
        _refused(q3, "has not served a pull of app:v1 since the hub stopped")
        assert q1.result().ok and q2.result().ok and not q3.result().ok  # the checks made no evidence
        engine.images.remove(ref)
        engine.images.pull(ref)
        assert [t.result().ok for t in sheet.tasks] == [True, True, True], _states(sheet)
    finally:
        sheet.cleanup()
    assert engine.objects.of(Scope("lab-12", "t-cc12")) == []


# ----------------------------------------------------------------------------- the notebooks without solutions


def _run_without_solutions(path: Path, env: dict, cwd: Path) -> list[tuple[str, str]]:
    from jupyter_client.manager import start_new_kernel

    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and "solution" not in c.metadata.get("tags", [])]
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(cwd), startup_timeout=300)
    printed_by_cell = []
    try:
        for cell in cells:
            printed = []

            def keep(msg, printed=printed):
                if msg["msg_type"] == "stream":
                    printed.append(msg["content"]["text"])
                elif msg["msg_type"] == "execute_result":
                    printed.append(msg["content"]["data"].get("text/plain", ""))
                elif msg["msg_type"] == "error":
                    printed.append("\n".join(msg["content"]["traceback"]))

            reply = client.execute_interactive(cell.source, timeout=300, output_hook=keep)
            assert reply["content"]["status"] == "ok", f"{cell.source[:60]!r}: {''.join(printed)[-1500:]}"
            printed_by_cell.append((cell.source, "".join(printed)))
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return printed_by_cell


# Under Docker only, as notebook 04's (tests/test_content_b.py): both engines' words are compared in
# the solutions' nbval runs and the wrong-work tests above
@pytest.mark.parametrize("kind", ENGINES[:1])
@pytest.mark.parametrize("notebook", ["05-secure-your-registry", "06-pull-through-cache"])
def test_notebooks_without_their_solutions_print_a_cross_for_every_practice(notebook, kind, request, tmp_path):
    if kind == "docker":
        engine = request.getfixturevalue("engine")
        if notebook.startswith("05") and engine.daemon.config().why_not():
            pytest.skip(f"notebook 05 changes daemon.json: {engine.daemon.config().why_not()}")
    env = {**os.environ, "REGLAB_ENGINE": kind, "REGLAB_LEARNER": f"t-ccnb-{kind}"}
    if kind == "local":
        env["DOCKER_HOST"] = f"unix://{tmp_path}/no-docker.sock"
    if notebook.startswith("05") and kind == "docker":
        env.pop("REGLAB_LEARNER")  # a learner name makes the daemon one several learners share: no daemon.json
    cells = _run_without_solutions(ROOT / "notebooks" / f"{notebook}.ipynb", env, ROOT / "notebooks")
    checked = [text.strip() for source, text in cells if source.strip().startswith("practice.q")]
    assert len(checked) == 3 and all(line.startswith("✘ Task ") and "\n" not in line for line in checked), checked
    assert "✔ lab" in cells[-1][1] and "left nothing behind" in cells[-1][1], cells[-1]
    chosen = request.getfixturevalue("engine") if kind == "docker" else LocalEngine()
    learner = env.get("REGLAB_LEARNER")
    assert chosen.objects.of(Scope(notebook[:2], learner)) == []
