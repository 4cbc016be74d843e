import gc
import sys

# `python -m reglab docker …` is one short process per docker command of the daemonless engine (a
# notebook types dozens): no cyclic collection while its modules import, and their objects are never
# scanned again: a fifth less CPU (0.146 → 0.118 CPU-s for `docker container ls`, 30 runs, twice)
gc.disable()
from .cli import main  # noqa: E402

if sys.argv[1:2] == ["docker"]:
    from . import dockercli  # noqa: E402, F401  (main imports it: here while collection is off)
gc.freeze()
gc.enable()
sys.exit(main())
