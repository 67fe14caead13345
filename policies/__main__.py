"""The pack the CLI serves for `pulumi preview --policy-pack policies`: the rules, nothing else.

The CLI runs this directory with runpy (`python -m pulumi.policy <engine> .`), which puts the
directory itself, not its parent, first on sys.path; the project is not installed in the pack's
virtualenv. So this file loads the directory as the package `policies` (whose modules import each
other relatively) without putting the project on sys.path. Constructing the PolicyPack starts the
policy server and blocks, which is why nothing else imports this file.
"""

import importlib.util
import sys
from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack

if "policies" not in sys.modules:
    _HERE = Path(__file__).resolve().parent
    _SPEC = importlib.util.spec_from_file_location(
        "policies", _HERE / "__init__.py", submodule_search_locations=[str(_HERE)]
    )
    assert _SPEC is not None and _SPEC.loader is not None
    sys.modules["policies"] = importlib.util.module_from_spec(_SPEC)
    _SPEC.loader.exec_module(sys.modules["policies"])

from policies.pack import PACK_NAME, POLICIES

PolicyPack(
    name=PACK_NAME,
    policies=POLICIES,
    # Every rule sets its own level; this only covers a rule added without one.
    enforcement_level=EnforcementLevel.ADVISORY,
)
