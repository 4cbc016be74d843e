"""classroom/z2jh/: the Zero to JupyterHub values for a class past one machine.

- The values agree with the one-machine recipe (classroom/jupyterhub_config.py): the notebook a
  learner lands on, the daemonless engine, the stand-ins, the course's Jupyter configuration and
  kernel, the course copied by classroom/course_copy.py, no password in the file.
- check_values.py merges values as helm does and fails on what a schema refuses (a small chart).
- Against the real chart's values schema only where a copy of the chart is given
  (REGLAB_Z2JH_CHART): the chart is on its Helm repository, which this project's machines cannot
  reach, and no package registry they reach ships it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.daemonless
ROOT = Path(__file__).resolve().parent.parent
Z2JH = ROOT / "classroom" / "z2jh"
VALUES = yaml.safe_load((Z2JH / "values.yaml").read_text())
IMAGE_REPO = "/srv/registry-lab"  # repo2docker --target-repo-dir in classroom/README.md


def test_the_values_give_each_pod_what_the_one_machine_recipe_gives_each_learner():
    recipe = (ROOT / "classroom" / "jupyterhub_config.py").read_text()
    single = VALUES["singleuser"]
    assert single["defaultUrl"] == "/lab/tree/registry-lab/notebooks/01-run-your-own-registry.ipynb"
    assert 'default_url = f"/lab/tree/{COURSE_FOLDER}/notebooks/01-run-your-own-registry.ipynb"' in recipe
    assert 'COURSE_FOLDER = "registry-lab"' in recipe
    env = single["extraEnv"]
    for key, value in {"REGLAB_ENGINE": "local", "REGLAB_OFFLINE": "1", "OPENBLAS_NUM_THREADS": "1"}.items():
        assert env[key] == value and f'"{key}": "{value}"' in recipe
    assert env["JUPYTER_CONFIG_PATH"] == env["JUPYTER_PATH"] == f"{IMAGE_REPO}/jupyter"
    assert (ROOT / "jupyter" / "labconfig" / "page_config.json").is_file()
    assert json.loads((ROOT / "jupyter" / "kernels" / "python3" / "kernel.json").read_text())["display_name"] == \
        "Python 3 (ipykernel)"
    assert single["lifecycleHooks"]["postStart"]["exec"]["command"] == [
        "python", f"{IMAGE_REPO}/classroom/course_copy.py", IMAGE_REPO]
    assert f"--target-repo-dir {IMAGE_REPO}" in (ROOT / "classroom" / "README.md").read_text()
    shared = VALUES["hub"]["config"]["SharedPasswordAuthenticator"]
    assert shared == {"user_password": None, "admin_password": None}  # set at install, never in the file
    assert VALUES["hub"]["config"]["JupyterHub"]["authenticator_class"] == "shared-password"


def _chart(folder: Path, values: dict, schema: dict) -> Path:
    folder.mkdir()
    (folder / "values.yaml").write_text(yaml.safe_dump(values))
    (folder / "values.schema.json").write_text(json.dumps(schema))
    (folder / "Chart.yaml").write_text("version: 0.0.1\n")
    return folder


def test_the_checker_merges_as_helm_does_and_says_what_the_schema_refuses(tmp_path):
    sys.path.insert(0, str(Z2JH))
    try:
        from check_values import merged
    finally:
        sys.path.remove(str(Z2JH))
    chart = {"hub": {"baseUrl": "/", "config": {"A": 1}}, "list": [1, 2], "gone": 1}
    user = {"hub": {"config": {"B": 2}}, "list": [3], "gone": None}
    assert merged(chart, user) == {"hub": {"baseUrl": "/", "config": {"A": 1, "B": 2}}, "list": [3]}
    schema = {"type": "object", "additionalProperties": False, "required": ["hub"],
              "properties": {"hub": {"type": "object", "required": ["baseUrl"],
                                     "properties": {"baseUrl": {"type": "string"}}},
                             "singleuser": {"type": "object", "additionalProperties": False,
                                            "properties": {"defaultUrl": {"type": "string"}}}}}
    folder = _chart(tmp_path / "chart", {"hub": {"baseUrl": "/"}}, schema)
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text("singleuser:\n  defaultUrl: /lab\n")
    bad.write_text("singleuser:\n  defaultURL: /lab\nhub:\n  baseUrl: 3\n")
    run = [sys.executable, str(Z2JH / "check_values.py"), str(folder)]
    ok = subprocess.run([*run, str(good)], capture_output=True, text=True, check=False)
    assert (ok.returncode, ok.stdout) == (0, "values: valid for chart 0.0.1\n")
    refused = subprocess.run([*run, str(bad)], capture_output=True, text=True, check=False)
    assert refused.returncode == 1
    assert refused.stdout.splitlines() == ["hub.baseUrl: 3 is not of type 'string'",
                                           "singleuser: Additional properties are not allowed ('defaultURL' was "
                                           "unexpected)"]


@pytest.mark.skipif(not os.environ.get("REGLAB_Z2JH_CHART"), reason=(
    "no copy of the Zero to JupyterHub chart: it is on its Helm repository, which this project's machines "
    "cannot reach, and no package registry they reach (PyPI, npm, Debian, Maven Central; the Go module proxy "
    "serves Go modules only) ships its values schema; set REGLAB_Z2JH_CHART to `helm pull jupyterhub/jupyterhub "
    "--version 4.4.0 --untar`'s jupyterhub folder"))
def test_the_values_pass_the_charts_values_schema():
    checked = subprocess.run([sys.executable, str(Z2JH / "check_values.py"), os.environ["REGLAB_Z2JH_CHART"]],
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
