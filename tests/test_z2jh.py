"""classroom/z2jh/: the Zero to JupyterHub values for a class past one machine.

- The values agree with the one-machine recipe (classroom/jupyterhub_config.py): the notebook a
  learner lands on (START-HERE.ipynb, which the course copy makes), the daemonless engine, the
  stand-ins, the registry v3 in REGLAB_TOOLS_DIR (the image's, copied out from under the learner's
  home by an init container), the course's Jupyter configuration and kernel, the course copied by
  classroom/course_copy.py, no password in the file.
- check_values.py merges values as helm does and fails on what a schema refuses (a small chart).
- Against the real chart's values schema only where a copy of the chart is given
  (REGLAB_Z2JH_CHART): the chart is on its Helm repository, which this project's machines cannot
  reach, and no package registry they reach ships it.
"""

from __future__ import annotations

import json
import os
import re
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
    # the page a learner lands on: the recipe's, and a notebook the course copy puts in the course folder
    assert 'COURSE_FOLDER = "registry-lab"' in recipe
    lands = re.search(r'^c\.Spawner\.default_url = f"([^"]+)"', recipe, re.M).group(1)
    assert single["defaultUrl"] == lands.replace("{COURSE_FOLDER}", "registry-lab")
    assert single["defaultUrl"] == "/lab/tree/registry-lab/START-HERE.ipynb"
    sys.path.insert(0, str(ROOT / "classroom"))
    try:
        from course_copy import sources
    finally:
        sys.path.remove(str(ROOT / "classroom"))
    assert Path("START-HERE.ipynb") in [relative for _, relative in sources(ROOT)]
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
    # the registry v3 (and whatever else the image's build put beside it), as each learner of the recipe
    # gets the class's copy in REGLAB_TOOLS_DIR: binder/postBuild puts it in the image's ~/.cache (a
    # home the learner's persistent one hides), an init container of the same image copies it into an
    # emptyDir of the pod, mounted read-only where REGLAB_TOOLS_DIR says
    assert '"REGLAB_TOOLS_DIR": str(TOOLS)' in recipe
    assert 'registry="${REGLAB_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/reglab/tools}/' in \
        (ROOT / "binder" / "postBuild").read_text()
    assert "--user-name jovyan" in (ROOT / "classroom" / "README.md").read_text()  # so $HOME is /home/jovyan
    tools = env["REGLAB_TOOLS_DIR"]
    [init] = single["initContainers"]
    assert init["image"] == f"{single['image']['name']}:{single['image']['tag']}"
    assert init["command"] == ["sh", "-c", f"cp -a /home/jovyan/.cache/reglab/tools/. {tools}/"]
    assert init["volumeMounts"] == [{"name": "reglab-tools", "mountPath": tools}]
    assert single["storage"]["extraVolumes"] == [{"name": "reglab-tools", "emptyDir": {}}]
    assert single["storage"]["extraVolumeMounts"] == [{"name": "reglab-tools", "mountPath": tools, "readOnly": True}]
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
