"""Notebook 07's parts, live under both engines: an object store, replicas behind nginx, a shared
cache (reglab.steps.scale), as containers under Docker and as processes under the daemonless engine.

- the twins: a secret is read from its file, never printed; a typed line reads back the same;
- a kernel killed mid-notebook leaves the store, nginx, redis and the replicas running (their
  processes or containers), and the next lab of that name stops and removes every one of them,
  the bucket's data (in the lab's own folder) with them;
- lab sheet 13's checks refuse the plausible wrong fixes (a different secret on each replica, a
  replica left out of nginx, sticky sessions, another image pushed under the tag) and accept the
  right one, which stays accepted after the later task;
- notebook 07 without its solution cells: each "Your turn" check says ✘, and nothing is left.

Docker runs go to a daemon of their own in ``make test`` (scripts/test.sh), where a second daemon
passes traffic between its containers (tests/second_dockerd.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from now import settings

from reglab.engines.local import LocalEngine
from reglab.media import digest_of
from reglab.naming import Scope
from reglab.registry_run import RegistryRun
from reglab.service_run import ServiceRun

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "07-when-one-registry-is-not-enough.ipynb"
ENGINES = ["docker", pytest.param("local", marks=pytest.mark.daemonless)]
PROGRAMS = ("weed", "nginx", "redis-server", "docker-registry", "registry")


def _env(engine_kind: str, tmp_path: Path, learner: str) -> dict:
    env = os.environ.copy()
    env["REGLAB_ENGINE"] = engine_kind
    env["REGLAB_LEARNER"] = learner
    if engine_kind == "local":
        env["DOCKER_HOST"] = f"unix://{tmp_path}/no-docker.sock"
    return env


def _engine(engine_kind: str, request):
    return request.getfixturevalue("engine") if engine_kind == "docker" else LocalEngine()


def _processes() -> list[str]:
    """Processes of this session's labs (their command lines name its state or work folder): the
    store, nginx, redis, registries."""
    s = settings()
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        line = b" ".join(argv).decode(errors="replace")
        if Path(argv[0].decode(errors="replace")).name in PROGRAMS and \
                (str(s.state_dir) in line or str(s.workdir) in line):
            found.append(line[:200])
    return found


def _left(engine, lab: str, learner: str) -> list[str]:
    scope = Scope(lab, learner)
    left = [f"{o.kind} {o.name}" for o in engine.objects.of(scope)]
    if hasattr(engine, "client"):  # Docker: labelled or not, by name
        left += [f"container {c.name}" for c in engine.client.containers.list(all=True)
                 if c.name.startswith(scope.prefix + "-")]
    return sorted(set(left))


# ----------------------------------------------------------------------------- twins (no engine)


def test_twins_read_secrets_from_files_and_a_typed_line_reads_back():
    store = ServiceRun("reglab-07-seaweedfs", "chrislusf/seaweedfs", ("server", "-s3"),
                       (("127.0.0.1", 8333, 8333),),
                       (("AWS_ACCESS_KEY_ID", "reglab"), ("AWS_SECRET_ACCESS_KEY", "s3cr3t")),
                       ("AWS_SECRET_ACCESS_KEY",), data=("/tmp/x/s3data", "/data"), network="reglab-07-net")
    shown = repr(store.twin())
    assert "s3cr3t" not in shown and "-e AWS_SECRET_ACCESS_KEY \\" in shown and "-e AWS_ACCESS_KEY_ID=reglab" in shown
    assert shown.splitlines()[0] == "$ docker container run -d \\" and "    chrislusf/seaweedfs server -s3" in shown
    replica = RegistryRun("reglab-07-registry-1", "registry:3", 5001, env=(("REGISTRY_HTTP_SECRET", "abc"),),
                          files=(("/tmp/x/config.yml", "/etc/distribution/config.yml"),), network="reglab-07-net",
                          hidden=("REGISTRY_HTTP_SECRET",))
    assert "abc" not in str(replica.twin())
    assert RegistryRun.parse(replica.twin().argv, environ={"REGISTRY_HTTP_SECRET": "abc"}) == replica


# ----------------------------------------------------------------------------- a kernel killed mid-notebook


@pytest.mark.engine
@pytest.mark.parametrize("engine_kind", ENGINES)
def test_kernel_killed_mid_notebook_then_the_next_lab_leaves_no_part_running(engine_kind, request, tmp_path):
    from jupyter_client.manager import start_new_kernel

    learner = f"t-kill07-{engine_kind}"
    env = _env(engine_kind, tmp_path, learner)
    engine = _engine(engine_kind, request)
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(ROOT / "notebooks"))
    try:
        code = ("from reglab import Lab\nlab = Lab('07', echo=False)\nlab.scale.run_store()\n"
                "lab.scale.run_cache()\nlab.scale.run_replicas(2, secret='shared', cache=True)\n"
                "lab.scale.create_bucket()\nprint(lab.workdir)")
        printed: list[str] = []
        reply = client.execute_interactive(code, timeout=180, output_hook=lambda m: printed.append(
            m["content"].get("text", "")))
        assert reply["content"]["status"] == "ok", reply["content"]
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)  # SIGKILL: no clean-up, no atexit
    workdir = Path("".join(printed).strip())
    data = workdir / "s3data"
    assert data.is_dir() and any(data.iterdir())  # the bucket's data: in the lab's own folder
    left = _left(engine, "07", learner)
    assert {f"container reglab-{learner}-07-{part}" for part in ("seaweedfs", "redis", "nginx", "registry-1",
                                                                 "registry-2")} <= set(left), left
    if engine_kind == "local":
        running = _processes()
        assert [p for p in running if f"/{learner}/" in p], running
    cleared = subprocess.run([sys.executable, "-c", "from reglab import Lab; Lab('07', echo=False).cleanup()"],
                             env=env, capture_output=True, text=True, check=False, timeout=180)
    assert cleared.returncode == 0, cleared.stderr[-2000:]
    assert _left(engine, "07", learner) == []
    assert [p for p in _processes() if f"/{learner}/" in p] == []
    assert not data.exists()


# ----------------------------------------------------------------------------- lab sheet 13 against wrong fixes


def _without_registry_2(conf: Path) -> None:
    conf.write_text(re.sub(r"(?m)^\s*server \S*registry-2:5000;\n", "", conf.read_text()))


@pytest.mark.engine
@pytest.mark.parametrize("engine_kind", ENGINES)
def test_lab_13_refuses_the_wrong_fixes_and_accepts_the_right_one(engine_kind, request):
    from reglab import images
    from reglab.tasks import start

    engine = _engine(engine_kind, request)
    learner = f"t-l13-{engine_kind}"
    sheet = start("lab-13", engine=engine, echo=False, settings=engine.settings.but(learner=learner))
    scale = sheet.lab.scale
    try:
        unsolved = sheet.q1.result()
        assert not unsolved and "refused half-way" in unsolved.detail and "http.secret" in unsolved.detail
        assert not sheet.q2.result()

        scale.run_replicas(2, secret="different")  # a secret on each replica: not the same one
        different = sheet.q1.result()
        assert not different and "do not share one http.secret" in different.detail, different

        scale.run_replicas(2, secret="shared", sticky=True)  # every request to one replica
        sticky = sheet.q1.result()
        assert not sticky and "runs but got none" in sticky.detail, sticky

        scale.run_replicas(2, secret="shared")  # one shared secret, but replica 2 left out of nginx
        _without_registry_2(sheet.lab.workdir / "nginx" / "default.conf")
        engine.containers.restart(sheet.nginx)
        scale.balancer.api.wait_ready(timeout=30)
        left_out = sheet.q1.result()
        assert not left_out and f"{sheet.replica2} runs but got none" in left_out.detail, left_out

        scale.run_replicas(2, secret="shared")  # the fix
        assert sheet.q1.result(), sheet.q1.result()

        kept = f"{sheet.address}/team/app:kept"  # the set-up's image, under a name of the test's
        engine.images.tag(sheet.image_ref, kept)
        wrong = images.synthetic_image(sheet.image_ref, [images.random_layer("other.bin", 4096, "lab-13-wrong")])
        engine.images.load(images.docker_archive([wrong]))  # something else tagged team/app:v1, and pushed
        engine.images.push(sheet.image_ref)
        refused = sheet.q2.result()
        assert not refused and "not the set-up's" in refused.detail, refused

        engine.images.tag(kept, sheet.image_ref)
        engine.images.remove(kept)
        engine.images.remove(digest_of(wrong.config_bytes()))  # the other image, now without a name
        engine.images.push(sheet.image_ref)
        assert sheet.q2.result(), sheet.q2.result()
        assert sheet.q1.result(), "task 1 must stay done after task 2"
    finally:
        sheet.cleanup()
        if engine.images.info(f"{sheet.address}/team/app:kept"):
            engine.images.remove(f"{sheet.address}/team/app:kept")
    assert _left(engine, "lab-13", learner) == []
    if engine_kind == "local":
        assert [p for p in _processes() if f"/{learner}/" in p] == []


# ----------------------------------------------------------------------------- "Your turn" without the solutions


@pytest.mark.daemonless
def test_notebook_07_without_its_solutions_says_each_practice_task_is_not_done(tmp_path):
    from jupyter_client.manager import start_new_kernel

    learner = "t-practice07"
    env = _env("local", tmp_path, learner)
    cells = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells
             if c.cell_type == "code" and "solution" not in c.metadata.get("tags", [])]
    manager, client = start_new_kernel(kernel_name="python3", env=env, cwd=str(ROOT / "notebooks"))
    checks = {}
    try:
        for cell in cells:
            printed: list[str] = []
            reply = client.execute_interactive(cell.source, timeout=300, output_hook=lambda m, p=printed: p.append(
                m["content"].get("text", "")) if m["msg_type"] == "stream" else None)
            assert reply["content"]["status"] == "ok", (cell.source[:80], "".join(printed)[-2000:])
            found = re.match(r"^practice\.(q\d+)\.check\(\)$", cell.source.strip())
            if found:
                checks[found.group(1)] = "".join(printed).strip()
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    assert sorted(checks) == ["q1", "q2"]
    assert all(line.startswith(f"✘ Task {q[1:]} · ") for q, line in checks.items()), checks
    assert _left(LocalEngine(), "07", learner) == []
    assert [p for p in _processes() if f"/{learner}/" in p] == []
