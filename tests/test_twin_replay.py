"""Every twin typed as printed does what the notebook shows (issue 22, item 3).

A notebook runs as a learner runs it, with ``REGLAB_TWIN_LOG`` set: each lab appends the twins it
prints, in order, with the output each step showed and which steps failed (``narrator.TwinLog``).
Then, on a fresh Docker daemon (tests/second_dockerd.py; the course images built there as a
learner's ``make lab`` builds them; one for all notebooks, replayed one after another as a learner
works through them), every twin is typed again in ``bash``, in order: each must succeed or fail as
the notebook said, and where the notebook showed a command's output, the command prints that
output (compared as nbval compares: tests/sanitize.cfg, ports numbered). After the cleanup's twins
the daemon holds no container, volume, network or image the notebook's twins made.

What a lab prepared that no twin makes — an image archive ``docker image load -i`` reads — is put
back where the twin names it (the log kept a copy). A container's address on a network differs
between daemons: the address a replayed ``docker container inspect`` prints replaces the recorded
one in every later twin. ``sudo`` is dropped (the tests run as root). Notebooks 05 and 06 are not
replayed here: their twins change the daemon's daemon.json and /etc/docker/certs.d, which only
the daemon the set-up started may have changed (tests/test_secure.py and tests/test_mirror.py
prove those steps on it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import second_dockerd
from kernel_runs import patterns
from nbclient import NotebookClient
from port_numbers import number_ports

ROOT = Path(__file__).resolve().parent.parent
REPLAYED = ["01", "02", "03", "04", "A"]
NOT_TYPED = ("add to ", "1. ", "2. ")  # instructions printed as a twin would be, never a command
IP = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
SHELL_PREFIX = re.compile(r"^(?:[A-Z_][A-Z0-9_]*=[^;]*; export [A-Z_][A-Z0-9_]*; )+")  # exercises._ShellEnv.prefix
# `docker image ls` prints the names of one image in the order of a Go map (docker/cli
# formatter/image.go ranges over a map of repository → tags): the same rows, any order
CURL_NO_FAIL = re.compile(r"^curl\b(?!.*\s(?:-f|--fail|-[a-zA-Z]*f[a-zA-Z]*)\s)")
UNORDERED = re.compile(r"^docker (?:image ls|images)\b")


def _rows_sorted(text: str) -> str:
    header, *rows = text.splitlines() or [""]
    return "\n".join([header, *sorted(rows)])


def _notebook(number: str) -> Path | None:
    found = sorted((ROOT / "notebooks").glob(f"{number}-*.ipynb"))
    return found[0] if found else None


def _sanitized(text: str, rules) -> str:
    for regex, replacement in rules:
        text = re.sub(regex, replacement, text)
    return number_ports(text).strip()


# A first cell for the recording run: every shell command the notebook's cells type (`!cmd`, `x =
# !cmd`: the "Your turn" solutions) goes into the twin log too, expanded as IPython runs it, in its
# place among the twins, and marked failed when it exits non-zero — the replay types it as well.
LOG_TYPED = r"""
def _reglab_log_typed():
    import json, os
    _reglab_ip, _reglab_path = get_ipython(), os.environ["REGLAB_TWIN_LOG"]

    def _reglab_logged(_reglab_run):
        def _reglab_typed(*_reglab_args, **_reglab_kwargs):
            _reglab_command = _reglab_ip.var_expand(_reglab_args[0], depth=0)
            with open(_reglab_path, "a") as _reglab_out:
                _reglab_out.write(json.dumps({"twin": _reglab_command, "typed": True}) + "\n")
            _reglab_ip.user_ns.pop("_exit_code", None)
            _reglab_result = _reglab_run(*_reglab_args, **_reglab_kwargs)
            if _reglab_ip.user_ns.get("_exit_code"):
                with open(_reglab_path, "a") as _reglab_out:
                    _reglab_out.write(json.dumps({"failed": True}) + "\n")
            return _reglab_result
        return _reglab_typed

    _reglab_ip.system = _reglab_logged(_reglab_ip.system)
    _reglab_ip.getoutput = _reglab_logged(_reglab_ip.getoutput)


