"""Settings are read in one place (reglab.config), documented in one table, and never written."""

import ast
import re
from pathlib import Path

from reglab.config import VARIABLES, Settings, settings_table

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "reglab"


def test_the_documented_table_is_the_code_s():
    assert settings_table() in (ROOT / "docs" / "settings.md").read_text()
    assert {field for _, field, _, _ in VARIABLES} == set(Settings.__dataclass_fields__)


def test_no_module_but_config_reads_a_reglab_variable_and_none_writes_the_environment():
    reads, writes = [], []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        for number, line in enumerate(path.read_text().splitlines(), 1):
            code = line.split("#", 1)[0]
            if rel != "config.py" and re.search(r"(environ|getenv)\W.*REGLAB_", code):
                reads.append(f"{rel}:{number}")
            if re.search(r"os\.environ\[[^]]+\]\s*=|os\.environ\.(update|setdefault|pop|clear)\(|os\.putenv|"
                         r"os\.unsetenv", code):
                writes.append(f"{rel}:{number}")
    assert reads == [] and writes == []


def test_read_once_from_the_mapping_given():
    env = {"REGLAB_ENGINE": "Local", "REGLAB_LEARNER": "ada", "REGLAB_OFFLINE": "1", "REGLAB_STATE_DIR": "/s",
           "REGLAB_REGISTRY_IMAGE": "registry:3", "DOCKER_CONFIG": "/d"}
    settings = Settings.from_env(env)
    assert (settings.engine, settings.learner, settings.offline, settings.state_dir, settings.registry_image,
            settings.docker_config) == ("local", "ada", True, Path("/s"), "registry:3", Path("/d"))
    env["REGLAB_LEARNER"] = "bob"  # a later change of the environment changes no Settings already read
    assert settings.learner == "ada"
    again = Settings.from_env(settings.environment())
    assert again.but(workdir=settings.workdir) == settings.but(workdir=settings.workdir)


def test_the_package_never_imports_os_environ_writers_indirectly():
    """IPython's %env and os.putenv are writes too: none in the package."""
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("putenv", "unsetenv"):
                raise AssertionError(f"{path}: {ast.unparse(node)}")
