"""The lab sheets, one module each, found by lab id: ``start("lab-01")`` sets one up.

==========  =============================  =========================================
lab id      module                         practises
==========  =============================  =========================================
lab-01      run_push_pull                  run a registry; push, pull, copy images
lab-02      volumes                        named volumes, bind mounts, data survival
lab-03      fix_lost_images                break-fix: a registry without a volume
lab-04      fix_port                       break-fix: port is already allocated
lab-05      inside                         the storage: dedup, tags and mounts by API
lab-06      collect                        delete by digest, read-only, GC, push again
lab-07      fix_delete                     break-fix: 405 on delete
lab-08      fix_digest                     break-fix: manifest unknown (no Accept)
lab-09      fix_disk                       break-fix: disk not freed after deletes
lab-10      fix_cache                      break-fix: "layer already exists" after GC
lab-11      fix_tls                        break-fix: x509 unknown authority, then 401
lab-12      pull_through                   a pull-through cache of the lab's hub
lab-13      fix_upload                     break-fix: replicas without a shared secret
==========  =============================  =========================================
"""

from __future__ import annotations

import importlib

from .. import errors
from ..errors import ReglabError

SHEETS = {
    "lab-01": "run_push_pull:RunPushPull",
    "lab-02": "volumes:Volumes",
    "lab-03": "fix_lost_images:FixLostImages",
    "lab-04": "fix_port:FixPort",
    "lab-05": "inside:Inside",
    "lab-06": "collect:Collect",
    "lab-07": "fix_delete:FixDelete",
    "lab-08": "fix_digest:FixDigest",
    "lab-09": "fix_disk:FixDisk",
    "lab-10": "fix_cache:FixCache",
    "lab-11": "fix_tls:FixTls",
    "lab-12": "pull_through:PullThrough",
    "lab-13": "fix_upload:FixUpload",
}


# a notebook's "Your turn" tasks, by notebook id: they run on the notebook's own lab
PRACTICE: dict[str, str] = {
    "01": "practice_01:Practice01",
    "02": "practice_02:Practice02",
    "03": "practice_03:Practice03",
    "04": "practice_04:Practice04",
    "05": "practice_05:Practice05",
    "06": "practice_06:Practice06",
    "07": "practice_07:Practice07",
}


def sheet_class(lab_id: str):
    """The sheet class of ``lab_id`` (``lab-01``; ``01`` when no notebook 01 has practice)."""
    key = lab_id if lab_id.startswith("lab-") else f"lab-{lab_id}"
    if key not in SHEETS:
        raise errors.no_such_lab(lab_id, list(SHEETS))
    module, _, name = SHEETS[key].partition(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def start(unit: str, lab=None, engine=None, echo: bool = True, settings=None):
    """A lab sheet, set up anew (``sheet = start("lab-07")``), or — given a notebook's lab — that
    notebook's "Your turn" tasks (``practice = start("01", lab)``)."""
    if lab is not None:
        if lab.name not in PRACTICE:
            raise ReglabError(errors.no_practice(lab.name))
        module, _, name = PRACTICE[lab.name].partition(":")
        return getattr(importlib.import_module(f"{__name__}.{module}"), name)(lab, echo=echo)
    return sheet_class(unit)(engine=engine, echo=echo, settings=settings)


def course_tasks() -> list[tuple[str, str]]:
    """Every lab sheet's tasks, ``("lab-01", "q1")`` …, in the course's order (read from the sheet
    classes: nothing is set up). The teacher's progress table lists them in this order."""
    from ..exercises import _TaskSpec

    found = []
    for lab_id in SHEETS:
        sheet = sheet_class(lab_id)
        numbers = sorted(spec.number for name in dir(sheet)
                         if isinstance(spec := getattr(sheet, name, None), _TaskSpec))
        found += [(lab_id, f"q{n}") for n in numbers]
    return found