_reglab_log_typed()
del _reglab_log_typed
"""


def _record(notebook: Path, log: Path, env: dict) -> None:
    """Run the notebook as a learner does (a kernel; its cells in order), with the twin log on and
    the shell commands its cells type logged as well (:data:`LOG_TYPED`)."""
    nb = nbformat.read(notebook, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(LOG_TYPED))
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}}
                   ).execute(env=dict(env, REGLAB_TWIN_LOG=str(log)))


def _lab_path(env: dict) -> str:
    """PATH as `make lab`'s JupyterLab gives its terminals (scripts/lab.sh): the venv's programs,
    then crane's folder."""
    from reglab import tools
    from reglab.config import Settings

    crane = tools.find("crane", Settings.from_env(env).tools_dir)
    return os.pathsep.join([str(ROOT / ".venv" / "bin"), *([str(crane.parent)] if crane else []), env["PATH"]])


def _entries(log: Path) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()]


def _free_ports(entries: list[dict]) -> dict[str, str]:
    """A free port of this machine for each port of 127.0.0.1 the twins name (other tests may hold
    the ones the recording run had): ``127.0.0.1:<old>`` → ``127.0.0.1:<new>``."""
    from reglab import ports

    found, nxt = {}, 5700
    for entry in entries:
        for old in re.findall(r"127\.0\.0\.1:(\d{2,5})", entry.get("twin", "")):
            if f"127.0.0.1:{old}" not in found:
                nxt = ports.choose(nxt)
                found[f"127.0.0.1:{old}"] = f"127.0.0.1:{nxt}"
                nxt += 1
    return found


def _replay(entries: list[dict], env: dict) -> list[str]:
    """Type every twin in bash; return what went otherwise than the notebook said."""
    rules = patterns()
    problems, addresses = [], _free_ports(entries)
    cwd, where = None, Path(os.environ.get("TMPDIR", "/tmp")) / f"reglab-replay-pwd-{os.getpid()}"
    for i, entry in enumerate(entries):
        if "twin" not in entry:
            continue
        # what the lab's shell hook put before a typed command (reglab's own PATH: the daemonless docker,
        # crane's link): a learner's terminal has its own (make lab's PATH), as the replay's
        command = SHELL_PREFIX.sub("", entry["twin"])
        if command.startswith(NOT_TYPED):
            continue
        for recorded, kept in entry.get("files", {}).items():
            Path(recorded).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(kept, recorded)
        for old, new in addresses.items():
            command = command.replace(old, new)
        command = re.sub(r"(^|\s)sudo\s+", r"\1", command)
        later = entries[i + 1:]
        upto = next((j for j, e in enumerate(later) if "twin" in e), len(later))
        failed = any("failed" in e for e in later[:upto])
        shown = [e["output"] for e in later[:upto] if "output" in e]
        where.unlink(missing_ok=True)
        done = subprocess.run(["bash", "-c", f'{command}\nstatus=$?; echo "$PWD" > {where}; exit $status'], capture_output=True, text=True,
                              env=env, timeout=300, check=False, cwd=cwd)
        if where.exists():  # `cd DIR` lasts, as in the learner's terminal
            cwd = where.read_text().strip() or cwd
            where.unlink()
        # curl without --fail exits 0 on an HTTP error: what fails there is the registry's answer, an
        # error document ({"errors": [...]}, distribution's API), which the learner sees printed
        answered_error = failed and CURL_NO_FAIL.match(command) and '{"errors":' in done.stdout
        typed_failed = done.returncode != 0 or bool(answered_error)
        if failed != typed_failed:
            problems.append(f"{command!r} {'failed' if typed_failed else 'succeeded'} (exit "
                            f"{done.returncode}: {(done.stderr or done.stdout).strip()[:300]}), the notebook "
                            f"says it {'fails' if failed else 'works'}")
            continue
        if "docker image load" in command:  # the archive names the recording's ports: name it as the twins do
            for loaded in re.findall(r"(?m)^Loaded image: (\S+)$", done.stdout):
                renamed = next((loaded.replace(old, new, 1) for old, new in addresses.items()
                                if loaded.startswith(f"{old}/")), None)
                if renamed:
                    subprocess.run(["docker", "image", "tag", loaded, renamed], env=env, check=True)
                    subprocess.run(["docker", "image", "rm", loaded], env=env, check=True, capture_output=True)
        if "NetworkSettings.Networks" in command and shown and IP.fullmatch(shown[0].strip()):
            addresses[shown[0].strip()] = done.stdout.strip()  # this daemon's address for it
            continue
        if shown and not failed:  # what the command prints (curl's progress meter, on a pipe only, is not)
            printed, expected = _sanitized(done.stdout or done.stderr, rules), _sanitized(shown[0], rules)
            if UNORDERED.match(command):  # the docker CLI lists one image's names in Go map order: any order
                printed, expected = (_rows_sorted(text) for text in (printed, expected))
            if expected != printed:
                problems.append(f"{command!r} printed\n{printed[:600]}\nwhere the notebook shows\n{expected[:600]}")
    return problems


