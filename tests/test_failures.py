"""Bad input gets one clear sentence, and nothing of the learner's is touched."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import docker
import pytest
import requests

from reglab.config import Settings
from reglab import Lab
from reglab.errors import (
    BadReference,
    DockerUnavailable,
    ImageInUse,
    ImageMissing,
    ManifestUnknown,
    NameConflict,
    RegistryUnavailable,
)
from reglab.naming import Scope


def _one_sentence(exc):
    text = str(exc)
    assert "\n" not in text and "Traceback" not in text and len(text) < 300
    return text


def test_unreachable_daemon(monkeypatch, tmp_path):
    monkeypatch.setenv("REGLAB_ENGINE", "docker")  # without it, reglab falls back to the daemonless engine
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/dead.sock")
    with pytest.raises(DockerUnavailable) as info:
        Lab("t-dead")
    text = _one_sentence(info.value)
    assert "dead.sock" in text and "start Docker" in text


def test_unreachable_daemon_in_the_cli(tmp_path):
    env = dict(os.environ, DOCKER_HOST=f"unix://{tmp_path}/dead.sock", REGLAB_ENGINE="docker")
    out = subprocess.run([sys.executable, "-m", "reglab", "clean"], capture_output=True, text=True, env=env)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "no Docker daemon answers" in out.stderr
    doctor = subprocess.run([sys.executable, "-m", "reglab", "doctor"], capture_output=True, text=True, env=env)
    assert doctor.returncode == 1 and "[FIX ] engine" in doctor.stdout


def test_bad_references(lab_factory):
    lab = lab_factory("badref")
    with pytest.raises(BadReference):
        lab.tag("hello-world", "127.0.0.1:5000/Hello")
    with pytest.raises(BadReference):
        lab.push("no such/thing")
    with pytest.raises(ImageMissing) as info:
        lab.push("127.0.0.1:5000/never-tagged")
    assert "tag one" in _one_sentence(info.value)
    with pytest.raises(ImageMissing):
        lab.run("reglab-no-such-image")


def test_a_taken_port_picks_the_next_and_says_so(lab_factory, capsys):
    """The port asked for is held by a program that is no lab. (Not 5000 itself: in make test
    another session's lab may hold it or let it go at any moment; tests/test_notebooks.py runs
    notebook 01 with 5000 held through its port lock.)"""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))  # a port no one else holds
    holder.listen()
    taken = holder.getsockname()[1]
    try:
        lab = lab_factory("port", echo=True)
        registry = lab.run_registry(port=taken)
        assert registry.port != taken
        assert requests.get(f"{registry.url}/v2/", timeout=5).status_code == 200
        out = capsys.readouterr().out
        assert f"port {taken} is taken by another program, so this lab uses port {registry.port}" in out
        assert f"-p 127.0.0.1:{registry.port}:5000" in out
        # later steps keep using the chosen port, and the message is not said again
        lab.tag("hello-world", registry.ref("hello-world"))
        lab.push(registry.ref("hello-world"))
        lab.kill_registry()
        lab.remove_registry()
        again = lab.run_registry()
        assert again.port == registry.port
        out = capsys.readouterr().out
        assert "is taken by" not in out and ":5000/" not in out
        assert f"$ docker image push 127.0.0.1:{registry.port}/hello-world" in out
        assert f"-p 127.0.0.1:{registry.port}:5000" in out
    finally:
        holder.close()


def test_stale_container_from_a_killed_run_is_replaced(engine, tmp_path):
    """A kernel killed half-way (no atexit) leaves a registry; the next Lab clears it, no 409."""
    script = textwrap.dedent("""
        import os, signal
        from reglab import Lab
        lab = Lab("t-stale", echo=False)
        registry = lab.run_registry(volume="registry-data")
        lab.tag("hello-world", registry.ref("hello-world", "stale"))
        print(registry.port, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=os.environ.copy())
    assert out.returncode == -signal.SIGKILL
    port = int(out.stdout.strip())
    names = {o.name for o in engine.objects.of(Scope("t-stale"))}
    assert names == {"reglab-t-stale-registry", "reglab-t-stale-registry-data"}
    assert engine.images.info(f"127.0.0.1:{port}/hello-world:stale") is not None

    lab = Lab("t-stale", engine=engine, echo=False)
    try:
        assert engine.objects.of(Scope("t-stale")) == []
        assert engine.images.info(f"127.0.0.1:{port}/hello-world:stale") is None
        registry = lab.run_registry()  # same name, no 409 Conflict
        assert engine.containers.state(registry.name) == "running"
    finally:
        lab.cleanup()
    assert engine.objects.of(Scope("t-stale")) == []


