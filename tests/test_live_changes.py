"""Changes to a running stack, planned from a base plan of the previous form (issue 24).

Each base plan is written by the plan tool from the previous form's stack file, as a user would
(`make plan ARGS="--json"` before the change); the head is the changed stack file. What Pulumi does
with aliases is pulumi/pulumi pkg/resource/deploy/step_generator.go (generateAliases,
inheritedChildAlias), which tools/plan_match.py follows.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from model.outputs import connector_configs
from model.settings import SettingsError
from tests.stack_helpers import PLAN_STACK_TOP
from tools.plan import build_plan
from tools.plan_diff import PlanDiff, plan_diff
from tools.plan_match import inherited_alias, match

TOP = PLAN_STACK_TOP
SALES = "    - name: sales\n      roleName: xpander-sales\n      serviceAccount: sales\n"
# The connector's resources, by the name suffix the program gives them (hand-listed from
# components/access_role.py, pod_identity.py, database_user.py): 3 components and 6 resources.
CONNECTOR_PARTS = (
    "role",
    "role-RedshiftCredentials",
    "role-RedshiftDataAPI",
    "role-SelfAssumeAndTagSession",
    "pod-identity",
    "user",
    "user-iamr-user",
)
UI_OUTPUTS = ("connectorConfig", "roleArn", "databaseUser", "organizationId")


_PLANS: dict[str, dict[str, Any]] = {}  # stack file text -> its plan (one program run each)


def plan_of(tmp_path: Path, text: str) -> dict[str, Any]:
    if text not in _PLANS:
        path = tmp_path / "Pulumi.dev.yaml"
        path.write_text(text, encoding="utf-8")
        _PLANS[text] = build_plan(path, stack="dev")
    return copy.deepcopy(_PLANS[text])


def connectors(*entries: str) -> str:
    return "  xpander-redshift:connectors:\n" + "".join(entries)


def names(resources: Any) -> set[str]:
    return {str(r["name"]) for r in resources}


def no_resource_change(diff: PlanDiff) -> None:
    assert not diff.removed, names(diff.removed)
    assert not diff.changed, [c.resource["name"] for c in diff.changed]


def test_single_to_a_list_of_the_same_connector_is_a_no_op(tmp_path: Path) -> None:
    base = plan_of(tmp_path, TOP)
    head = plan_of(tmp_path, TOP + connectors("    - name: main\n"))
    diff = plan_diff(base, head)
    no_resource_change(diff)
    assert not diff.added
    assert {str(a.resource["name"]) for a in diff.aliased} == {
        f"xpander-main-{part}" for part in CONNECTOR_PARTS
    } | {"xpander-main-pod-identity"}
    assert {a.base_urn.rsplit("::", 1)[-1] for a in diff.aliased} == {
        f"xpander-{part}" for part in CONNECTOR_PARTS
    }
    # The outputs the xpander UI was fed stay, unchanged; the list's outputs are added.
    changed_outputs = {c.path for c in diff.outputs}
    assert not {p for p in changed_outputs if p.split(".")[0] in UI_OUTPUTS}
    assert all(p.startswith("connectors.main.") for p in changed_outputs)
    for key in UI_OUTPUTS:
        assert head["outputs"][key] == base["outputs"][key]


@pytest.mark.parametrize("order", ["appended", "prepended"])
def test_adding_a_connector_adds_only_its_resources(tmp_path: Path, order: str) -> None:
    base = plan_of(tmp_path, TOP)
    main = "    - name: main\n"
    entries = (main, SALES) if order == "appended" else (SALES, main)
    head = plan_of(tmp_path, TOP + connectors(*entries))
    diff = plan_diff(base, head)
    no_resource_change(diff)
    assert names(diff.added) == {f"xpander-sales-{part}" for part in CONNECTOR_PARTS}
    assert len(diff.added) == 9  # the 6 resources and 3 components of one connector
    for key in UI_OUTPUTS:
        assert head["outputs"][key] == base["outputs"][key]
    assert head["outputs"]["connectors"]["sales"]["databaseUser"] == "IAMR:xpander-sales"


def test_the_pod_identity_agent_stays_one_add_on(tmp_path: Path) -> None:
    agent = "  xpander-redshift:installPodIdentityAgent: true\n"
    base = plan_of(tmp_path, TOP + agent)
    head = plan_of(tmp_path, TOP + agent + connectors(SALES, "    - name: main\n"))
    diff = plan_diff(base, head)
    no_resource_change(diff)
    assert "xpander-main-pod-identity-agent" in {str(a.resource["name"]) for a in diff.aliased}
    assert not any(r["type"] == "aws:eks/addon:Addon" for r in diff.added)


def test_a_list_whose_first_entry_had_the_agent_keeps_it(tmp_path: Path) -> None:
    """Before, the add-on went with the first entry; now with the entry of the top-level role.
    The base is this file's plan with the add-on where the program put it before (hand-moved)."""
    text = (
        TOP
        + "  xpander-redshift:installPodIdentityAgent: true\n"
        + connectors(SALES, "    - name: main\n")
    )
    head = plan_of(tmp_path, text)
    base = plan_of(tmp_path, text)
    (addon,) = [r for r in base["resources"] if r["type"] == "aws:eks/addon:Addon"]
    assert addon["name"] == "xpander-main-pod-identity-agent"
    (first_binding,) = [
        r
        for r in base["resources"]
        if r["name"] == "xpander-sales-pod-identity" and r["type"].startswith("xpander:")
    ]
    addon.update(
        name="xpander-sales-pod-identity-agent",
        parent=first_binding["urn"],
        urn=addon["urn"].rsplit("::", 1)[0] + "::xpander-sales-pod-identity-agent",
    )
    diff = plan_diff(base, head)
    no_resource_change(diff)
    assert not diff.added


