"""Pulumi.yaml's `config:` block, rendered from the settings table so the two never drift.

python -m tools.project_file > Pulumi.yaml
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from model.config_keys import CONFIG_KEYS, PROJECT

HEADER = """\
# The project. Every setting is declared here with its type and default; the program validates
# them all (model/config_keys.py, the typed Settings).
# Generated: python -m tools.project_file > Pulumi.yaml
# Empty defaults mean "computed from other settings": see the README's settings table.
"""


def project_document() -> dict[str, Any]:
    config: dict[str, Any] = {}
    for key in CONFIG_KEYS:
        if not key.declared:  # structured values: documented in the README, not typed here
            continue
        entry: dict[str, Any] = {"type": key.type, "description": key.description}
        if key.type == "array":
            entry["items"] = {"type": "string"}
        if not key.required:
            empty: Any = [] if key.type == "array" else ""
            default = list(key.default) if isinstance(key.default, tuple) else key.default
            entry["default"] = default if default is not None else empty
        config[key.name] = entry
    return {
        "name": PROJECT,
        "description": (
            "A private, encrypted Amazon Redshift cluster that xpander agents query over the Data "
            "API with IAM authentication; the xpander connector config as stack outputs."
        ),
        # uv installs uv.lock into .venv (`pulumi install`), the environment `make` builds.
        "runtime": {"name": "python", "options": {"toolchain": "uv", "virtualenv": ".venv"}},
        "config": config,
    }


def render() -> str:
    body: str = yaml.safe_dump(project_document(), sort_keys=False, width=100)
    return HEADER + body


def settings_table() -> str:
    rows = ["| key | type | default | what it is |", "| --- | --- | --- | --- |"]
    for key in CONFIG_KEYS:
        if key.required:
            default = "**required**"
        elif key.default is None:
            default = str(key.default_doc)
        elif isinstance(key.default, str):
            default = f"`{key.default}`"
        else:
            default = f"`{json.dumps(key.default)}`"
        rows.append(f"| `{key.name}` | {key.type} | {default} | {key.description} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(render(), end="")
