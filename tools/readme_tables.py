"""Tables in README.md and docs/ rendered from the model: settings, AWS's controls, permissions.

python -m tools.readme_tables            # rewrite each table in the file that holds it
python -m tools.readme_tables --check    # exit 1, naming each file whose tables are stale
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from model.cluster_baseline import controls_table
from model.deployer_permissions import permissions_markdown
from model.outputs import outputs_table
from tools.project_file import settings_table

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SECURITY_BASELINE = ROOT / "docs" / "security-baseline.md"
# Each table's marker name, the file that holds it, and the model's rendering.
TABLES: dict[str, tuple[Path, Callable[[], str]]] = {
    "settings-table": (README, settings_table),
    "outputs-table": (README, outputs_table),
    "aws-controls": (SECURITY_BASELINE, controls_table),
    "deployer-permissions": (SECURITY_BASELINE, permissions_markdown),
}


def files() -> list[Path]:
    """The files that hold a rendered table, each once, in the order of TABLES."""
    return list(dict.fromkeys(path for path, _ in TABLES.values()))


def render(path: Path, text: str) -> str:
    """`path`'s text with each of its marked tables replaced by the model's rendering."""
    for name, (holder, table) in TABLES.items():
        if holder != path:
            continue
        start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
        head, found, rest = text.partition(start)
        if not found or end not in rest:
            raise ValueError(f"{path.relative_to(ROOT)} has no {start.strip()} ... {end} block")
        text = head + start + table() + end + rest.split(end, 1)[1]
    return text


def main(argv: list[str]) -> int:
    stale = []
    for path in files():
        current = path.read_text()
        wanted = render(path, current)
        if wanted == current:
            continue
        stale.append(path)
        if "--check" not in argv:
            path.write_text(wanted)
    if "--check" in argv and stale:
        for path in stale:
            print(f"{path.relative_to(ROOT)}: differs from the model", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
