# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Class progress
#
# Who finished which task, who is stuck where, and how long each learner spent on each notebook
# and lab sheet. Every check a learner runs — a sheet's `lab.q2.check()`, a notebook's "Check your
# work" — is recorded in that learner's own state, which only they can read. On the class's
# machine, as root:
#
# ```sh
# sudo classroom/class progress
# ```
#
# prints the table below and hands you the class's records in `~/registry-lab/class-progress.json`;
# run it again, then this notebook again, for a fresh view.
#
# **The outputs saved here are not a real class**: they were made on the dummy class of the tests
# (`tests/dummy_class.py`: four learners at fixed times — ada quick, grace stuck on sheet 01's
# second task, linus who never checked anything, margaret who solved a task and broke it again),
# written into state folders as reglab records them, by `make classroom-progress`.

# %%
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from reglab import journal
from reglab.tasks import course_tasks

source = Path(os.environ.get("REGLAB_CLASS_PROGRESS") or Path.home() / "registry-lab" / "class-progress.json")
if source.exists():
    records, learners, tasks, written = journal.load(source.read_text())
    print(f"{len(learners)} learners, {len(records)} checks; records as of "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(written))}")
else:
    records, learners, tasks = [], [], course_tasks()
    print(f"No class records in {source} yet: run sudo classroom/class progress on the class's machine, "
          "then this notebook again.")
progress = journal.summary(records, learners, tasks)

# %% [markdown]
# ## Learners × tasks
# ✔ done at least once (a task solved and broken again still counts), ✘ checked but never done,
# · not tried; the time is from a learner's first check in a notebook or sheet to their last.

# %%
print(progress.table())

# %% [markdown]
# ## The same as a heat map
# One row per learner, one column per task (grey: not tried, red: tried and not done, green: done),
# and beside it the minutes each learner spent on each notebook or sheet.

# %%
VALUE = {journal.NOT_TRIED: 0, journal.FAILED: 1, journal.DONE: 2}
units = progress.units
marks = np.array([[VALUE[progress.mark(learner, unit, task)] for unit, task in progress.tasks]
                  for learner in progress.learners]).reshape(len(progress.learners), len(progress.tasks))
minutes = np.array([[progress.spent.get(learner, {}).get(unit, 0) / 60 for unit in units]
                    for learner in progress.learners]).reshape(len(progress.learners), len(units))

height = 1.2 + 0.35 * max(len(progress.learners), 1)
fig, (left, right) = plt.subplots(1, 2, figsize=(15, height), width_ratios=[len(progress.tasks), len(units)],
                                  layout="constrained")
left.imshow(marks, cmap=ListedColormap(["#e0e0e0", "#d62728", "#2ca02c"]), vmin=0, vmax=2, aspect="auto")
left.set_xticks(range(len(progress.tasks)), [task for _, task in progress.tasks], rotation=90, fontsize=7)
left.set_yticks(range(len(progress.learners)), progress.learners)
starts = [i for i, (unit, _) in enumerate(progress.tasks) if i == 0 or progress.tasks[i - 1][0] != unit]
for i in starts[1:]:
    left.axvline(i - 0.5, color="white", linewidth=3)
top = left.secondary_xaxis("top")
top.set_xticks([s + (e - s - 1) / 2 for s, e in zip(starts, [*starts[1:], len(progress.tasks)])], units,
               rotation=90, fontsize=8)
left.set_title("tasks: done (green), tried (red), not tried (grey)")
right.imshow(minutes, cmap="Blues", aspect="auto", vmin=0)
right.set_xticks(range(len(units)), units, rotation=90, fontsize=8)
right.set_yticks(range(len(progress.learners)), progress.learners)
for (row, column), value in np.ndenumerate(minutes):
    if value:
        right.text(column, row, f"{value:.0f}", ha="center", va="center", fontsize=8,
                   color="white" if value > minutes.max() / 2 else "black")
right.set_title("minutes per notebook or sheet")
plt.show()

# %% [markdown]
# ## Who needs a hand
# The learners with a task they checked and never got done, and which.

# %%
for learner in progress.learners:
    stuck = [f"{unit} {task}" for unit, task in progress.tasks if progress.mark(learner, unit, task) == journal.FAILED]
    if stuck:
        print(f"{learner}: {', '.join(stuck)}")
untouched = [learner for learner in progress.learners if not progress.marks.get(learner)]
print(f"no check yet: {', '.join(untouched) or 'nobody'}")
