"""The README and docs/ stay navigable: the "Where things are" table names real files, and every
relative link (file and anchor) between README.md and docs/*.md resolves.

Anchors are GitHub's heading slugs: lower case, punctuation other than `-` and `_` dropped, spaces
to hyphens, a repeated slug suffixed `-1`, `-2`, ...
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools import readme_tables

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md"))]
GUIDE_STEPS = [str(step) for step in range(1, 10)]
COMMANDS = ["`make plan`", "`make test`", "`make verify`", "`make connector`", "`make lock`"]
SETTINGS_ROWS = ["settings table", "settings rules", "settings gate", "pulumi config"]


def _outside_fences(text: str) -> list[str]:
    lines, fence = [], ""
    for line in text.splitlines():
        mark = re.match(r"^\s*(`{3,}|~{3,})", line)
        if mark and not fence:
            fence = mark.group(1)
        elif mark and line.strip() == fence:
            fence = ""
        elif not fence:
            lines.append(line)
    return lines


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _where_rows() -> dict[str, str]:
    rows = {}
    for line in _section(README.read_text(), "Where things are").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if line.startswith("| ") and len(cells) == 2 and cells[0] not in {"step or command", "---"}:
            rows[cells[0]] = cells[1]
    return rows


def _slugs(path: Path) -> set[str]:
    seen: dict[str, int] = {}
    for line in _outside_fences(path.read_text()):
        heading = re.match(r"^#{1,6} (.+)$", line)
        if not heading:
            continue
        slug = re.sub(r"[^\w\- ]", "", heading.group(1).lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        if count:
            seen[f"{slug}-{count}"] = 1
    return set(seen)


def test_where_things_are_covers_every_guide_step_command_and_the_settings_gate() -> None:
    rows = _where_rows()
    steps = {name.split(" ", 1)[0] for name in rows if name[0].isdigit()}
    assert steps == set(GUIDE_STEPS)
    for name in [*COMMANDS, *SETTINGS_ROWS, "policy pack", "`pulumi up`"]:
        assert name in rows, name


def test_every_file_in_where_things_are_exists() -> None:
    named = []
    for files in _where_rows().values():
        # Backticked names outside parentheses are paths; inside, they are remarks.
        named += re.findall(r"`([^`]+)`", re.sub(r"\([^)]*\)", "", files))
    assert len(named) > 40
    missing = [name for name in named if not (ROOT / name).exists()]
    assert not missing, f"named in README's 'Where things are' but absent: {missing}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(document: Path) -> None:
    broken = []
    for line in _outside_fences(document.read_text()):
        for target in re.findall(r"\]\(([^)\s]+)\)", line):
            if re.match(r"[a-z]+:", target):
                continue  # https:, mailto:
            file, _, anchor = target.partition("#")
            linked = (document.parent / file).resolve() if file else document
            if not linked.exists():
                broken.append(target)
                continue
            if anchor and (linked.suffix != ".md" or anchor not in _slugs(linked)):
                broken.append(target)
    assert not broken, f"{document.relative_to(ROOT)}: {broken}"


@pytest.mark.parametrize("document", [*DOCUMENTS, ROOT / "CHANGELOG.md"], ids=lambda p: p.name)
def test_no_merge_conflict_markers_are_left(document: Path) -> None:
    # A rebase once landed docs/plan.md with its <<<<<<< / ======= / >>>>>>> lines in it.
    markers = [
        number
        for number, line in enumerate(document.read_text().splitlines(), 1)
        if re.match(r"(<{7}|>{7})( |$)|={7}$", line)
    ]
    assert not markers, f"{document.relative_to(ROOT)}: conflict markers on lines {markers}"


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_table_row_belongs_to_a_table(document: Path) -> None:
    # A paragraph once landed between the rows of docs/database-user.md's table: the rows after it
    # rendered as plain text. A row is a header (followed by its | --- | line) or follows a row.
    lines = document.read_text().splitlines()
    in_code = False
    stray = []
    for number, line in enumerate(lines, 1):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        if in_code or not line.startswith("|"):
            continue
        previous = lines[number - 2] if number > 1 else ""
        following = lines[number] if number < len(lines) else ""
        if not previous.startswith("|") and not re.match(r"\|\s*:?-{3,}", following):
            stray.append(number)
    assert not stray, f"{document.relative_to(ROOT)}: table rows outside a table on lines {stray}"


def test_the_readme_stays_a_five_minute_read() -> None:
    # Issue 16: reference material lives in docs/, linked from a README a newcomer reads whole.
    assert len(README.read_text().splitlines()) <= 400
    linked = set(re.findall(r"\]\(docs/([\w.-]+\.md)", README.read_text()))
    assert linked == {p.name for p in DOCUMENTS[1:]}, "every docs/ file is linked from README"


def test_readme_tables_renders_each_table_in_its_own_file(tmp_path, monkeypatch, capsys) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text("intro\n<!-- t:start -->\nold\n<!-- t:end -->\nrest\n")
    monkeypatch.setattr(readme_tables, "ROOT", tmp_path)
    monkeypatch.setattr(readme_tables, "TABLES", {"t": (doc, lambda: "| new |\n")})

    assert readme_tables.main(["--check"]) == 1
    assert "doc.md: differs from the model" in capsys.readouterr().err
    assert "old" in doc.read_text()  # --check writes nothing
    assert readme_tables.main([]) == 0
    assert doc.read_text() == "intro\n<!-- t:start -->\n| new |\n<!-- t:end -->\nrest\n"
    assert readme_tables.main(["--check"]) == 0