def test_learners_own_objects_are_never_touched(engine, lab_factory):
    client = docker.from_env()
    lab = lab_factory("mine")  # made before the learner's own container: the step meets it
    mine = client.containers.create("hello-world", name="reglab-t-mine-registry")
    volume = client.volumes.create("registry-data-of-the-learner")
    try:
        with pytest.raises(NameConflict) as info:
            lab.run_registry()
        text = _one_sentence(info.value)
        assert "reglab will not touch it" in text and "docker container rm -f reglab-t-mine-registry" in text
        lab.cleanup()
        env = dict(os.environ, REGLAB_LEARNER="t-clean-cli")  # never the default learner's live labs
        subprocess.run([sys.executable, "-m", "reglab", "clean"], check=True, capture_output=True, env=env)
        assert client.containers.get(mine.id).name == "reglab-t-mine-registry"
        assert client.volumes.get("registry-data-of-the-learner")
    finally:
        mine.remove(force=True)
        volume.remove(force=True)


def test_typed_twins_stop_the_lab_at_once_and_adopt_takes_them_over(engine, lab_factory):
    """Notebook 02's twins typed in a terminal leave a volume with the lab's name: Lab() says so
    in its first cell (how to remove it, or adopt=True), before any step half-runs."""
    client = docker.from_env()
    typed = client.volumes.create("reglab-t-typed-registry-data")  # as `docker run -v reglab-…:…` makes it
    try:
        with pytest.raises(NameConflict) as info:
            lab_factory("typed")
        text = _one_sentence(info.value)
        assert "docker volume rm reglab-t-typed-registry-data" in text and 'Lab("t-typed", adopt=True)' in text
        assert client.volumes.get(typed.name)  # untouched until the learner says so
        lab = lab_factory("typed", adopt=True)
        with pytest.raises(docker.errors.NotFound):
            client.volumes.get(typed.name)
        registry = lab.run_registry(volume="registry-data")
        assert client.volumes.get(registry.volume).attrs["Labels"]["reglab.lab"] == "t-typed"
    finally:
        try:
            left = client.volumes.get(typed.name)
            if "reglab.lab" not in (left.attrs.get("Labels") or {}):  # the lab's own goes with its cleanup
                left.remove(force=True)
        except docker.errors.NotFound:
            pass


def test_image_in_use_and_stopped_registry(lab_factory, hello_of_its_own):
    lab = lab_factory("inuse")
    registry = lab.run_registry()
    # Docker refuses to remove an image's last name while a container uses it; a name that is not the
    # last is only untagged: an image of the test's own, whatever the learner's names for hello-world
    ref = registry.ref("only-mine")
    lab.load_images([hello_of_its_own(ref, "t-inuse")])
    lab.run(ref)
    with pytest.raises(ImageInUse) as info:
        lab.remove_image(ref)
    assert "docker container rm reglab-t-inuse-hello" in _one_sentence(info.value)
    lab.kill_registry()
    with pytest.raises(RegistryUnavailable) as info:
        lab.push(ref)
    assert "is the registry running" in _one_sentence(info.value)
    lab.remove_container("hello")
    lab.remove_image(ref)
    assert lab.engine.images.info(ref) is None
    # course images come back at the next Lab start (a name of the lab's keeps hello-world's image
    # meanwhile, so removing hello-world never meets a learner's container of it)
    lab.tag("hello-world", registry.ref("hello-world"))
    lab.remove_image("hello-world")
    assert lab.engine.images.info("hello-world") is None
    again = lab_factory("inuse-2")
    assert again.engine.images.info("hello-world") is not None


def test_a_learners_live_lab_stops_the_suite_before_anything_is_touched(engine, tmp_path):
    """make test beside a learner's lab (default learner, a course lab id): the session stops at
    once with one sentence, and the learner's container is still there."""
    client = docker.from_env()
    theirs = client.containers.create(Settings.from_env().registry_image, name="reglab-99-registry", labels={"reglab.lab": "99"})
    try:
        outer = {k: v for k, v in os.environ.items() if k != "REGLAB_TEST_SESSION"}  # as make test starts
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "tests/test_reference.py"],
                             capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent, env=outer)
        assert run.returncode == 3, run.stdout[-2000:]
        assert "a learner's lab is on this Docker daemon (reglab-99-registry)" in run.stdout
        assert client.containers.get(theirs.id).status == "created"
    finally:
        theirs.remove(force=True, v=True)  # and the anonymous volume the registry image declares


