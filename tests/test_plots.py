"""reglab.plots: every figure the notebooks draw, checked twice.

nbval cannot compare images (notebook 04's and 06's figures compare as ``<Figure size …>``), so
here each figure (a) draws exactly the numbers it is given, read back from its own artists, and
(b) looks as its committed baseline in ``tests/baseline/`` does, within a tolerance (pytest-mpl,
``--mpl`` in pyproject's addopts; RMS difference of pixel values, 0–255). The inputs are fixed
numbers of the size notebook 04 and 06 measure, so a baseline changes only when a figure's code
does: then look at it and regenerate them with
``pytest --mpl-generate-path=tests/baseline tests/test_plots.py``.
(Notebook 04's figure from a live measured history: tests/test_growth.py.)"""

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex

from reglab import plots
from reglab.bandwidth import Ledger, PullCost
from reglab.errors import UsageError
from reglab.footprint import MiB, Snapshot
from reglab.units import human

pytestmark = pytest.mark.daemonless
COMPARE = {"baseline_dir": "baseline", "tolerance": 2, "style": "default", "savefig_kwargs": {"dpi": 60}}


def _snapshot(label: str, logical: int, physical: int, blobs: int, tags: int) -> Snapshot:
    layers = physical - blobs * 1500
    return Snapshot(label, logical, physical, blobs, layers, blobs * 1100, blobs * 400, 9000 + 300 * blobs,
                    blobs * 3, tags)


HISTORY = [_snapshot(f"app:v{i}", logical=i * 24 * MiB + i * 3 * MiB, physical=24 * MiB + i * 3 * MiB,
                     blobs=2 + 3 * i, tags=i) for i in range(1, 7)]
PHASES = [_snapshot("before delete", 162 * MiB, 42 * MiB, 20, 6), _snapshot("4 deleted", 54 * MiB, 42 * MiB, 20, 2),
          _snapshot("after gc", 54 * MiB, 30 * MiB, 12, 2)]
LEDGER = Ledger([
    PullCost("ada", "app:v1", 25 * MiB, 2, 50 * MiB, 4, 2, 1.2),
    PullCost("bob", "app:v1", 25 * MiB, 2, 0, 0, 0, 0.3),
    PullCost("eve", "app:v2", 26 * MiB, 2, 2 * MiB, 2, 1, 0.4),
    PullCost("ada", "app:v2", 26 * MiB, 2, 0, 0, 0, 0.2),
])


@pytest.mark.mpl_image_compare(**COMPARE)
def test_growth():
    fig = plots.growth(HISTORY)
    [ax] = fig.axes
    logical, physical = ax.get_lines()
    assert list(logical.get_ydata()) == [s.logical / MiB for s in HISTORY]
    assert list(physical.get_ydata()) == [s.physical / MiB for s in HISTORY]
    assert any(isinstance(c, PolyCollection) for c in ax.collections)
    return fig


@pytest.mark.mpl_image_compare(**COMPARE)
def test_composition():
    last = HISTORY[-1]
    fig = plots.composition(last)
    [ax] = fig.axes
    widths = [bar.get_width() for bar in ax.patches][::-1]  # drawn bottom-up
    assert widths == [last.layer_bytes, last.config_bytes, last.manifest_bytes, last.metadata_bytes]
    assert ax.get_title() == f"What the {human(last.physical)} on disk are made of ({last.blobs} blobs)"
    return fig


@pytest.mark.mpl_image_compare(**COMPARE)
def test_collection():
    fig = plots.collection(PHASES)
    [ax] = fig.axes
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == [s.physical / MiB for s in PHASES] + [s.logical / MiB for s in PHASES]
    assert [t.get_text() for t in ax.get_xticklabels()] == [s.label for s in PHASES]
    assert any(t.get_text().endswith(f"−{human(12 * MiB)}") for t in ax.texts)  # gc's drop, and only it
    assert sum("−" in t.get_text() for t in ax.texts) == 1
    return fig


