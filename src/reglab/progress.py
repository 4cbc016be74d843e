"""Progress bars for pushes, pulls and series of steps.

In a notebook: an ipywidgets bar (its saved text form is fixed at display time, so nbval
compares it stably). In a terminal: tqdm on stderr.

A bar ends in the state of the outcome: full and green only when the work succeeded; a step
that failed (a push the registry refused after every layer was "already there") leaves the
bar where it stopped, red. :meth:`Bar.close` is told the outcome, or reads it itself: called
while an exception propagates (``try: … finally: bar.close()``), the work failed. ``with
Bar(…) as bar:`` does the same.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Self

DONE = {"Pushed", "Layer already exists", "Pull complete", "Already exists"}


def in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ip = shell.get_ipython()
    return ip is not None and getattr(ip, "kernel", None) is not None


class Bar:
    """A bar from 0 to ``total``: an ipywidgets one in notebooks, tqdm elsewhere."""

    def __init__(self, total: int, description: str, unit: str = "step"):
        self.total, self.value = total, 0
        self.ok: bool | None = None  # the outcome, once closed
        self._bar = self._widget = None
        if in_notebook():
            import ipywidgets
            from IPython.display import display

            self._widget = ipywidgets.IntProgress(value=0, min=0, max=total, description=description,
                                                  bar_style="info")
            display(self._widget)
        else:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=description, unit=unit, leave=False, file=sys.stderr)

    def step(self, n: int = 1) -> None:
        self.value = min(self.value + n, self.total)
        if self._widget is not None:
            self._widget.value = self.value
        if self._bar is not None:
            self._bar.update(n)

    def close(self, ok: bool | None = None) -> None:
        """End the bar: full and green when the work succeeded, else where it stopped, red.
        ``ok`` None: failed if an exception is propagating through the caller's ``finally``."""
        if ok is None:
            ok = sys.exc_info()[0] is None
        self.ok = ok
        if self._widget is not None:
            if ok:
                self._widget.value = self.total
            self._widget.bar_style = "success" if ok else "danger"
        if self._bar is not None:
            if ok:
                self._bar.update(self.total - self._bar.n)
            else:
                self._bar.set_description(f"{self._bar.desc} failed")
            self._bar.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(ok=kind is None)


class LayerProgress(Bar):
    """A ``Progress`` callback for pushes and pulls: one tick per layer that reached a final state."""

    def __init__(self, total: int, verb: str):
        super().__init__(total, verb, unit="layer")
        self.done: set[str] = set()

    def __call__(self, layer: str, current: int, total: int, status: str) -> None:
        if status in DONE and layer not in self.done:
            self.done.add(layer)
            self.step()
