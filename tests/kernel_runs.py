"""Run a notebook's code cells in a kernel reached through its messages, and compare each cell's
outputs with the committed ones the way nbval does (its stream coalescing, its skipped keys, its
cell markers, tests/sanitize.cfg) — for kernels nbval cannot start itself: a learner's kernel
behind JupyterHub (over the single-user server's websocket) or many at once (the benchmark).

    kernel = HubKernel(f"{hub}/user/{name}", token)      # or LocalKernel(env, cwd)
    runs = run_notebook(kernel, path, patterns)          # one CellRun per code cell
    failures = [r for r in runs if not r.ok]
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode
from nbval.plugin import (
    coalesce_streams,
    find_comment_markers,
    find_metadata_tags,
    get_sanitize_patterns,
    transform_streams_for_comparison,
)

from port_numbers import number_ports  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SANITIZE = ROOT / "tests" / "sanitize.cfg"
# what nbval leaves out of the comparison (IPyNbFile.skip_compare, without --nbdime)
SKIP_COMPARE = ("metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
                "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg")


def patterns(learner: str | None = None) -> list[tuple[str, str]]:
    """tests/sanitize.cfg's (regex, replacement) pairs; with ``learner``, first the pairs that
    turn a learner's outputs into the committed ones (made without a learner): names
    ``reglab-<learner>-<lab>-…``, the ``reglab.learner`` label, the learner's folder."""
    pairs = get_sanitize_patterns(SANITIZE.read_text())
    if learner is None:
        return pairs
    name = re.escape(learner)
    return [
        (rf"\breglab-{name}-", "reglab-"),
        (rf",reglab\.learner={name}\b", ""),
        (rf" --filter label=reglab\.learner={name}\b", ""),
        (rf"(/reglab-[^/\s'\"]+)/{name}/", r"\1/"),
        (rf" of learner {name}\b", ""),
    ] + pairs


@dataclass
class CellRun:
    index: int
    source: str
    seconds: float
    outputs: list
    error: str | None = None  # "ename: evalue" of an exception nbval would fail on
    difference: str | None = None  # how the outputs differ from the committed ones

    @property
    def ok(self) -> bool:
        return self.error is None and self.difference is None

    def __str__(self) -> str:
        return f"cell {self.index} {self.source.splitlines()[0][:60]!r}: {self.error or self.difference or 'ok'}"


def _output(msg_type: str, content: dict) -> NotebookNode | None:
    """One iopub message as a notebook output (as nbval collects them), or None."""
    if msg_type == "stream":
        return NotebookNode(output_type="stream", name=content["name"], text=content["text"])
    if msg_type in ("display_data", "execute_result"):
        out = NotebookNode(output_type=msg_type, data=content["data"], metadata=content["metadata"])
        if msg_type == "execute_result":
            out.execution_count = content["execution_count"]
        return out
    if msg_type == "error":
        return NotebookNode(output_type="error", ename=content["ename"], evalue=content["evalue"],
                            traceback=content["traceback"])
    return None


def _sanitize(value, pairs):
    if not isinstance(value, str):
        return value
    for regex, replace in pairs:
        value = re.sub(regex, replace, value)
    return number_ports(value)


def _flatten(outputs, pairs) -> dict[str, list]:
    flat = defaultdict(list)
    for output in transform_streams_for_comparison(outputs):
        for key, value in output.items():
            if key in SKIP_COMPARE:
                continue
            if key == "data":
                for mime, data in value.items():
                    if mime not in SKIP_COMPARE:
                        flat[mime].append(_sanitize(data, pairs))
            else:
                flat[key].append(_sanitize(value, pairs))
    return flat


def compare(reference, test, pairs) -> str | None:
    """None when nbval would accept ``test`` for ``reference``; else what differs."""
    ref = _flatten(coalesce_streams([NotebookNode(o) for o in reference]), pairs)
    got = _flatten(coalesce_streams(list(test)), pairs)
    if set(ref) != set(got):
        return f"output fields {sorted(got)} where the notebook has {sorted(ref)}"
    for key, values in ref.items():
        if values != got[key]:
            return f"{key} differs:\n--- committed\n{values}\n+++ this run\n{got[key]}"
    return None


def code_cells(path: Path) -> list[tuple[str, dict, list]]:
    """(source, nbval options, committed outputs) of each code cell."""
    notebook = nbformat.read(str(path), as_version=4)
    cells = []
    for cell in notebook.cells:
        if cell.cell_type == "code":
            options = defaultdict(bool, find_metadata_tags(cell.metadata))
            options.update(dict(find_comment_markers(cell.source)))
            options.setdefault("check", True)
            cells.append((cell.source, options, cell.outputs if cell.execution_count is not None else None))
    return cells


