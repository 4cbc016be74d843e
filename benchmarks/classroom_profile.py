"""Where one learner's CPU goes, for the class benchmark's notebooks (benchmarks/classroom.py).

One learner, as the benchmark makes them (a home, REGLAB_LEARNER, the daemonless engine, a kernel of
their own), on an otherwise idle machine. Prints:

- the kernel's start: CPU seconds of the kernel process until it answers (ipykernel, IPython);
- per cell: CPU seconds of the kernel and of the processes under it (the learner's registries,
  counted live and after they exit), the cell's source, the slowest first;
- per notebook: the totals, and the import of reglab in a fresh interpreter (``-X importtime``:
  the heaviest modules, cumulative);
- with ``--pyinstrument``: pyinstrument's tree of the kernel's Python for the whole run (wall
  time, so waits on the registry show as such).

    REGLAB_OFFLINE=1 python benchmarks/classroom_profile.py [--notebooks 01,02] [--pyinstrument]
      [--kernel-args "--HistoryManager.enabled=False ..."]
"""

from __future__ import annotations

import argparse
import compileall
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))
from kernel_runs import LocalKernel, code_cells  # noqa: E402

from classroom import Learner, learner_env  # noqa: E402


def tree_cpu(pid: int) -> tuple[float, float]:
    """(the process's own CPU seconds, its children's: those it waited for plus those running)."""
    proc = psutil.Process(pid)
    own = proc.cpu_times()
    live = 0.0
    for child in proc.children(recursive=True):
        try:
            times = child.cpu_times()
            live += times.user + times.system
        except psutil.NoSuchProcess:  # exited between the listing and now: in children_* once waited for
            pass
    return own.user + own.system, own.children_user + own.children_system + live


def kernel_with_args(env: dict, cwd: str, extra: list[str]) -> LocalKernel:
    if not extra:
        return LocalKernel(env, cwd)
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    folder = Path(tempfile.mkdtemp(prefix="reglab-kspec-")) / "kernels" / "python3-profile"
    folder.mkdir(parents=True)
    (folder / "kernel.json").write_text(__import__("json").dumps(
        {"argv": [*spec.argv, *extra], "display_name": "profile", "language": "python"}))
    env = dict(env, JUPYTER_PATH=str(folder.parent.parent))
    os.environ["JUPYTER_PATH"] = str(folder.parent.parent)
    return LocalKernel(env, cwd, kernel_name="python3-profile")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", default="01,02")
    parser.add_argument("--pyinstrument", action="store_true")
    parser.add_argument("--cprofile", action="store_true",
                        help="cProfile on the kernel's CPU clock (time.process_time): the top functions, cumulative")
    parser.add_argument("--kernel-args", default="", help="extra arguments for the kernel (IPKernelApp options)")
    parser.add_argument("--top", type=int, default=12)
    args = parser.parse_args()
    compileall.compile_dir(ROOT / "src" / "reglab", quiet=1)
    notebooks = [next((ROOT / "notebooks").glob(f"{n}-*.ipynb")) for n in args.notebooks.split(",")]
    work = Path(tempfile.mkdtemp(prefix="reglab-profile-"))
    learner = Learner("learner01", work / "learner01")
    (learner.home / "tmp").mkdir(parents=True)
    env = learner_env(learner)
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores")
    try:
        started = time.monotonic()
        kernel = kernel_with_args(env, str(learner.home), shlex.split(args.kernel_args))
        start_wall = time.monotonic() - started
        own0, _ = tree_cpu(kernel.pid)
        print(f"kernel start: {own0:.2f} CPU s in the kernel ({start_wall:.2f} s wall)")
        if args.pyinstrument:
            kernel.execute("import pyinstrument as _pi; _prof = _pi.Profiler(interval=0.001); _prof.start()", 60)
        if args.cprofile:
            kernel.execute("import cProfile as _cp, time as _t; _cprof = _cp.Profile(_t.process_time); "
                           "_cprof.enable()", 60)
        rows = []
        totals = {}
        for notebook in notebooks:
            nb_kernel, nb_children = 0.0, 0.0
            for index, (source, options, reference) in enumerate(code_cells(notebook)):
                if options["skip"]:
                    continue
                before = tree_cpu(kernel.pid)
                t0 = time.monotonic()
                outputs = kernel.execute(source, 300)
                wall = time.monotonic() - t0
                after = tree_cpu(kernel.pid)
                k, c = after[0] - before[0], after[1] - before[1]
                nb_kernel, nb_children = nb_kernel + k, nb_children + c
                errors = [o for o in outputs if o.output_type == "error"]
                rows.append((k + c, k, c, wall, notebook.name[:2], index, source.splitlines()[0][:60],
                             f" ERROR {errors[0].ename}" if errors else ""))
            totals[notebook.name[:2]] = (nb_kernel, nb_children)
        loaded = kernel.execute("import sys; print(' '.join(m for m in ('numpy', 'matplotlib', 'ipywidgets', "
                                "'docker', 'requests', 'cryptography', 'tqdm', 'urllib3', 'yaml', 'jsonschema') "
                                "if m in sys.modules))", 60)
        print("imported by the end: " + "".join(o.get("text", "") for o in loaded).strip())
        if args.pyinstrument:
            out = kernel.execute("_prof.stop(); print(_prof.output_text(unicode=True, color=False, "
                                 "show_all=False))", 120)
        if args.cprofile:
            out = kernel.execute("_cprof.disable(); import pstats as _ps, io as _io; _s = _io.StringIO(); "
                                 "_ps.Stats(_cprof, stream=_s).sort_stats('cumulative').print_stats(60); "
                                 "print(_s.getvalue())", 120)
        kernel.shutdown()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\n{'CPU s':>6} {'kernel':>7} {'regis.':>7} {'wall':>6}  cell")
    for total, k, c, wall, nb, index, first, error in sorted(rows, reverse=True)[: args.top]:
        print(f"{total:>6.3f} {k:>7.3f} {c:>7.3f} {wall:>6.2f}  {nb}/{index:<2} {first!r}{error}")
    for nb, (k, c) in totals.items():
        print(f"notebook {nb}: {k:.2f} CPU s in the kernel, {c:.2f} in its registries")
    print(f"all: kernel start {own0:.2f} + cells {sum(k for k, _ in totals.values()):.2f} "
          f"+ registries {sum(c for _, c in totals.values()):.2f} CPU s")

    # the imports of the notebooks' first cell, in a fresh interpreter
    timed = subprocess.run([sys.executable, "-X", "importtime", "-c", "from reglab import Lab, checks"],
                           capture_output=True, text=True, env=env, cwd=str(ROOT))
    cumulative = []
    for line in timed.stderr.splitlines():
        parts = [part.strip() for part in line.removeprefix("import time:").split("|")]
        if line.startswith("import time:") and len(parts) == 3 and parts[1].isdigit():
            cumulative.append((int(parts[1]), parts[2]))
    print("\n`from reglab import Lab, checks` in a fresh interpreter, heaviest imports (cumulative):")
    for cum_us, name in sorted(cumulative, reverse=True)[: args.top]:
        print(f"  {cum_us / 1000:7.1f} ms  {name}")
    if args.pyinstrument or args.cprofile:
        print("\n" + "".join(o.get("text", "") for o in out))


if __name__ == "__main__":
    main()
