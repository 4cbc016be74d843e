"""A Docker daemon of its own beside the machine's, as a learner's rootless Docker would be: its own
images, containers, volumes and bridge; the same 127.0.0.1 for published ports (with docker-proxy,
no iptables rules), a private address pool for its networks.

Containers on one of its networks reach each other: the machine's own dockerd sets FORWARD's policy
to DROP, and with ``net.bridge.bridge-nf-call-iptables = 1`` bridged packets pass through FORWARD,
while this daemon runs with ``--iptables=false`` and adds no rule of its own. So while it runs, one
ACCEPT rule (in DOCKER-USER where the machine's dockerd made that chain, else in FORWARD) lets
traffic between its own addresses through — its pool and its default bridge — and is removed when
it stops (notebook 07's store, cache, replicas and load balancer talk to each other by name).

Two users: tests/test_learners.py gives a learner one, and ``make test`` (scripts/test.sh) runs
Docker tests on two more beside the machine's daemon: a daemon's images are one namespace for all
its users and notebooks remove ``hello-world`` and count images, so their runs cannot share one
daemon at the same moment, but three daemons can each run one.

    python tests/second_dockerd.py --check   says whether a daemon can start here (exit 0), or why not
    python tests/second_dockerd.py [--pool CIDR] WORKDIR -- COMMAND…   runs COMMAND with DOCKER_HOST
    set to a daemon started for it (its networks in CIDR) and reglab's daemon.json and pid file
    (REGLAB_DAEMON_JSON, REGLAB_DOCKERD_PIDFILE) to its own, then stops the daemon and removes its
    data; exits with COMMAND's code.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import docker
import docker.errors

DEFAULT_POOL = "10.213.0.0/16"


def unavailable() -> str | None:
    """Why no second daemon can start here (None when it can): it needs root, dockerd and ip."""
    if os.geteuid() != 0:
        return "a second Docker daemon needs root"
    missing = [tool for tool in ("dockerd", "ip") if not shutil.which(tool)]
    return f"a second Docker daemon needs {' and '.join(missing)}" if missing else None


def _iptables(*args: str) -> bool:
    try:
        return subprocess.run(["iptables", "-w", *args], capture_output=True, check=False).returncode == 0
    except OSError:  # no iptables here: nothing filters bridged traffic either
        return False


def _accept_rules(pool: str, bridge: str) -> list[list[str]]:
    """Insert ACCEPT rules for traffic between this daemon's own addresses (its pool of network
    subnets, its default bridge); return them as ``[chain, rule…]`` to delete later."""
    chain = "DOCKER-USER" if _iptables("-S", "DOCKER-USER") else "FORWARD"
    added = []
    for rule in (["-s", pool, "-d", pool, "-j", "ACCEPT"], ["-i", bridge, "-o", bridge, "-j", "ACCEPT"]):
        if _iptables("-I", chain, "1", *rule):
            added.append([chain, *rule])
    return added


@contextmanager
def second_daemon(work: Path, pool: str = DEFAULT_POOL) -> Iterator[str]:
    """Start a dockerd whose files live under ``work``; yield its ``DOCKER_HOST``; stop it and
    remove its data and bridge on exit. ``pool``: where its networks take their subnets."""
    tag = secrets.token_hex(2)
    bridge, sock, exec_root = f"rltl{tag}", f"/run/reglab-tl-{tag}.sock", f"/run/reglab-tl-{tag}"
    daemon = None
    rules: list[list[str]] = []
    # daemons started at the same moment (make test's lanes) each take a subnet no other bridge has
    with open(__file__, "rb") as lock:  # (this file: every lane of a run has it, and nothing is left)
        fcntl.flock(lock, fcntl.LOCK_EX)
        taken = subprocess.run(["ip", "-br", "addr"], capture_output=True, text=True, check=True).stdout
        subnet = next(f"172.30.{n}" for n in range(200, 256) if f"172.30.{n}." not in taken)
        subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True)
        added = subprocess.run(["ip", "addr", "add", f"{subnet}.1/24", "dev", bridge], check=False)
    try:
        if added.returncode != 0:
            raise RuntimeError(f"the second dockerd's bridge {bridge} did not get {subnet}.1/24")
        rules = _accept_rules(pool, bridge)
        subprocess.run(["ip", "link", "set", bridge, "up"], check=True)
        work.mkdir(parents=True, exist_ok=True)
        (work / "daemon.json").write_text(json.dumps({"default-address-pools": [{"base": pool, "size": 24}]}) + "\n")
        with open(work / "dockerd.log", "wb") as log:
            daemon = subprocess.Popen(
                ["dockerd", "--data-root", str(work / "data"), "--exec-root", exec_root, "-H", f"unix://{sock}",
                 "--pidfile", str(work / "dockerd.pid"), "--config-file", str(work / "daemon.json"),
                 "--bridge", bridge, "--iptables=false", "--ip6tables=false", "--ip-masq=false"],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        for _ in range(240):
            try:
                docker.DockerClient(base_url=f"unix://{sock}", timeout=120).ping()
                break
            except (docker.errors.DockerException, OSError):  # not up yet
                if daemon.poll() is not None:
                    raise RuntimeError("the second dockerd stopped: " + (work / "dockerd.log").read_text()[-2000:])
                time.sleep(0.25)
        yield f"unix://{sock}"
    finally:
        if daemon is not None:
            daemon.terminate()
            try:
                daemon.wait(timeout=60)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        for chain, *rule in rules:
            _iptables("-D", chain, *rule)
        subprocess.run(["ip", "link", "del", bridge], capture_output=True, check=False)
        shutil.rmtree(work / "data", ignore_errors=True)
        shutil.rmtree(exec_root, ignore_errors=True)


def main(argv: list[str]) -> int:
    if argv == ["--check"]:  # scripts/test.sh: can a daemon start here? If not, why
        why = unavailable()
        print(why or "yes")
        return 1 if why else 0
    pool = DEFAULT_POOL
    if argv[:1] == ["--pool"]:
        pool, argv = argv[1], argv[2:]
    if len(argv) < 3 or argv[1] != "--":
        print("\n".join(__doc__.strip().splitlines()[-4:]), file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stopped: still stop the daemon
    work = Path(argv[0])
    with second_daemon(work, pool) as host:
        # the daemon reglab may reconfigure (notebooks 05, 06: daemon.json and SIGHUP) is this one:
        # without these, reglab.daemon would change the machine's daemon (its pid file is the default)
        # while DOCKER_HOST asks this one whether the change took
        env = dict(os.environ, DOCKER_HOST=host, REGLAB_DOCKERD_PIDFILE=str(work / "dockerd.pid"),
                   REGLAB_DAEMON_JSON=str(work / "daemon.json"))
        return subprocess.run(argv[2:], env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
