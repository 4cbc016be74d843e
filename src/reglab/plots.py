"""Figures of registry storage, readable without the surrounding text.

Functions return a ``matplotlib.figure.Figure``. The figure is made through pyplot (so the
notebook's inline backend knows how to render it) and closed at once (so pyplot does not show
it a second time): a notebook shows each figure exactly once, as the value of the cell.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .growth import MiB, Snapshot
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
