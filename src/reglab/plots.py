"""Figures of registry storage, readable without the surrounding text.

Functions return a ``matplotlib.figure.Figure``. The figure is made through pyplot (so the
notebook's inline backend knows how to render it) and closed at once (so pyplot does not show
it a second time): a notebook shows each figure exactly once, as the value of the cell.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .footprint import MiB, Snapshot
from .units import human

LOGICAL = "#d95f02"
PHYSICAL = "#1b9e77"
SAVED = "#7570b3"


def _figure(size: tuple[float, float]) -> Figure:
    fig = plt.figure(figsize=size, layout="constrained")
    plt.close(fig)
    return fig


def _mib(values) -> list[float]:
    return [v / MiB for v in values]


def growth(history: list[Snapshot], title: str = "Registry storage after each push") -> Figure:
    """(a) Logical vs physical bytes after each push, the deduplication gap shaded."""
    fig = _figure((9, 4.8))
    ax = fig.subplots()
    x = list(range(1, len(history) + 1))
    logical = _mib(s.logical for s in history)
    physical = _mib(s.physical for s in history)
    ax.plot(x, logical, "o-", color=LOGICAL, label="logical: the images stored apart")
    ax.plot(x, physical, "s-", color=PHYSICAL, label="physical: bytes on the registry's disk")
    ax.fill_between(x, physical, logical, where=[lg >= ph for lg, ph in zip(logical, physical)],
                    color=SAVED, alpha=0.18, label="saved by deduplication (shared layers stored once)")
    saved = history[-1].logical - history[-1].physical
    if saved > 0:
        ax.annotate(f"{human(saved)} saved", xy=(x[-1], (logical[-1] + physical[-1]) / 2),
                    xytext=(-12, 0), textcoords="offset points", ha="right", va="center", color=SAVED,
                    fontweight="bold")
    ax.annotate(human(history[-1].physical), (x[-1], physical[-1]), xytext=(6, -4), textcoords="offset points",
                color=PHYSICAL, va="top")
    ax.annotate(human(history[-1].logical), (x[-1], logical[-1]), xytext=(6, 4), textcoords="offset points",
                color=LOGICAL, va="bottom")
    ax.set_xticks(x, [s.label for s in history], rotation=35, ha="right")
    ax.set_xlabel("push (in order)")
    ax.set_ylabel("storage (MiB)")
    ax.set_ylim(0, max(logical + physical) * 1.12)
    ax.set_xlim(0.5, x[-1] + 1.2)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize="small")
    return fig


def composition(snapshot: Snapshot) -> Figure:
    """(b) What the space is made of: layers, configs, manifests, metadata (log scale)."""
    fig = _figure((9, 3.4))
    ax = fig.subplots()
    parts = [
        ("layers (the files of the images)", snapshot.layer_bytes),
        ("image configs (JSON)", snapshot.config_bytes),
        ("manifests (JSON)", snapshot.manifest_bytes),
        ("link files and other metadata", snapshot.metadata_bytes),
    ]
    labels = [p[0] for p in parts][::-1]
    values = [max(p[1], 1) for p in parts][::-1]
    bars = ax.barh(labels, values, color=["#a6761d", "#e7298a", "#66a61e", PHYSICAL][::-1])
    for bar, value in zip(bars, values):
        share = 100 * value / max(snapshot.physical, 1)
        ax.annotate(f"{human(value)}  ({share:.1f} %)" if share >= 1 else f"{human(value)}  ({share:.2g} %)", (value, bar.get_y() + bar.get_height() / 2),
                    xytext=(4, 0), textcoords="offset points", va="center")
    ax.set_xscale("log")
    ax.set_xlim(1, snapshot.physical * 400)
    ax.set_xlabel("bytes on disk (log scale: each step is 10×)")
    ax.set_title(f"What the {human(snapshot.physical)} on disk are made of ({snapshot.blobs} blobs)")
    ax.grid(axis="x", alpha=0.3)
    return fig


def collection(phases: list[Snapshot], title: str = "Deleting tags frees nothing; garbage collection does") -> Figure:
    """(c) Physical and logical bytes across delete and garbage-collection phases."""
    fig = _figure((9, 4.4))
    ax = fig.subplots()
    x = list(range(len(phases)))
    physical = _mib(s.physical for s in phases)
    logical = _mib(s.logical for s in phases)
    width = 0.38
    ax.bar([i - width / 2 for i in x], physical, width, color=PHYSICAL, label="physical: on disk")
    ax.bar([i + width / 2 for i in x], logical, width, color=LOGICAL, alpha=0.75, label="logical: tagged images")
    for i, s in enumerate(phases):
        text = f"{human(s.physical)}\n{s.blobs} blobs"
        freed = phases[i - 1].physical - s.physical if i else 0
        if freed > 0.01 * phases[i - 1].physical:  # a visible drop, not a few link files
            text += f"\n−{human(freed)}"
        ax.annotate(text, (i - width / 2, physical[i]), xytext=(0, 3), textcoords="offset points",
                    ha="center", va="bottom", fontsize="small", fontweight="bold" if "−" in text else "normal")
    ax.set_xticks(x, [s.label for s in phases])
    ax.set_ylabel("storage (MiB)")
    ax.set_ylim(0, max(physical + logical) * 1.25)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")
    return fig


UPSTREAM = "#1b9e77"
SERVED = "#d95f02"


def bandwidth(ledger, title: str = "What the hub sent, with and without a pull-through cache") -> Figure:
    """(d) Cumulative bytes the upstream sends, without a cache (every pull from it) and with
    one (its access log), the saving shaded; beside it, the time of each pull."""
    fig = _figure((10, 4.6))
    left, right = fig.subplots(1, 2, width_ratios=[3, 1.15])
    x = list(range(1, len(ledger) + 1))
    without, with_cache, total_without, total_with = [], [], 0, 0
    for p in ledger:
        total_without += p.served
        total_with += p.upstream or 0
        without.append(total_without / MiB)
        with_cache.append(total_with / MiB)
    left.plot(x, without, "o-", color=SERVED, label="without a cache: every learner pulls from the hub")
    left.plot(x, with_cache, "s-", color=UPSTREAM, label="with the cache: what the hub's log says it sent")
    left.fill_between(x, with_cache, without, where=[w >= c for w, c in zip(without, with_cache)],
                      color=SAVED, alpha=0.18, interpolate=True, label="saved")
    left.fill_between(x, with_cache, without, where=[w < c for w, c in zip(without, with_cache)],
                      color="#e6ab02", alpha=0.25, interpolate=True, label="the cache's first fetches cost more")
    saved = ledger.served - ledger.upstream
    if saved > 0:
        left.annotate(f"{human(saved)} saved", xy=(x[-1], (without[-1] + with_cache[-1]) / 2), xytext=(-10, 0),
                      textcoords="offset points", ha="right", va="center", color=SAVED, fontweight="bold")
    left.annotate(human(ledger.served), (x[-1], without[-1]), xytext=(6, 0), textcoords="offset points",
                  color=SERVED, va="center")
    left.annotate(human(ledger.upstream), (x[-1], with_cache[-1]), xytext=(6, 0), textcoords="offset points",
                  color=UPSTREAM, va="center")
    left.set_xticks(x, [p.label for p in ledger], rotation=35, ha="right")
    left.set_xlabel("pull (in order)")
    left.set_ylabel("bytes from the hub, cumulative (MiB)")
    left.set_ylim(0, max(without + with_cache) * 1.55)  # room for the legend above the lines
    left.set_xlim(0.6, x[-1] + 0.9)
    left.set_title(title, fontsize="medium")
    left.grid(axis="y", alpha=0.3)
    left.legend(loc="upper left", fontsize="small")

    seconds = [p.seconds for p in ledger]
    colors = [UPSTREAM if (p.upstream or 0) > 0 else SERVED for p in ledger]
    right.barh(list(range(len(ledger)))[::-1], seconds, color=colors)
    right.set_yticks(list(range(len(ledger)))[::-1], [p.label for p in ledger], fontsize="small")
    for i, value in enumerate(seconds):
        right.annotate(f"{value:.2f} s", (value, len(ledger) - 1 - i), xytext=(3, 0), textcoords="offset points",
                       va="center", fontsize="x-small")
    right.set_xlim(0, max(seconds + [0.01]) * 1.45)
    right.set_xlabel("seconds (vary run to run)")
    right.set_title("time of each pull\n(green: bytes came from the hub)", fontsize="medium")
    right.grid(axis="x", alpha=0.3)
    return fig


def scale_out(results, title: str = "K clients through 1, 2 and 3 replicas (one store, one machine)") -> Figure:
    """Throughput and p95 latency per replica count, one line per registry version, from
    ``benchmarks/scale_out.py``'s results (a dict, or the path of its JSON file)."""
    import json
    from pathlib import Path

    if not isinstance(results, dict):
        path = Path(results)
        if not path.is_file():
            from . import errors

            raise errors.no_measurements(str(path))
        results = json.loads(path.read_text())
    fig = _figure((10, 4.2))
    left, right = fig.subplots(1, 2)
    colours = {"2": LOGICAL, "3": PHYSICAL}
    for version in sorted({r["registry"] for r in results["runs"]}):
        runs = sorted((r for r in results["runs"] if r["registry"] == version), key=lambda r: r["replicas"])
        x = [r["replicas"] for r in runs]
        label = f"registry {'2.8' if version == '2' else '3'}"
        left.plot(x, [r["images_per_s"] for r in runs], "o-", color=colours.get(version, SAVED), label=label)
        right.plot(x, [r["push_p95"] for r in runs], "o-", color=colours.get(version, SAVED), label=f"{label}: push")
        right.plot(x, [r["pull_p95"] for r in runs], "s--", color=colours.get(version, SAVED), label=f"{label}: pull")
    left.set_xlabel("replicas")
    left.set_ylabel("images per second (push + pull)")
    left.set_ylim(bottom=0)
    left.set_title("throughput")
    right.set_xlabel("replicas")
    right.set_ylabel("seconds per image, 95th percentile")
    right.set_ylim(bottom=0)
    right.set_title("latency")
    for ax in (left, right):
        ax.set_xticks(sorted({r["replicas"] for r in results["runs"]}))
        ax.grid(axis="y", alpha=0.3)
        ax.legend(loc="lower right", fontsize="small")
    fig.suptitle(f"{title} — {results.get('machine', '')}".rstrip(" —"))
    return fig
