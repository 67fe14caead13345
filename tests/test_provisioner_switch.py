"""Switching userProvisioner on a live stack (issue 24), planned from a base plan of the previous
form: the data-api resource is the same resource under either provisioner (an update of its
`provisioner` input), so the switch never deletes it, and its delete is what drops a user the
stack created. The provider side (no SQL while the Job provisions) is in
tests/test_iamr_user_ownership.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from model.resource_types import IAMR_USER_TYPE
from tests.stack_helpers import PLAN_STACK_TOP
from tools.plan import build_plan
from tools.plan_diff import plan_diff

STACK = PLAN_STACK_TOP + "  xpander-redshift:userProvisioner: {provisioner}\n"


def plan(tmp_path: Path, provisioner: str) -> dict[str, Any]:
    path = tmp_path / provisioner / "Pulumi.dev.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(STACK.format(provisioner=provisioner), encoding="utf-8")
    return build_plan(path, stack="dev")


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("switch")
    return {kind: plan(tmp, kind) for kind in ("data-api", "kubernetes-job")}


@pytest.mark.parametrize(
    ("before", "after"), [("data-api", "kubernetes-job"), ("kubernetes-job", "data-api")]
)
def test_a_provisioner_switch_updates_the_user_resource_in_place(
    plans: dict[str, dict[str, Any]], before: str, after: str
) -> None:
    diff = plan_diff(plans[before], plans[after])

    assert IAMR_USER_TYPE not in {r["type"] for r in diff.removed}  # no delete: no DROP USER
    assert IAMR_USER_TYPE not in {r["type"] for r in diff.added}
    (user,) = [c for c in diff.changed if c.resource["type"] == IAMR_USER_TYPE]
    assert {c.path for c in user.inputs} <= {"provisioner", "secretArn", "dbUser"}
    assert "provisioner" in {c.path for c in user.inputs}
    assert not user.replaces
    assert not diff.replaced  # nothing else is replaced either
