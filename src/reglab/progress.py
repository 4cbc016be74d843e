"""Progress bars for multi-layer pushes and pulls.

In a notebook: an ipywidgets bar (its saved text form is fixed at display time, so nbval
compares it stably). In a terminal: tqdm on stderr. One tick per finished layer.
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


class LayerProgress:
    """Counts layers that reached a final state; usable as a ``Progress`` callback."""

    def __init__(self, total: int, verb: str):
        self.total, self.verb, self.done = total, verb, set()
        self._bar = None
        self._widget = None
        if in_notebook():
            import ipywidgets
            from IPython.display import display

            self._widget = ipywidgets.IntProgress(value=0, min=0, max=total, description=verb,
                                                  bar_style="info")
            display(self._widget)
        else:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=verb, unit="layer", leave=False, file=sys.stderr)

    def __call__(self, layer: str, current: int, total: int, status: str) -> None:
        if status in DONE and layer not in self.done:
            self.done.add(layer)
            if self._widget is not None:
                self._widget.value = min(len(self.done), self.total)
            if self._bar is not None:
                self._bar.update(1)

    def close(self) -> None:
        if self._widget is not None:
            self._widget.value = self.total
            self._widget.bar_style = "success"
        if self._bar is not None:
            self._bar.close()