def test_with_block_cleans_up_even_when_a_step_fails_and_keeps_a_folder_it_did_not_make(engine, tmp_path):
    """``with Lab(...)`` removes what the lab made on exit, also after an error inside; a bind
    folder that existed before (the learner's, with a file of theirs) is left with its file."""
    theirs = tmp_path / "my-registry-data"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    with pytest.raises(ManifestUnknown):  # noqa: SIM117 (the raise from inside the lab is the point)
        with Lab("t-with", engine=engine, echo=False) as lab:
            registry = lab.run_registry(bind=theirs)
            assert engine.objects.of(Scope("t-with")) != []
            lab.pull(registry.ref("nothing-here"))
    assert engine.objects.of(Scope("t-with")) == []
    assert (theirs / "notes.txt").read_text() == "mine"


def test_a_kernel_shut_down_normally_leaves_nothing(engine):
    """JupyterLab's "Shut Down Kernel" (a shutdown request, not a kill): the lab cleans up at exit."""
    from kernel_runs import LocalKernel  # IPC sockets: a TCP kernel lost its port to another once under load

    kernel = LocalKernel(dict(os.environ, REGLAB_ENGINE="docker"), cwd=os.getcwd())
    try:
        outputs = kernel.execute("from reglab import Lab\nlab = Lab('t-shutdown', echo=False)\n"
                                 "lab.run_registry(volume='data')", 120)
        assert not [o for o in outputs if o.get("output_type") == "error"], outputs
        assert len(engine.objects.of(Scope("t-shutdown"))) == 2  # the registry and its volume
    finally:
        kernel.shutdown()  # a shutdown request: the kernel exits as JupyterLab asks it to
    assert engine.objects.of(Scope("t-shutdown")) == []


_LEARNERS_KERNEL = textwrap.dedent("""
    import sys
    from reglab import Lab
    lab = Lab("01", echo=False)
    registry = lab.run_registry()
    lab.tag("hello-world", registry.ref("hello-world"))
    lab.push(registry.ref("hello-world"))
    print(registry.port, flush=True)
    sys.stdin.read()  # the learner's kernel lives until the test closes its stdin
""")


@pytest.mark.daemonless
def test_a_learners_daemonless_lab_survives_the_notebooks_run_beside_it(tmp_path):
    """make test's daemonless notebook run (``pytest notebooks``, as scripts/test.sh starts it) beside
    a learner's own lab 01 on the daemonless engine, in the learner's default state folder: the run
    uses a state folder of its own (conftest.py), so the learner's registry still answers with
    their image, and their lab's state is where it was."""
    env = {k: v for k, v in os.environ.items() if k not in ("REGLAB_STATE_DIR", "REGLAB_WORKDIR", "XDG_STATE_HOME")}
    env.update(HOME=str(tmp_path / "home"), REGLAB_ENGINE="local", REGLAB_OFFLINE="1",
               DOCKER_HOST="unix:///nonexistent/docker.sock",
               REGLAB_TOOLS_DIR=str(Settings.from_env().tools_dir))  # the set-up's build of registry v3
    (tmp_path / "home").mkdir()
    learners = subprocess.Popen([sys.executable, "-c", _LEARNERS_KERNEL], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        port = int(learners.stdout.readline())
        state = tmp_path / "home" / ".local" / "state" / "reglab" / "01"
        before = sorted(p.relative_to(state) for p in state.rglob("*"))
        assert before, "the learner's lab keeps no state where the test looks for it"
        root = Path(__file__).resolve().parent.parent
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly",
                              str(root / "notebooks" / "01-run-your-own-registry.ipynb")],
                             check=False, capture_output=True, text=True, env=env, cwd=root)
        assert run.returncode == 0, run.stdout[-3000:]
        catalog = requests.get(f"http://127.0.0.1:{port}/v2/_catalog", timeout=10).json()
        assert catalog == {"repositories": ["hello-world"]}
        assert sorted(p.relative_to(state) for p in state.rglob("*")) == before
    finally:
        learners.stdin.close()
        learners.wait(timeout=60)
