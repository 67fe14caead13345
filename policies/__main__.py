"""The pack the CLI serves for `pulumi preview --policy-pack policies`: the rules, nothing else.

The CLI runs this directory with runpy, which puts it first on sys.path, so `rules` imports as a
top-level module from the pack's own virtualenv. Constructing the PolicyPack starts the policy
server and blocks, which is why nothing else imports this file.
"""

from pulumi_policy import EnforcementLevel, PolicyPack
from rules import PACK_NAME, POLICIES

PolicyPack(
    name=PACK_NAME,
    policies=POLICIES,
    # Every rule sets its own level; this only covers a rule added without one.
    enforcement_level=EnforcementLevel.ADVISORY,
)
