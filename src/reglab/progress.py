"""Progress bars for pushes, pulls and series of steps.

In a notebook: an ipywidgets bar (its saved text form is fixed at display time, so nbval
compares it stably). In a terminal: tqdm on stderr.
"""

from __future__ import annotations

import sys

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

    def close(self) -> None:
        if self._widget is not None:
            self._widget.value = self.total
            self._widget.bar_style = "success"
        if self._bar is not None:
            self._bar.close()


class LayerProgress(Bar):
    """A ``Progress`` callback for pushes and pulls: one tick per layer that reached a final state."""

    def __init__(self, total: int, verb: str):
        super().__init__(total, verb, unit="layer")
        self.done: set[str] = set()

    def __call__(self, layer: str, current: int, total: int, status: str) -> None:
        if status in DONE and layer not in self.done:
            self.done.add(layer)
            self.step()
