"""Figures of registry storage, readable without the surrounding text.

Functions return a ``matplotlib.figure.Figure``. The figure is made through pyplot (so the
notebook's inline backend knows how to render it) and closed at once (so pyplot does not show
it a second time): a notebook shows each figure exactly once, as the value of the cell.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from . import errors
from .errors import UsageError
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
    fig.set_label("growth")
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
    fig.set_label("composition")
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


def collection(phases: list[Snapshot], title: str = "Deleting images frees no blob; garbage collection does") -> Figure:
    """(c) Physical and logical bytes across delete and garbage-collection phases."""
    fig = _figure((9, 4.4))
    fig.set_label("collection")
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


# ----------------------------------------------------------------------------- the numbers a figure draws


class Numbers:
    """A table of what a figure draws, read back from the figure's own artists (its lines, bars
    and texts), never from the data it was given: the numbers beside the picture. nbval compares
    this table in full where it cannot compare the picture."""

    def __init__(self, title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]], texts: list[str]):
        self.title, self.columns, self.rows, self.texts = title, columns, rows, texts

    def __str__(self) -> str:
        rows = [self.columns, *self.rows]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.columns))]
        lines = [self.title] + ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                                          enumerate(zip(r, widths))).rstrip() for r in rows]
        if self.texts:
            lines.append("written on it: " + " · ".join(self.texts))
        return "\n".join(lines)

    __repr__ = __str__


def _bytes(mib: float) -> str:
    return f"{round(mib * MiB):,}"


def _texts(ax) -> list[str]:
    return [t.get_text().replace("\n", " / ") for t in ax.texts]


def numbers(fig: Figure) -> Numbers:
    """What ``fig`` (one of notebook 04's figures: growth, composition, collection) draws, in bytes."""
    kind = fig.get_label()
    if kind not in ("growth", "composition", "collection"):
        raise UsageError(errors.no_numbers(kind))
    [ax] = fig.axes
    if kind == "growth":
        logical, physical = ax.get_lines()
        labels = [t.get_text() for t in ax.get_xticklabels()]
        rows = [(str(int(x)), label, _bytes(lg), _bytes(ph))
                for x, label, lg, ph in zip(logical.get_xdata(), labels, logical.get_ydata(), physical.get_ydata())]
        return Numbers(ax.get_title(), ("#", "after", "logical bytes", "physical bytes"), rows, _texts(ax))
    if kind == "composition":
        bars = ax.patches
        labels = [t.get_text() for t in ax.get_yticklabels()]
        rows = [(label, f"{round(bar.get_width()):,}") for label, bar in zip(labels, bars)][::-1]
        return Numbers(ax.get_title(), ("part", "bytes"), rows, _texts(ax)[::-1])
    half = len(ax.patches) // 2  # the collection: physical bars, then logical ones
    physical, logical = ax.patches[:half], ax.patches[half:]
    labels = [t.get_text() for t in ax.get_xticklabels()]
    rows = [(label, _bytes(ph.get_height()), _bytes(lg.get_height())) for label, ph, lg in zip(labels, physical, logical)]
    return Numbers(ax.get_title(), ("after", "physical bytes", "logical bytes"), rows, _texts(ax))


class WithNumbers:
    """A figure shown with its numbers printed beside it (:func:`numbers`)."""

    def __init__(self, fig: Figure):
        self.figure, self.numbers = fig, numbers(fig)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.figure)
        print(self.numbers)

    def __repr__(self) -> str:
        return str(self.numbers)


def with_numbers(fig: Figure) -> WithNumbers:
    """``plots.with_numbers(plots.growth(history))``: the figure, then the table of what it draws."""
    return WithNumbers(fig)


UPSTREAM = "#1b9e77"
SERVED = "#d95f02"


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


def fetches_by_version(fetches, title: str = "One first pull through a pull-through cache of each version") -> Figure:
    """(e) Per cache version (``{"registry:2": PullCost, …}``): the image's blobs the learner got, and
    what the hub's access log says it sent that cache meanwhile, with how many times the image that is."""
    fig = _figure((9, 4.2))
    ax = fig.subplots()
    labels = list(fetches)
    x = list(range(len(labels)))
    served = _mib(p.served for p in fetches.values())
    upstream = _mib((p.upstream or 0) for p in fetches.values())
    width = 0.36
    ax.bar([i - width / 2 for i in x], served, width, color=SERVED, label="the image: what the learner pulled")
    ax.bar([i + width / 2 for i in x], upstream, width, color=UPSTREAM, label="what the hub sent the cache (its log)")
    for i, p in enumerate(fetches.values()):
        ax.annotate(human(p.served), (i - width / 2, served[i]), xytext=(0, 3), textcoords="offset points",
                    ha="center", va="bottom", fontsize="small")
        times = (p.upstream or 0) / p.served if p.served else 0
        ax.annotate(f"{human(p.upstream or 0)}\n{times:.3g}× the image\n{p.upstream_downloads} blob downloads",
                    (i + width / 2, upstream[i]), xytext=(0, 3), textcoords="offset points", ha="center",
                    va="bottom", fontsize="small", fontweight="bold")
    ax.set_xticks(x, [f"{label} cache" for label in labels])
    ax.set_ylabel("bytes of blobs (MiB)")
    ax.set_ylim(0, max(served + upstream + [0.01]) * 1.45)
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper right", fontsize="small")
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