def test_numbers_beside_each_figure_of_notebook_04_are_what_it_draws():
    """The table notebook 04 prints under each figure (and nbval compares in full) is read back from
    the figure's own artists: every point, bar and text, in bytes."""
    growth = plots.numbers(plots.growth(HISTORY))
    assert growth.rows == [(str(i), s.label, f"{s.logical:,}", f"{s.physical:,}") for i, s in enumerate(HISTORY, 1)]
    saved = HISTORY[-1].logical - HISTORY[-1].physical
    assert growth.texts == [f"{human(saved)} saved", human(HISTORY[-1].physical), human(HISTORY[-1].logical)]
    last = HISTORY[-1]
    composition = plots.numbers(plots.composition(last))
    assert [row[1] for row in composition.rows] == [f"{n:,}" for n in (last.layer_bytes, last.config_bytes,
                                                                       last.manifest_bytes, last.metadata_bytes)]
    collection = plots.numbers(plots.collection(PHASES))
    assert collection.rows == [(s.label, f"{s.physical:,}", f"{s.logical:,}") for s in PHASES]
    assert collection.texts[-1] == f"{human(PHASES[-1].physical)} / {PHASES[-1].blobs} blobs / −{human(12 * MiB)}"
    shown = plots.with_numbers(plots.growth(HISTORY))
    assert str(shown) == str(growth) and str(growth).splitlines()[0] == "Registry storage after each push"
    with pytest.raises(UsageError):
        plots.numbers(plots.bandwidth(LEDGER))  # notebook 06's figure has no reader here


@pytest.mark.mpl_image_compare(**COMPARE)
def test_bandwidth():
    """Notebook 06's figure: the same colour means the same thing in both panels (orange: what the
    hub would send without a cache; green: what it sent with one), every label inside its frame,
    each pull's bytes written beside its bar, and the table printed beside it holds the numbers drawn."""
    fig = plots.bandwidth(LEDGER)
    left, right = fig.axes
    without, with_cache = left.get_lines()[:2]
    assert list(without.get_ydata()) == [25, 50, 76, 102]  # MiB, cumulative: every pull from the hub
    assert list(with_cache.get_ydata()) == [50, 50, 52, 52]  # what the hub's log says it sent
    assert without.get_color() == plots.WITHOUT and with_cache.get_color() == plots.WITH
    bars = right.patches
    orange = [b for b in bars if to_hex(b.get_facecolor()) == plots.WITHOUT]
    green = [b for b in bars if to_hex(b.get_facecolor()) == plots.WITH]
    assert len(orange) == len(green) == len(LEDGER) and len(bars) == 2 * len(LEDGER)
    assert [b.get_width() for b in orange] == [p.served / MiB for p in LEDGER]
    assert [b.get_width() for b in green] == [(p.upstream or 0) / MiB for p in LEDGER]
    values = [t.get_text() for t in right.texts]
    assert values == [v for p in LEDGER for v in (human(p.served), human(p.upstream))]
    assert all(t.get_fontsize() >= 9 for t in right.texts)  # readable, not x-small
    canvas = FigureCanvasAgg(fig)  # the figure left pyplot at once: draw it on a canvas of its own
    canvas.draw()
    renderer = canvas.get_renderer()
    for ax in (left, right):  # every text drawn inside its panel
        frame = ax.get_window_extent(renderer)
        for text in ax.texts:
            box = text.get_window_extent(renderer)
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, \
                text.get_text()
    table = plots.bandwidth_table(LEDGER).splitlines()
    rows = [line.split() for line in table[2:]]
    assert [float(r[-2]) for r in rows] == list(without.get_ydata())
    assert [float(r[-1]) for r in rows] == list(with_cache.get_ydata())
    assert [float(r[-4]) for r in rows] == [b.get_width() for b in orange]
    return fig


# appendix A: one first pull of a 2 MiB image through a cache of each version (the sizes it measures)
FETCHES = {"registry:2": PullCost("registry:2", "library/demo:latest", 2098774, 2, 2 * 2098774, 4, 2, 0.3),
           "registry:3": PullCost("registry:3", "library/demo:latest", 2098774, 2, 2098774, 2, 2, 0.2)}


@pytest.mark.mpl_image_compare(**COMPARE)
def test_fetches_by_version():
    fig = plots.fetches_by_version(FETCHES)
    [ax] = fig.axes
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == [p.served / MiB for p in FETCHES.values()] + [p.upstream / MiB for p in FETCHES.values()]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["registry:2 cache", "registry:3 cache"]
    assert [t.get_text().split("\n")[1] for t in ax.texts if "\n" in t.get_text()] == ["2× the image", "1× the image"]
    return fig
