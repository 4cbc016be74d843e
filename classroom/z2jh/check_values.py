"""Check classroom/z2jh/values.yaml against the Zero to JupyterHub chart's values schema, as helm does.

helm validates the chart's own values.yaml merged with the user's (maps merged key by key, any
other value replaced, a null removing the chart's key) against the chart's values.schema.json
before it renders anything. This does the same with a copy of the chart:

    helm pull jupyterhub/jupyterhub --version 4.4.0 --untar --untardir /tmp/z2jh
    python classroom/z2jh/check_values.py /tmp/z2jh/jupyterhub [values.yaml]

CHART is a folder with the chart's values.yaml and values.schema.json (or the source
repository's values.schema.yaml). Prints "values: valid for chart <version>" or each error, one a
line, and exits 1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jsonschema
import yaml

HERE = Path(__file__).resolve().parent


def merged(chart: dict, user: dict) -> dict:
    """helm's coalescing of the user's values over the chart's."""
    out = dict(chart)
    for key, value in user.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def schema_of(chart: Path) -> dict:
    packaged = chart / "values.schema.json"
    if packaged.exists():
        return json.loads(packaged.read_text())
    return yaml.safe_load((chart / "values.schema.yaml").read_text())


def errors(chart: Path, values: Path) -> list[str]:
    schema = schema_of(chart)
    document = merged(yaml.safe_load((chart / "values.yaml").read_text()) or {},
                      yaml.safe_load(values.read_text()) or {})
    validator = jsonschema.Draft7Validator(schema)
    return sorted(f"{'.'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
                  for e in validator.iter_errors(document))


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.split("\n\n")[2], file=sys.stderr)
        return 2
    chart = Path(argv[0])
    values = Path(argv[1]) if len(argv) > 1 else HERE / "values.yaml"
    found = errors(chart, values)
    version = (yaml.safe_load((chart / "Chart.yaml").read_text()) or {}).get("version", "?") \
        if (chart / "Chart.yaml").exists() else "?"
    for line in found:
        print(line)
    if not found:
        print(f"values: valid for chart {version}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