def test_a_list_without_the_top_level_role_replaces_nothing_silently(tmp_path: Path) -> None:
    """No entry has the running role's name: that connector goes (shown as removed), the new
    one comes; nothing is renamed into a different role."""
    base = plan_of(tmp_path, TOP)
    head = plan_of(tmp_path, TOP + connectors(SALES))
    diff = plan_diff(base, head)
    assert names(diff.removed) == {f"xpander-{part}" for part in CONNECTOR_PARTS}
    assert names(diff.added) == {f"xpander-sales-{part}" for part in CONNECTOR_PARTS}
    assert not diff.aliased
    assert "connectorConfig" not in head["outputs"]


RENAMED = "    - name: sales-team\n      formerName: sales\n      roleName: xpander-sales\n"


def test_a_rename_with_formername_is_a_no_op(tmp_path: Path) -> None:
    support = "    - name: support\n      roleName: xpander-support\n      serviceAccount: su\n"
    before = TOP + connectors(SALES.replace("serviceAccount: sales", "serviceAccount: s"), support)
    after = TOP + connectors(RENAMED + "      serviceAccount: s\n", support)
    diff = plan_diff(plan_of(tmp_path, before), plan_of(tmp_path, after))
    no_resource_change(diff)
    assert not diff.added
    assert names(a.resource for a in diff.aliased) == {
        f"xpander-sales-team-{part}" for part in CONNECTOR_PARTS
    }
    assert {c.path.split(".")[1] for c in diff.outputs} == {"sales", "sales-team"}


def test_a_rename_without_formername_is_shown_as_delete_and_create(tmp_path: Path) -> None:
    before = TOP + connectors(SALES)
    after = TOP + connectors(SALES.replace("name: sales", "name: sales-team"))
    diff = plan_diff(plan_of(tmp_path, before), plan_of(tmp_path, after))
    assert len(diff.removed) == len(diff.added) == 9


