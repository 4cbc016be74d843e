"""The narrator: prints each step's docker CLI twin, then what happened, in a learner's words.

Where a step shows what its twin prints (``find``, ``du -sb``, ``curl``…), that output comes
verbatim (:meth:`Narrator.output`), and the lab's own reading of it follows on lines starting
``lab:`` (:meth:`Narrator.explain`), so a learner can tell the command's words from the lab's.

Every topic receives the lab's one narrator, so ``echo=False`` (tests, benchmarks) silences
all of them at once, and :meth:`Narrator.quiet` lets a step run another without its output.
"""

from __future__ import annotations

import sys
from contextlib import contextmanager

from .errors import ReglabError
from .twin import Twin

LABEL = "lab: "  # the lab's words after a command's real output


class Narrator:
    def __init__(self, echo: bool = True):
        self.echo = echo

    def say(self, text: str = "") -> None:
        if self.echo:
            print(text)
            sys.stdout.flush()

    def output(self, text: str) -> None:
        """What the twin printed, verbatim (a trailing newline dropped)."""
        text = text.removesuffix("\n")
        if text:
            self.say(text)

    def explain(self, text: str) -> None:
        """The lab's reading of the output above: ``lab: …`` (a block follows its first line)."""
        self.say(f"{LABEL}{text}")

    def note(self, text: str) -> None:
        """Housekeeping a learner may read but nbval ignores (lines starting '(reglab)')."""
        self.say(f"(reglab) {text}")

    def twin(self, twin: Twin | str) -> None:
        """``$ <command>``: the command a learner would type for this step."""
        self.say(repr(twin) if isinstance(twin, Twin) else f"$ {twin}")

    @contextmanager
    def quiet(self):
        echo, self.echo = self.echo, False
        try:
            yield
        finally:
            self.echo = echo

    @contextmanager
    def expect_failure(self):
        """Run a step that should fail and show its one-sentence error as output, not as a
        traceback: ``✘ ManifestUnknown: …``. A step that does not fail says so."""
        try:
            yield
        except ReglabError as exc:
            self.say(f"✘ {type(exc).__name__}: {exc}")
        else:
            self.say("✘ this step was expected to fail, but it worked: look at what changed above")
