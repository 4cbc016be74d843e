"""A class on one machine: how many learners can run the course at once on the daemonless engine?

Each learner has a home of their own, ``REGLAB_LEARNER`` set, and a kernel of their own (as
JupyterHub's single-user servers start them), and runs notebooks 01 and 02 cell by cell; every
learner starts at the same moment (the whole class pressing "Run all" together: the worst case).
Every cell's outputs are compared with the committed ones as nbval does, so a row counts only
learners whose whole run passed. Per class size it prints the kernel start time, the cell
times (p50, p95, max: a cell's time is from sending it to the kernel being idle again), the
memory per learner (peak RSS of the learner's kernel plus its registry process) and the
learners whose run failed, and how busy the machine was with anything else during the run (its
CPU minus this benchmark's, in cores: other people's work on a shared machine slows every cell);
afterwards no registry process may be left. Last line:
``learners at p95 ≤ 2 s: N``, the largest class measured whose p95 stayed within 2 s with
every learner passing.

    REGLAB_OFFLINE=1 python benchmarks/classroom.py [--learners 1,5,10,20,40,50,60] [--notebooks 01,02]
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from kernel_runs import LocalKernel, patterns, run_notebook  # noqa: E402
from reglab.config import Settings  # noqa: E402

LIMIT = 2.0
# the learners' kernel as the class recipe gives it (jupyter/kernels/python3: no history database);
# jupyter_client reads kernel specs in this process, before each kernel starts
os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(ROOT / "jupyter"), os.environ.get("JUPYTER_PATH")]))


@dataclass
class Learner:
    name: str
    home: Path
    kernel: LocalKernel | None = None
    start_seconds: float = 0.0
    cells: list[float] = field(default_factory=list)
    by_cell: dict[tuple[str, int, str], float] = field(default_factory=dict)
    failure: str | None = None
    peak_rss: int = 0
    cpu_kernel: float = 0.0  # CPU seconds of the kernel during the run (not its start)
    cpu_children: float = 0.0  # ... of the processes it ran and reaped (registries, gcc)

    def cpu(self) -> tuple[float, float]:
        times = psutil.Process(self.kernel.pid).cpu_times()
        return times.user + times.system, times.children_user + times.children_system


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def learner_env(learner: Learner) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGLAB_") or k == "REGLAB_REGISTRY_BIN"}
    env.update(HOME=str(learner.home), REGLAB_LEARNER=learner.name, JUPYTERHUB_USER=learner.name,
               REGLAB_ENGINE="local", REGLAB_OFFLINE="1", DOCKER_HOST="unix:///nonexistent/docker.sock",
               TMPDIR=str(learner.home / "tmp"),
               OPENBLAS_NUM_THREADS="1",  # as the class recipe's spawner sets it (jupyterhub_config.py)
               # the Go-built tools where this machine built them, as the class's copy is every learner's
               REGLAB_TOOLS_DIR=str(Settings.from_env().tools_dir))
    return env


def start(learner: Learner) -> None:
    (learner.home / "tmp").mkdir(parents=True)
    started = time.monotonic()
    learner.kernel = LocalKernel(learner_env(learner), cwd=str(learner.home))
    learner.start_seconds = time.monotonic() - started


def run(learner: Learner, notebooks: list[Path], go: threading.Barrier) -> None:
    before = learner.cpu()
    go.wait()
    pairs = patterns(learner=learner.name)
    try:
        for notebook in notebooks:
            try:
                runs = run_notebook(learner.kernel, notebook, pairs, timeout=600)
            except Exception as exc:  # a cell that never finished: this learner failed
                learner.failure = f"{notebook.name[:2]}: {exc}"
                return
            learner.cells += [r.seconds for r in runs]
            learner.by_cell.update({(notebook.name[:2], r.index, r.source.splitlines()[0][:50]): r.seconds for r in runs})
            bad = [r for r in runs if not r.ok]
            if bad:
                learner.failure = f"{notebook.name[:2]} {bad[0]}"
                return
    finally:
        after = learner.cpu()
        learner.cpu_kernel, learner.cpu_children = after[0] - before[0], after[1] - before[1]


def sample_memory(learners: list[Learner], stop: threading.Event) -> None:
    """Peak RSS per learner: the kernel and every process under it (its registry), from one
    scan of the process table per round."""
    kernels = {learner.kernel.pid: learner for learner in learners}
    while not stop.wait(0.25):
        rss: dict[int, int] = {}
        parent: dict[int, int] = {}
        for proc in psutil.process_iter(["ppid", "memory_info"]):
            if proc.info["memory_info"] is not None:
                rss[proc.pid], parent[proc.pid] = proc.info["memory_info"].rss, proc.info["ppid"]
        totals: dict[int, int] = {}
        for pid, size in rss.items():
            seen, ancestor = 0, pid
            while ancestor not in kernels and ancestor in parent and seen < 8:
                ancestor, seen = parent[ancestor], seen + 1
            if ancestor in kernels:
                totals[ancestor] = totals.get(ancestor, 0) + size
        for pid, total in totals.items():
            kernels[pid].peak_rss = max(kernels[pid].peak_rss, total)


def registry_processes(marker: str) -> list[int]:
    out = subprocess.run(["pgrep", "-f", f"docker-registry serve {marker}"], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def measure(count: int, notebooks: list[Path], work: Path) -> dict:
    learners = [Learner(f"learner{i:02d}", work / f"c{count}" / f"learner{i:02d}") for i in range(1, count + 1)]
    with ThreadPoolExecutor(count) as pool:
        list(pool.map(start, learners))
    go = threading.Barrier(count)
    stop = threading.Event()
    sampler = threading.Thread(target=sample_memory, args=(learners, stop), daemon=True)
    sampler.start()
    began = time.monotonic()
    driver = time.process_time()
    machine, ours = _busy(), _our_cpu()
    try:
        with ThreadPoolExecutor(count) as pool:
            list(pool.map(lambda learner: run(learner, notebooks, go), learners))
    finally:
        wall = time.monotonic() - began
        driver = time.process_time() - driver
        stop.set()
        sampler.join()
        with ThreadPoolExecutor(count) as pool:
            list(pool.map(lambda learner: learner.kernel.shutdown(), learners))
        # the CPU this machine spent on anything but this benchmark, its kernels and their registries
        others = max(0.0, (_busy() - machine) - (_our_cpu() - ours)) / max(wall, 1e-9)
    cells = [s for learner in learners for s in learner.cells]
    left = registry_processes(str(work / f"c{count}"))
    return {
        "learners": count,
        "kernel_p95": percentile([lr.start_seconds for lr in learners], 95),
        "p50": statistics.median(cells) if cells else float("nan"),
        "p95": percentile(cells, 95) if cells else float("nan"),
        "max": max(cells) if cells else float("nan"),
        "mib": statistics.median(lr.peak_rss for lr in learners) / 2**20,
        "failed": [f"{lr.name}: {lr.failure}" for lr in learners if lr.failure],
        "wall": wall,
        "cpu": (statistics.mean(lr.cpu_kernel for lr in learners), statistics.mean(lr.cpu_children for lr in learners),
                driver / count),
        "left": left,
        "others": others,
        "slowest": sorted(((statistics.median(times), key) for key, times in _per_cell(learners).items()),
                          reverse=True)[:3],
    }


def _busy() -> float:
    """CPU seconds this machine has spent busy (all processes, all cores) since it started."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def _our_cpu() -> float:
    """CPU seconds of this benchmark, of the processes it waited for (its kernels, and through them
    their registries) and of those still running (the kernels, at the start of a run)."""
    me = psutil.Process()
    times = me.cpu_times()
    live = 0.0
    for child in me.children(recursive=True):
        try:
            child_times = child.cpu_times()
            live += child_times.user + child_times.system
        except psutil.NoSuchProcess:
            pass
    return times.user + times.system + times.children_user + times.children_system + live


