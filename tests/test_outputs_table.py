"""The README's outputs table: every stack output once, with what it holds and its place in the
xpander UI, rendered from model/outputs.py (`python -m tools.readme_tables`)."""

from __future__ import annotations

from pathlib import Path

from model import outputs
from tools import readme_tables

ROOT = Path(__file__).resolve().parent.parent


def test_every_output_has_one_row():
    names = [name for name, _, _ in outputs.OUTPUT_DOCS]
    every = {*outputs.PER_CONNECTOR_OUTPUTS, *outputs.SHARED_OUTPUTS, outputs.CONNECTORS}
    assert sorted(names) == sorted(every)
    assert len(every) == 12  # 4 per connector, 7 of the cluster, and `connectors`


def test_the_ui_column_names_the_forms_fields():
    """Guide step 8 ("Configure in xpander UI") lists the form's fields; the role ARN is one."""
    ui = {name: where for name, _, where in outputs.OUTPUT_DOCS}
    assert ui[outputs.ROLE_ARN] == "IAM Role ARN"
    assert "IAM Role ARN" in outputs.UI_FIELDS
    assert "connector form" in ui[outputs.CONNECTOR_CONFIG]


def test_the_readme_holds_the_rendered_table():
    readme = (ROOT / "README.md").read_text()
    assert readme_tables.TABLES["outputs-table"][0] == readme_tables.README
    block = f"<!-- outputs-table:start -->\n{outputs.outputs_table()}<!-- outputs-table:end -->"
    assert block in readme
    for name, holds, _ in outputs.OUTPUT_DOCS:
        assert f"| `{name}` | {holds} |" in readme
