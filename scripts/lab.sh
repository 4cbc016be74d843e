#!/usr/bin/env bash
# Start JupyterLab on the course: the one command `make lab` and tests/test_browser.py both run.
#   - serves the repository's folder, so the notebooks (notebooks/), the lab sheets (labs/) and their
#     links to each other are all reachable, and opens START-HERE.ipynb first: the course in order;
#   - the course's Jupyter configuration (jupyter/, first on JUPYTER_CONFIG_PATH): no "Jupyter news?"
#     pop-up (labconfig/page_config.json turns JupyterLab's announcements plugin off) and the
#     jupytext sources (notebooks/sources, labs/sources) left out of the file browser
#     (jupyter_server_config.json: ContentsManager.hide_globs);
#   - the venv's programs first on PATH, so a terminal opened in JupyterLab has `python -m reglab`,
#     then crane's folder (scripts/go-tools.sh built it): notebook 01's `crane` twins, typed there;
#   - listens on 127.0.0.1 only; --allow-root when run as root (JupyterLab refuses root without it);
#   - fetches no news, checks for no updates and lists extensions without asking PyPI: it
#     contacts nothing but this machine;
#   - extra arguments are passed on (the browser test adds --no-browser, a port and a token);
#   - REGLAB_NOTEBOOK_DIR serves another folder laid out the same way (the browser test serves copies).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
venv="${REGLAB_VENV:-$root/.venv}"
export JUPYTER_CONFIG_PATH="$root/jupyter${JUPYTER_CONFIG_PATH:+:$JUPYTER_CONFIG_PATH}"
crane=$("$venv/bin/python" -c 'from reglab import tools; from reglab.config import Settings
found = tools.find("crane", Settings.from_env().tools_dir); print(found.parent if found else "")')
export PATH="$venv/bin${crane:+:$crane}:$PATH"
args=(--ip 127.0.0.1 --notebook-dir "${REGLAB_NOTEBOOK_DIR:-$root}" --LabApp.default_url=/lab/tree/START-HERE.ipynb
      --LabApp.news_url=None --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate
      --LabApp.extension_manager=readonly)
if [ "$(id -u)" = 0 ]; then args+=(--allow-root); fi
exec "$venv/bin/jupyter" lab "${args[@]}" "$@"