def run_notebook(kernel, path: Path, pairs, timeout: float = 300, stop_at_error: bool = True) -> list[CellRun]:
    """Run every code cell of ``path`` in ``kernel`` in order; compare as nbval would."""
    runs = []
    for index, (source, options, reference) in enumerate(code_cells(path)):
        if options["skip"]:
            continue
        started = time.monotonic()
        outputs = kernel.execute(source, timeout)
        run = CellRun(index, source, time.monotonic() - started, outputs)
        errors = [o for o in outputs if o.output_type == "error"]
        if errors and not options["check_exception"]:
            run.error = f"{errors[0].ename}: {errors[0].evalue}"
        elif options["check"] and reference is not None:
            run.difference = compare(reference, outputs, pairs)
        runs.append(run)
        if run.error and stop_at_error:
            break
    return runs


def _deadline_left(deadline: float, code: str) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError(f"the cell ran too long: {code.splitlines()[0][:60]!r}")
    return remaining


def _iopub(msg: dict, outputs: list) -> bool:
    """Take one iopub message of the cell into ``outputs``; True when the kernel went idle."""
    msg_type = msg["header"]["msg_type"]
    if msg_type == "status":
        return msg["content"]["execution_state"] == "idle"
    if msg_type == "clear_output":
        outputs.clear()
    else:
        out = _output(msg_type, msg["content"])
        if out is not None:
            outputs.append(out)
    return False


class HubKernel:
    """A new kernel on a Jupyter server (here: a learner's single-user server behind the hub's
    proxy), driven over its websocket with a hub API token."""

    def __init__(self, server_url: str, token: str, kernel_name: str = "python3", start_timeout: float = 120):
        import requests
        import websocket

        self.url = server_url.rstrip("/")
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"token {token}"
        reply = self.http.post(f"{self.url}/api/kernels", json={"name": kernel_name}, timeout=start_timeout)
        reply.raise_for_status()
        self.id = reply.json()["id"]
        self.session = uuid.uuid4().hex
        ws_url = re.sub(r"^http", "ws", f"{self.url}/api/kernels/{self.id}/channels?session_id={self.session}")
        self.ws = websocket.create_connection(ws_url, header=[f"Authorization: token {token}"],
                                              timeout=start_timeout)

    def execute(self, code: str, timeout: float) -> list:
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": "test", "session": self.session, "msg_type": "execute_request",
                       "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True},
        }))
        outputs, idle, replied = [], False, False
        deadline = time.monotonic() + timeout
        while not (idle and replied):
            self.ws.settimeout(_deadline_left(deadline, code))
            msg = json.loads(self.ws.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg.get("channel") == "shell" and msg["header"]["msg_type"] == "execute_reply":
                replied = True
            elif msg.get("channel") == "iopub":
                idle = _iopub(msg, outputs) or idle
        return coalesce_streams(outputs)

    def shutdown(self) -> None:
        try:
            self.ws.close()
        finally:
            self.http.delete(f"{self.url}/api/kernels/{self.id}", timeout=60)


class LocalKernel:
    """A kernel this process starts (jupyter_client), with its own environment."""

    def __init__(self, env: dict, cwd: str, kernel_name: str = "python3", start_timeout: float = 300):
        from jupyter_client.manager import KernelManager

        # Unix sockets, not TCP: with TCP, jupyter_client picks each kernel's five ports by binding
        # and releasing them, and of 60 kernels started at once one died on a port another had taken.
        self.sockets = tempfile.mkdtemp(prefix="reglab-kernel-")
        self.manager = KernelManager(kernel_name=kernel_name, transport="ipc", ip=f"{self.sockets}/k")
        self.manager.start_kernel(env=env, cwd=cwd)
        self.client = self.manager.client()
        self.client.start_channels(hb=False)  # the heartbeat thread can hang stop_channels under load
        self.client.wait_for_ready(timeout=start_timeout)

    @property
    def pid(self) -> int:
        return self.manager.provisioner.pid

    def execute(self, code: str, timeout: float) -> list:
        msg_id = self.client.execute(code, allow_stdin=False)
        outputs = []
        deadline = time.monotonic() + timeout
        while True:
            msg = self.client.get_iopub_msg(timeout=_deadline_left(deadline, code))
            if msg["parent_header"].get("msg_id") == msg_id and _iopub(msg, outputs):
                break
        while self.client.get_shell_msg(timeout=_deadline_left(deadline, code))["parent_header"].get(
                "msg_id") != msg_id:
            pass
        return coalesce_streams(outputs)

    def shutdown(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_wait_time = 60  # a lab's clean-up at exit takes seconds on a busy machine (5 by default)
        self.manager.shutdown_kernel(now=False)
        shutil.rmtree(self.sockets, ignore_errors=True)
