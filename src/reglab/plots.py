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


# notebook 06: one meaning per colour in both panels
WITHOUT = "#d95f02"  # without a cache: what the hub would send (every learner pulls from it)
WITH = "#1b9e77"  # with the cache: what the hub did send (its own access log)
EXTRA = "#e6ab02"  # the cache's first fetches, above what no cache would cost
VALUES = 9  # points: the bytes written beside each bar, readable at a notebook's size


def _cumulative(ledger) -> tuple[list[float], list[float]]:
    """MiB the hub sends, summed pull after pull: without a cache, and with it."""
    without, with_cache, total_without, total_with = [], [], 0, 0
    for p in ledger:
        total_without += p.served
        total_with += p.upstream or 0
        without.append(total_without / MiB)
        with_cache.append(total_with / MiB)
    return without, with_cache


def bandwidth_table(ledger) -> str:
    """The numbers :func:`bandwidth` draws, as a table (MiB, as drawn): printed beside the figure."""
    without, with_cache = _cumulative(ledger)
    rows = [("pull", "each: without", "with", "so far: without", "with")]
    for p, w, c in zip(ledger, without, with_cache):
        rows.append((p.label, f"{p.served / MiB:.1f}", "down" if p.upstream is None else f"{p.upstream / MiB:.1f}",
                     f"{w:.1f}", f"{c:.1f}"))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = [f"{r[0]:<{widths[0]}}  " + "  ".join(f"{v:>{widths[i]}}" for i, v in enumerate(r) if i) for r in rows]
    return "MiB from the hub, without a cache and with it (the figure's numbers)\n" + "\n".join(lines)


def bandwidth(ledger, title: str = "What the hub sent, without a cache and with one") -> Figure:
    """(d) What the upstream (the hub) sends for a class's pulls, without a cache (every pull from
    it: orange) and with one (its own access log: green), in both panels: on the left summed pull
    after pull, the saving shaded; on the right each pull on its own, its bytes written out."""
    fig = _figure((10, 4.8))
    left, right = fig.subplots(1, 2, width_ratios=[1.6, 1])
    x = list(range(1, len(ledger) + 1))
    without, with_cache = _cumulative(ledger)
    left.plot(x, without, "o-", color=WITHOUT, label="without a cache: every learner pulls from the hub")
    left.plot(x, with_cache, "s-", color=WITH, label="with the cache: what the hub's log says it sent")
    left.fill_between(x, with_cache, without, where=[w >= c for w, c in zip(without, with_cache)],
                      color=SAVED, alpha=0.18, interpolate=True, label="saved by the cache")
    if any(w < c for w, c in zip(without, with_cache)):  # registry:2 fetched each new blob twice
        left.fill_between(x, with_cache, without, where=[w < c for w, c in zip(without, with_cache)],
                          color=EXTRA, alpha=0.3, interpolate=True, label="the cache's first fetches cost more")
    top = max(without + with_cache + [0.01])
    # the end values inside the frame, left of the last point, each on its own side of its line
    high = 0 if without[-1] >= with_cache[-1] else 1
    ends = [(without[-1], WITHOUT, ledger.served), (with_cache[-1], WITH, ledger.upstream)]
    for i, (y, color, value) in enumerate(ends):
        above = i == high
        left.annotate(human(value), (x[-1], y), xytext=(-8, 7 if above else -7), textcoords="offset points",
                      ha="right", va="bottom" if above else "top", color=color, fontweight="bold")
    saved = ledger.served - ledger.upstream
    if saved > 0 and len(x) > 1:
        middle = x[-1] - 0.5
        gap = (without[-1] + without[-2] + with_cache[-1] + with_cache[-2]) / 4
        left.annotate(f"{human(saved)} saved", (middle, gap), ha="center", va="center", color=SAVED,
                      fontweight="bold", fontsize="small")
    left.set_xticks(x, [p.label for p in ledger], rotation=35, ha="right", fontsize="small")
    left.set_xlabel("pull (in order)")
    left.set_ylabel("MiB from the hub, summed so far")
    left.set_ylim(0, top * 1.6)  # room for the legend above the lines
    left.set_xlim(0.6, x[-1] + 0.4)
    left.set_title(title, fontsize="medium")
    left.grid(axis="y", alpha=0.3)
    left.legend(loc="upper left", fontsize="small")

    rows = list(range(len(ledger)))[::-1]  # the first pull on top
    height = 0.38
    each_without = [p.served / MiB for p in ledger]
    each_with = [(p.upstream or 0) / MiB for p in ledger]
    right.barh([r + height / 2 for r in rows], each_without, height, color=WITHOUT, label="without a cache")
    right.barh([r - height / 2 for r in rows], each_with, height, color=WITH, label="with the cache")
    for r, p, a, b in zip(rows, ledger, each_without, each_with):
        right.annotate(human(p.served), (a, r + height / 2), xytext=(3, 0), textcoords="offset points",
                       va="center", fontsize=VALUES, color=WITHOUT)
        right.annotate("hub down" if p.upstream is None else human(p.upstream), (b, r - height / 2), xytext=(3, 0),
                       textcoords="offset points", va="center", fontsize=VALUES, color=WITH)
    right.set_yticks(rows, [p.label for p in ledger], fontsize="small")
    right.set_xlim(0, max(each_without + each_with + [0.01]) * 1.5)  # room for the values
    right.set_ylim(-0.7, len(ledger) - 0.3)
    right.set_xlabel("MiB from the hub, this pull")
    right.set_title("each pull", fontsize="medium")
    right.grid(axis="x", alpha=0.3)
    right.legend(loc="lower right", fontsize="small")
    return fig