def _per_cell(learners: list[Learner]) -> dict[tuple, list[float]]:
    cells: dict[tuple, list[float]] = {}
    for learner in learners:
        for key, seconds in learner.by_cell.items():
            cells.setdefault(key, []).append(seconds)
    return cells


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", default="1,5,10,20,40,50,60", help="class sizes, comma-separated")
    parser.add_argument("--notebooks", default="01,02")
    parser.add_argument("--verbose", action="store_true", help="print every failed learner")
    args = parser.parse_args()
    notebooks = [next((ROOT / "notebooks").glob(f"{n}-*.ipynb")) for n in args.notebooks.split(",")]
    # as an installed reglab is (pip compiles it): no kernel compiles reglab's sources on import,
    # even where PYTHONDONTWRITEBYTECODE is set
    compileall.compile_dir(ROOT / "src" / "reglab", quiet=1)
    work = Path(tempfile.mkdtemp(prefix="reglab-bench-class-"))
    print(f"notebooks {', '.join(n.stem for n in notebooks)}; {os.cpu_count()} cores; every learner at once")
    print(f"{'learners':>8} {'kernel p95':>10} {'cell p50':>9} {'cell p95':>9} {'cell max':>9} "
          f"{'MiB/learner':>11} {'failed':>6} {'wall':>7}   CPU s/learner: kernel+registry+driver; others' cores")
    best = 0
    try:
        for count in [int(n) for n in args.learners.split(",")]:
            row = measure(count, notebooks, work)
            print(f"{count:>8} {row['kernel_p95']:>9.2f}s {row['p50']:>8.3f}s {row['p95']:>8.3f}s "
                  f"{row['max']:>8.2f}s {row['mib']:>11.0f} {len(row['failed']):>6} {row['wall']:>6.1f}s   "
                  f"{row['cpu'][0]:.2f}+{row['cpu'][1]:.2f}+{row['cpu'][2]:.2f}; {row['others']:.2f}", flush=True)
            if args.verbose:
                print("         slowest cells (median): " + "; ".join(
                    f"{nb}/{index} {source!r} {median:.2f}s" for median, (nb, index, source) in row["slowest"]))
            for failure in row["failed"][: None if args.verbose else 2]:
                print(f"         {failure[:160]}")
            if row["left"]:
                print(f"         {len(row['left'])} registry processes left behind!")
            if row["p95"] <= LIMIT and not row["failed"] and not row["left"]:
                best = max(best, count)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"learners at p95 ≤ {LIMIT:g} s: {best}")


if __name__ == "__main__":
    main()
