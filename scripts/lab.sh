#!/usr/bin/env bash
# Start JupyterLab on the course: the one command `make lab` and tests/test_browser.py both run.
#   - listens on 127.0.0.1 only; --allow-root when run as root (JupyterLab refuses root without it);
#   - fetches no news, checks for no updates and lists extensions without asking PyPI: it
#     contacts nothing but this machine;
#   - extra arguments are passed on (the browser test adds --no-browser, a port and a token);
#   - REGLAB_NOTEBOOK_DIR serves another folder (the browser test runs copies of the notebooks).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
args=(--ip 127.0.0.1 --notebook-dir "${REGLAB_NOTEBOOK_DIR:-$root/notebooks}"
      --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate
      --LabApp.extension_manager=readonly)
if [ "$(id -u)" = 0 ]; then args+=(--allow-root); fi
exec "${REGLAB_VENV:-$root/.venv}/bin/jupyter" lab "${args[@]}" "$@"
