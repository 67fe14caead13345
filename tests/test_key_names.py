"""Every setting a message names is a real key: `xpander-redshift:<key>` in any string of the
source (the program, the tools, the provider and the policy pack, which cannot import the table),
and the key each `problem("<key>", ...)` of the gate blames."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

from model.config_keys import KEYS_BY_NAME, PROJECT

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("model", "clients", "providers", "components", "tools", "policies")
# `xpander-redshift:<key>` written out, or `{PROJECT}:<key>` in an f-string.
NAMED = re.compile(r"(?:xpander-redshift|\{PROJECT\}):([A-Za-z][A-Za-z0-9]*)")
BLAMED = re.compile(r"\bproblem\(\s*\"([A-Za-z][A-Za-z0-9]*)[\".\[]")


def _sources() -> list[Path]:
    paths = [ROOT / "__main__.py"]
    for folder in FOLDERS:
        paths += [p for p in sorted((ROOT / folder).rglob("*.py")) if "venv" not in p.parts]
    return paths


def _strings(path: Path) -> list[tuple[int, str]]:
    """Every string literal of a module (f-strings whole), with its line."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
    return [(t.start[0], t.string) for t in tokens if t.type == tokenize.STRING]


def named_keys() -> list[tuple[str, str]]:
    found = []
    for path in _sources():
        where = path.relative_to(ROOT)
        for line, text in _strings(path):
            found += [(f"{where}:{line}", key) for key in NAMED.findall(text)]
        source = path.read_text(encoding="utf-8")
        for match in BLAMED.finditer(source):
            line = source.count("\n", 0, match.start()) + 1
            found.append((f"{where}:{line}", match.group(1)))
    return found


def test_messages_name_real_keys():
    found = named_keys()
    assert len(found) > 20  # the scan sees the messages (41 today)
    # `aws:region` is the AWS provider's; `connectors[0].name` and the like are a key's parts.
    unknown = [f"{where}: {key}" for where, key in found if key not in KEYS_BY_NAME]
    assert unknown == []


def test_the_scan_sees_a_misspelt_key(tmp_path):
    """A message with a key the table lacks is caught: the scan reads the strings it should."""
    module = tmp_path / "module.py"
    module.write_text(
        'MESSAGE = "set xpander-redshift:clusterIdentifer"\n'
        "def f(PROJECT):\n"
        '    return f"{PROJECT}:rolename: and problem(\\"port\\", 1)"\n'
        "# xpander-redshift:notAString is a comment, not a message\n"
    )
    keys = [key for _, text in _strings(module) for key in NAMED.findall(text)]
    assert keys == ["clusterIdentifer", "rolename"]
    assert [k for k in keys if k not in KEYS_BY_NAME] == keys
    assert PROJECT == "xpander-redshift"
