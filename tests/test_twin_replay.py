"""Every twin typed as printed does what the notebook shows (issue 22, item 3).

A notebook runs as a learner runs it, with ``REGLAB_TWIN_LOG`` set: each lab appends the twins it
prints, in order, with the output each step showed and which steps failed (``narrator.TwinLog``).
Then, on a fresh Docker daemon of its own (tests/second_dockerd.py; the course images built there
as a learner's ``make lab`` builds them), every twin is typed again in ``bash``, in order: each
must succeed or fail as the notebook said, and where the notebook showed a command's output, the
command prints that output (compared as nbval compares: tests/sanitize.cfg, ports numbered).

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


def _notebook(number: str) -> Path | None:
    found = sorted((ROOT / "notebooks").glob(f"{number}-*.ipynb"))
    return found[0] if found else None


def _sanitized(text: str, rules) -> str:
    for regex, replacement in rules:
        text = re.sub(regex, replacement, text)
    return number_ports(text).strip()


def _record(notebook: Path, log: Path, env: dict) -> None:
    """Run the notebook as a learner does (a kernel; its cells in order), with the twin log on."""
    nb = nbformat.read(notebook, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(notebook.parent)}}
                   ).execute(env=dict(env, REGLAB_TWIN_LOG=str(log)))


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
    for i, entry in enumerate(entries):
        if "twin" not in entry:
            continue
        command = entry["twin"]
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
        done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env, timeout=300,
                              check=False)
        if failed != (done.returncode != 0):
            problems.append(f"{command!r} {'succeeded' if done.returncode == 0 else 'failed'} (exit "
                            f"{done.returncode}: {(done.stderr or done.stdout).strip()[:300]}), the notebook "
                            f"says it {'fails' if failed else 'works'}")
            continue
        if "NetworkSettings.Networks" in command and shown and IP.fullmatch(shown[0].strip()):
            addresses[shown[0].strip()] = done.stdout.strip()  # this daemon's address for it
            continue
        if shown and not failed:  # what the command prints (curl's progress meter, on a pipe only, is not)
            printed = _sanitized(done.stdout or done.stderr, rules)
            if _sanitized(shown[0], rules) != printed:
                problems.append(f"{command!r} printed\n{printed[:600]}\nwhere the notebook shows\n"
                                f"{_sanitized(shown[0], rules)[:600]}")
    return problems


@pytest.mark.engine
@pytest.mark.docker
@pytest.mark.parametrize("number", REPLAYED)
def test_twins_typed_as_printed_do_what_the_notebook_shows(number, engine, tmp_path):
    notebook = _notebook(number)
    if notebook is None:
        pytest.skip(f"there is no notebook {number} yet")
    if why := second_dockerd.unavailable():
        pytest.skip(why)
    log = tmp_path / "twins.jsonl"
    env = dict(os.environ)
    _record(notebook, log, env)
    entries = _entries(log)
    assert sum("twin" in e for e in entries) >= 5, "the notebook printed hardly any twin"
    lab_folder = None
    try:
        with second_dockerd.second_daemon(tmp_path / "fresh", pool="10.216.0.0/16") as host:
            fresh = dict(env, DOCKER_HOST=host)
            subprocess.run([sys.executable, "-m", "reglab", "images"], env=fresh, check=True, capture_output=True)
            problems = _replay(entries, fresh)
    finally:  # the folders the twins made (bind mounts, certificates) go with the replay
        from reglab.config import Settings

        lab = re.search(r'Lab\(\\?"([a-z0-9-]+)', notebook.read_text()).group(1)
        lab_folder = Settings.from_env().workdir / lab
        shutil.rmtree(lab_folder, ignore_errors=True)
    assert problems == [], "\n\n".join(problems)
