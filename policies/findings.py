"""What a rule reports: a violation at the rule's level, or a value it could not judge.

A rule never passes a value silently because it is unknown at preview: when neither the value
nor the dependency edges it comes from decide, the rule says so through `could_not_judge`, and the
pack reports that at advisory level under a policy of its own (`pack.UNDECIDED_*`), so a
mandatory rule never fails a preview on a guess.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Report = Callable[..., None]  # pulumi_policy's ReportViolation: (message, urn=None)


def opt_out(rule: str) -> str:
    """How a team that turned a baseline control off by a setting lowers the rule that checks it."""
    return f'opt out with --policy-pack-config {{"{rule}": "advisory"}}'


def _ignore(message: str, urn: str | None = None) -> None:
    del message, urn


@dataclass(frozen=True)
class Findings:
    """Where a rule's check sends what it finds."""

    violation: Report = _ignore
    undecided: Report = _ignore

    def could_not_judge(self, what: str, urn: str | None = None) -> None:
        self.undecided(
            f"{what} The rule could not judge it at preview and did not pass it silently: check "
            "it by hand, or make the value known at preview (a literal, or a reference to a "
            "resource of this stack).",
            urn,
        )
