"""README tables rendered from the model: settings, AWS's Redshift controls, deployer permissions.

python -m tools.readme_tables            # rewrite the tables in README.md
python -m tools.readme_tables --check    # exit 1 if README.md differs from the model
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from model.cluster_baseline import controls_table
from model.deployer_permissions import permissions_markdown
from tools.project_file import settings_table

README = Path(__file__).resolve().parent.parent / "README.md"
TABLES: dict[str, Callable[[], str]] = {
    "settings-table": settings_table,
    "aws-controls": controls_table,
    "deployer-permissions": permissions_markdown,
}


def render(text: str) -> str:
    """README text with each marked table replaced by the model's rendering."""
    for name, table in TABLES.items():
        start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
        head, found, rest = text.partition(start)
        if not found or end not in rest:
            raise ValueError(f"README.md has no {start.strip()} ... {end} block")
        text = head + start + table() + end + rest.split(end, 1)[1]
    return text


def main(argv: list[str]) -> int:
    current = README.read_text()
    wanted = render(current)
    if "--check" in argv:
        return 0 if wanted == current else 1
    README.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