@pytest.mark.parametrize("previous", ["single", "list"])
def test_renaming_the_primary_connector(tmp_path: Path, previous: str) -> None:
    before = TOP if previous == "single" else TOP + connectors("    - name: main\n")
    after = TOP + connectors("    - name: primary\n      formerName: main\n")
    diff = plan_diff(plan_of(tmp_path, before), plan_of(tmp_path, after))
    no_resource_change(diff)
    assert not diff.added


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ("    - name: a\n      formerName: a\n", "connectors[0].formerName = 'a': is the"),
        ("    - name: a\n      formerName: Bad_Name\n", "connectors[0].formerName = 'Bad_Name'"),
        (
            "    - name: a\n      formerName: b\n    - name: b\n      roleName: r-b\n",
            "connectors[0].formerName = 'b': is the name of another connector",
        ),
        (
            "    - name: a\n      formerName: old\n"
            "    - name: b\n      roleName: r-b\n      formerName: old\n",
            "connectors[1].formerName = 'old': is the formerName of another connector",
        ),
    ],
)
def test_formername_is_checked_by_the_gate(tmp_path: Path, entries: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        plan_of(tmp_path, TOP + connectors(entries))
    assert any(message in problem for problem in caught.value.problems), caught.value.problems


def test_inherited_aliases_follow_the_engine() -> None:
    """Hand-derived from step_generator.go inheritedChildAlias: the child's name with the parent's
    old name in place of its new one, under the parent's old URN."""
    parent_old = "urn:pulumi:dev::p::a:b:Parent$x:y:Comp::app"
    assert inherited_alias("aws:s3/bucket:Bucket", "newapp-bucket", "newapp", parent_old) == (
        "urn:pulumi:dev::p::x:y:Comp$aws:s3/bucket:Bucket::app-bucket"
    )
    assert inherited_alias("t:t:T", "other", "newapp", parent_old) == (
        "urn:pulumi:dev::p::x:y:Comp$t:t:T::other"
    )


def test_a_parent_found_by_urn_passes_no_alias_on() -> None:
    """Only a parent matched under an alias gives its children inherited aliases."""
    parent = {"urn": "urn:pulumi:dev::p::S$C:c:C::new", "type": "C:c:C", "parent": None}
    child = {"urn": "urn:pulumi:dev::p::C:c:C$T:t:T::new-x", "type": "T:t:T"}
    child["parent"] = parent["urn"]
    old_child = {"urn": "urn:pulumi:dev::p::C:c:C$T:t:T::old-x"}
    assert match([parent, old_child], [parent, child]) == {parent["urn"]: parent["urn"]}
    aliased_parent = {**parent, "aliases": ["urn:pulumi:dev::p::S$C:c:C::old"]}
    old_parent = {"urn": "urn:pulumi:dev::p::S$C:c:C::old"}
    assert match([old_parent, old_child], [aliased_parent, child]) == {
        parent["urn"]: old_parent["urn"],
        child["urn"]: old_child["urn"],
    }


def test_each_connector_is_listed_once_in_the_plan_views(tmp_path: Path) -> None:
    head = plan_of(tmp_path, TOP + connectors("    - name: main\n", SALES))
    assert set(connector_configs(head["outputs"])) == {"main", "sales"}
    assert set(connector_configs(plan_of(tmp_path, TOP)["outputs"])) == {""}


def test_the_jobs_kubernetes_objects_are_named_after_the_connector(tmp_path: Path) -> None:
    """With kubernetes-job, the Job's objects take the connector's name (metadata.name), which
    pulumi-kubernetes replaces on change (provider/pkg/provider/forcenew.go): shown as such; the
    role, the association and the database user's record are the same resources."""
    job = "  xpander-redshift:userProvisioner: kubernetes-job\n"
    diff = plan_diff(
        plan_of(tmp_path, TOP + job),
        plan_of(tmp_path, TOP + job + connectors("    - name: main\n")),
    )
    assert not diff.added and not diff.removed
    assert {c.resource["type"] for c in diff.replaced} == {
        "kubernetes:batch/v1:Job",
        "kubernetes:core/v1:ConfigMap",
        "kubernetes:core/v1:Secret",
        "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    }
    assert all(c.replaces == ("metadata.name",) for c in diff.replaced)