def _docker(env: dict, *args: str) -> list[str]:
    return subprocess.run(["docker", *args], env=env, capture_output=True, text=True, check=True).stdout.split()


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A fresh Docker daemon with the course images, as a learner's ``make lab`` leaves one (and
    registry:2, which a learner's docker would pull for appendix A): the environment of a terminal
    of ``make lab``'s JupyterLab using it. The notebooks are replayed on it one after another, as a
    learner works through them on one machine."""
    if why := second_dockerd.unavailable():
        pytest.skip(why)
    with second_dockerd.second_daemon(tmp_path_factory.mktemp("fresh"), pool="10.216.0.0/16") as host:
        env = dict(os.environ, DOCKER_HOST=host, PATH=_lab_path(dict(os.environ)))
        subprocess.run([sys.executable, "-m", "reglab", "images"], env=env, check=True, capture_output=True)
        subprocess.run([sys.executable, "-c", "from reglab import images; from reglab.engines import get_engine; "
                        "images.ensure(get_engine(), ('registry',), references={'registry': 'registry:2'})"],
                       env=env, check=True, capture_output=True)
        yield env


@pytest.mark.engine
@pytest.mark.docker
@pytest.mark.parametrize("number", REPLAYED)
def test_twins_typed_as_printed_do_what_the_notebook_shows(number, engine, fresh, tmp_path):
    notebook = _notebook(number)
    if notebook is None:
        pytest.skip(f"there is no notebook {number} yet")
    log = tmp_path / "twins.jsonl"
    env = dict(os.environ)
    # recorded with the daemonless engine: the same twins and outputs as under Docker (nbval compares
    # both engines' runs with the one committed notebook), for less CPU than containers
    _record(notebook, log, dict(env, REGLAB_ENGINE="local"))
    entries = _entries(log)
    assert sum("twin" in e for e in entries) >= 5, "the notebook printed hardly any twin"
    # the course images, as each notebook's Lab() makes sure of them (a learner's docker would pull
    # hello-world again where a twin needs it; here there is no Docker Hub)
    subprocess.run([sys.executable, "-m", "reglab", "images"], env=fresh, check=True, capture_output=True)
    images = set(_docker(fresh, "image", "ls", "-q", "--no-trunc"))
    try:
        problems = _replay(entries, fresh)
        # the cleanup's twins undo what the notebook's twins did: the daemon is as the learner had it
        left = {"containers": _docker(fresh, "container", "ls", "-aq"), "volumes": _docker(fresh, "volume", "ls", "-q"),
                "networks": [n for n in _docker(fresh, "network", "ls", "--format", "{{.Name}}")
                             if n not in ("bridge", "host", "none")],
                "images": sorted(set(_docker(fresh, "image", "ls", "-q", "--no-trunc")) - images)}
    finally:  # whatever a failed replay left, so that the next notebook starts as a learner's would
        for kind, ls, rm in (("container", ["container", "ls", "-aq"], ["container", "rm", "-f", "-v"]),
                             ("volume", ["volume", "ls", "-q"], ["volume", "rm", "-f"])):
            if found := _docker(fresh, *ls):
                _docker(fresh, *rm, *found)
        subprocess.run(["docker", "network", "prune", "-f"], env=fresh, capture_output=True, check=False)
        for image in set(_docker(fresh, "image", "ls", "-q", "--no-trunc")) - images:
            subprocess.run(["docker", "image", "rm", "-f", image], env=fresh, capture_output=True, check=False)
        # the folders the twins made (bind mounts, certificates) go with the replay
        from reglab.config import Settings

        lab = re.search(r'Lab\(\\?"([a-z0-9-]+)', notebook.read_text()).group(1)
        shutil.rmtree(Settings.from_env().workdir / lab, ignore_errors=True)
    assert problems == [], "\n\n".join(problems)
    assert left == {"containers": [], "volumes": [], "networks": [], "images": []}, \
        f"the cleanup's twins left {left}"
