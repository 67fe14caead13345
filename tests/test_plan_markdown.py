"""`python -m tools.plan --markdown`: the pull-request view, its Mermaid graph, timing and diff."""

from __future__ import annotations

import copy
import difflib
import json
import os
import random
import re
from pathlib import Path
from typing import Any

import pytest

from model.outputs import UI_FIELDS
from tools import plan as plan_tool
from tools.plan_diff import plan_diff
from tools.plan_graph import TYPICAL_CREATE_SECONDS, critical_path, mermaid_graph, schedule
from tools.plan_markdown import render_markdown
from tools.plan_views import render_text

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
REGENERATE = "UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_plan_markdown.py"


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((GOLDEN / name).read_text(encoding="utf-8"))
    return document


def assert_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = "".join(
            difflib.unified_diff(
                expected.splitlines(keepends=True),
                actual.splitlines(keepends=True),
                f"tests/golden/{name} (committed)",
                "rendered now",
                n=2,
            )
        )
        pytest.fail(
            f"the markdown differs from tests/golden/{name}. If the change is intended, "
            f"regenerate the golden files with\n    {REGENERATE}\nand review the diff.\n{diff}"
        )


# --- a structural check of the Mermaid flowchart ------------------------------------------------

_ID = r"[A-Za-z][A-Za-z0-9_]*"
_LABEL = r'"[^"]*"'
_RESERVED = {"end", "graph", "subgraph", "flowchart", "style", "class", "click", "linkStyle"}


def _mermaid_line(line: str) -> tuple[str, str, str]:
    """(kind, first id, second id) of one flowchart line; kind "bad" if it is none we write."""
    for kind, pattern in (
        ("subgraph", rf"subgraph ({_ID})\[{_LABEL}\]()"),
        ("node", rf"({_ID})\[{_LABEL}\]()"),
        ("edge", rf"({_ID}) --> ({_ID})"),
        ("end", r"end()()"),
    ):
        if m := re.fullmatch(pattern, line.strip()):
            return kind, m.group(1), m.group(2)
    return "bad", "", ""


def mermaid_problems(lines: list[str]) -> list[str]:
    """What GitHub's Mermaid would reject or draw wrongly: undeclared ids, unbalanced groups."""
    problems: list[str] = []
    if not lines or lines[0] != "flowchart LR":
        problems.append(f"first line is {lines[:1]}, not a flowchart header")
    declared: set[str] = set()
    edges: list[tuple[str, str]] = []
    depth = 0
    for number, line in enumerate(lines[1:], start=2):
        kind, first, second = _mermaid_line(line)
        if kind == "bad":
            problems.append(f"line {number}: not a node, subgraph, end or edge: {line!r}")
        elif kind == "edge":
            edges.append((first, second))
        elif kind == "end":
            depth -= 1
            if depth < 0:
                problems.append(f"line {number}: `end` without a subgraph")
        else:
            depth += kind == "subgraph"
            if first in declared or first in _RESERVED:
                problems.append(f"line {number}: {first} declared twice or a Mermaid keyword")
            declared.add(first)
    if depth > 0:
        problems.append(f"{depth} subgraph(s) not closed")
    problems += [
        f"edge {source} --> {target}: {ident} is not declared"
        for source, target in edges
        for ident in (source, target)
        if ident not in declared
    ]
    return problems


def mermaid_block(markdown: str) -> list[str]:
    match = re.search(r"```mermaid\n(.*?)\n```", markdown, re.S)
    assert match, "no mermaid block"
    return match.group(1).splitlines()


# --- crafted plans -------------------------------------------------------------------------------

STACK = "urn:pulumi:t::p::pulumi:pulumi:Stack::p-t"


def resource(
    name: str,
    type_: str,
    *,
    parent: str | None = STACK,
    deps: tuple[str, ...] = (),
    inputs: dict[str, Any] | None = None,
    protect: bool = False,
) -> dict[str, Any]:
    return {
        "urn": f"urn:pulumi:t::p::{type_}::{name}",
        "type": type_,
        "name": name,
        "parent": parent,
        "inputs": inputs or {},
        "dependencies": list(deps),
        "protect": protect,
    }


def plan_of(*resources: dict[str, Any], **extra: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "project": "p",
        "stack": "t",
        "resources": sorted(resources, key=lambda r: r["urn"]),
        "outputs": {},
        "policyViolations": [],
    }
    document.update(extra)
    return document


CLUSTER = "aws:redshift/cluster:Cluster"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/rolePolicy:RolePolicy"
POD_IDENTITY = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
IAMR_USER = "pulumi-python:dynamic/xpander:IamrUser"
USER_INPUTS = {"user": "IAMR:r", "schemas": ["public"], "owner": "admin"}


def small_stack() -> dict[str, Any]:
    """A group with a cluster and a role; a user waits for the cluster, a binding for the role."""
    group = resource("grp", "x:y:Group")
    cluster = resource("db", CLUSTER, parent=group["urn"], protect=True)
    role = resource("role", ROLE, parent=group["urn"])
    binding = resource("bind", POD_IDENTITY, deps=(role["urn"],))
    user = resource("user", IAMR_USER, deps=(cluster["urn"],), inputs=USER_INPUTS)
    return plan_of(group, cluster, role, binding, user)


def document(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


# --- golden files -------------------------------------------------------------------------------


def test_the_golden_head_plan_is_what_the_program_renders_today(dev_plan):
    """plan-head.json is the input of the golden markdown: regenerated and compared here, so a
    renderer test can never pass on a plan the program no longer produces."""
    assert_golden("plan-head.json", json.dumps(dev_plan, indent=2) + "\n")


def test_the_golden_base_plan_has_the_shape_of_todays_plans(dev_plan):
    """plan-base.json stands for the plan of an earlier commit (an older program: other node
    type, no SelfAssume statement, no database user), so it cannot be regenerated; its resources
    must still carry every field today's plans have, so the diff reads what CI would compare."""
    base, head = load("plan-base.json"), dev_plan
    assert plan_tool.plan_shape_problem(base) is None
    fields = {key for resource in head["resources"] for key in resource}
    for resource in base["resources"]:
        assert set(resource) == fields, resource["urn"]
    assert {k for k in base if k not in ("accountId", "accountIsPlaceholder")} <= set(head)


def test_text_view_of_the_dev_plan_matches_the_golden_file():
    """`make plan`'s own view, pinned like the markdown: a change shows up as a diff to review."""
    assert_golden("plan.txt", render_text(load("plan-head.json")))


def test_markdown_of_the_dev_plan_matches_the_golden_file():
    assert_golden("plan.md", render_markdown(load("plan-head.json")))


def test_markdown_with_a_base_plan_matches_the_golden_file():
    rendered = render_markdown(load("plan-head.json"), base=load("plan-base.json"))
    assert_golden("plan-diff.md", rendered)


def test_rendering_is_deterministic_and_has_no_timestamps():
    head, base = load("plan-head.json"), load("plan-base.json")
    first = render_markdown(head, base=base)
    assert render_markdown(copy.deepcopy(head), base=copy.deepcopy(base)) == first
    without_iam_versions = first.replace('"2012-10-17"', "")  # the IAM policy language version
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b|\d\d:\d\d:\d\d", without_iam_versions)


def test_graph_and_timing_do_not_depend_on_the_order_of_resources():
    plan = load("plan-head.json")
    shuffled = copy.deepcopy(plan)
    random.Random(7).shuffle(shuffled["resources"])
    assert mermaid_graph(shuffled) == mermaid_graph(plan)
    assert schedule(shuffled) == schedule(plan)


# --- the real dev plan --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dev_markdown(_dev_plan_once) -> str:
    return render_markdown(copy.deepcopy(_dev_plan_once))


def test_dev_plan_view_has_every_section(dev_markdown):
    for heading in (
        "## Plan: stack `dev` of `xpander-redshift`",
        "### Resources",
        "### Deploy from empty: the critical path",
        "<summary>IAM documents (4)</summary>",
        "<summary>SQL the database-user provisioner will run</summary>",
        "<summary>Connector config for the xpander UI</summary>",
        "<summary>Policy verdicts",
    ):
        assert heading in dev_markdown
    assert dev_markdown.count("<details") == dev_markdown.count("</details>")


def test_dev_plan_mermaid_is_well_formed(dev_markdown):
    lines = mermaid_block(dev_markdown)
    assert mermaid_problems(lines) == []
    assert any(line.strip().startswith("subgraph c_xpander_role[") for line in lines)
    assert "  r_xpander_network_sg --> r_xpander_cluster" in lines


def test_dev_plan_cluster_is_critical_and_role_and_pod_identity_are_built_beside_it(dev_markdown):
    section = dev_markdown.split("### Deploy from empty")[1].split("<details>")[0]
    path_rows = [line for line in section.splitlines() if re.match(r"\| \d+ \|", line)]
    assert any("aws.redshift.Cluster" in row for row in path_rows)
    assert not any("aws.iam.Role" in row or "PodIdentity" in row for row in path_rows)
    beside = section.split("Created while `xpander-cluster` (aws.redshift.Cluster) is")[1]
    assert "`xpander-role` (aws.iam.Role)" in beside
    assert "`xpander-pod-identity` (aws.eks.PodIdentityAssociation)" in beside


def test_dev_plan_connector_table_is_in_ui_order(dev_markdown):
    section = dev_markdown.split("Connector config for the xpander UI")[1].split("</details>")[0]
    rows = re.findall(r"^\| ([^|]+?) \| <code>", section, re.M)
    assert rows == list(UI_FIELDS)


# --- the Mermaid graph --------------------------------------------------------------------------


def test_mermaid_groups_children_in_their_component_and_draws_dependencies():
    lines = mermaid_graph(small_stack())
    assert mermaid_problems(lines) == []
    text = "\n".join(lines)
    assert re.search(r'subgraph c_grp\["Group: grp"\]\n\s+r_db\[.*\n\s+r_role\[.*\n\s+end', text)
    assert "  r_db --> r_user" in lines
    assert "  r_role --> r_bind" in lines
    assert 'r_db["aws.redshift.Cluster<br/>db (protected)"]' in text


def test_mermaid_ids_are_safe_and_unique_and_labels_cannot_break_out():
    odd = resource('we"ird name.with-dots', ROLE)
    twin = resource("a-b", ROLE)
    twin_other_type = resource("a_b", POLICY)
    end = resource("end", CLUSTER, deps=(odd["urn"],))
    lines = mermaid_graph(plan_of(odd, twin, twin_other_type, end))
    assert mermaid_problems(lines) == []
    ids = re.findall(r"^\s+(\w+)\[", "\n".join(lines), re.M)
    assert len(ids) == len(set(ids)) == 4
    assert any("#quot;" in line for line in lines)


def test_mermaid_checker_catches_undeclared_edges_and_unbalanced_groups():
    assert mermaid_problems(["flowchart LR", '  a["x"]', "  a --> b"]) == [
        "edge a --> b: b is not declared"
    ]
    assert mermaid_problems(["flowchart LR", '  subgraph g["x"]', '  a["y"]']) == [
        "1 subgraph(s) not closed"
    ]
    assert mermaid_problems(["flowchart LR", '  a["unterminated]']) != []


# --- timing -------------------------------------------------------------------------------------


def test_critical_path_is_the_longest_chain_and_components_take_no_time():
    plan = small_stack()
    timings = schedule(plan)
    by_name = {r["name"]: timings[r["urn"]] for r in plan["resources"]}
    cluster = TYPICAL_CREATE_SECONDS[CLUSTER]
    user = TYPICAL_CREATE_SECONDS[IAMR_USER]
    assert by_name["db"].finish == cluster
    assert by_name["user"].finish == cluster + user
    assert by_name["bind"].start == by_name["role"].finish == TYPICAL_CREATE_SECONDS[ROLE]
    assert by_name["grp"].finish == cluster  # a component is done when its children are
    names = [u.rsplit("::", 1)[1] for u in critical_path(plan, timings)]
    assert names == ["db", "user"]


def test_a_dependency_on_a_component_waits_for_its_children():
    plan = small_stack()
    group = next(r for r in plan["resources"] if r["name"] == "grp")
    late = resource("late", POLICY, deps=(group["urn"],))
    plan = plan_of(*plan["resources"], late)
    timings = schedule(plan)
    assert timings[late["urn"]].start == TYPICAL_CREATE_SECONDS[CLUSTER]
    assert timings[late["urn"]].finish == TYPICAL_CREATE_SECONDS[CLUSTER] + 5


def test_critical_path_section_names_what_is_built_beside_the_slowest_step():
    markdown = render_markdown(small_stack())
    assert "about 10 min 30 s" in markdown
    beside = markdown.split("Created while `db` (aws.redshift.Cluster) is")[1].split("<details")[0]
    assert "`role` (aws.iam.Role), done after 10 s" in beside
    assert "`bind` (aws.eks.PodIdentityAssociation), done after 20 s" in beside


def test_unknown_types_take_the_default_and_an_empty_plan_has_nothing_to_create():
    plan = plan_of(resource("thing", "acme:index/widget:Widget"))
    assert schedule(plan)[plan["resources"][0]["urn"]].finish == 10
    assert "Nothing to create." in render_markdown(plan_of())


# --- sections -----------------------------------------------------------------------------------


def test_sql_and_violations_and_missing_connector_fields_are_shown():
    user = resource("user", IAMR_USER, inputs=USER_INPUTS)
    violation = {
        "policy": "no-public",
        "urn": user["urn"],
        "message": "a | b *c*",
        "enforcementLevel": "mandatory",
    }
    plan = plan_of(
        user,
        outputs={"connectorConfig": {"Region": "us-west-2", "Extra": "x"}},
        policyViolations=[violation],
    )
    markdown = render_markdown(plan)
    sql = markdown.split("```sql\n")[1].split("```")[0]
    assert sql.startswith("-- user (Data API)")
    assert 'CREATE USER "IAMR:r" PASSWORD DISABLE' in sql
    assert "<details open>\n<summary>Policy verdicts: 1 violation(s)</summary>" in markdown
    assert "| mandatory | `no-public` | `user` | a \\| b \\*c\\* |" in markdown
    assert "| ClusterNamePath | **missing** |" in markdown
    assert "| Extra (not a UI field) | <code>x</code> |" in markdown
    assert "**Policies:** 1 mandatory, 0 other violation(s)" in markdown


# --- the diff -----------------------------------------------------------------------------------


def test_diff_lists_added_removed_and_changed_resources():
    base = plan_of(
        resource("keep", CLUSTER, inputs={"nodeType": "ra3.xlplus", "tags": {"a": "1"}}),
        resource("gone", ROLE, protect=True),
        resource("same", ROLE),
    )
    head = plan_of(
        resource("keep", CLUSTER, inputs={"nodeType": "ra3.large", "tags": {"b": "2"}}),
        resource("new", POLICY),
        resource("same", ROLE),
    )
    diff = plan_diff(base, head)
    assert [r["name"] for r in diff.added] == ["new"]
    assert [r["name"] for r in diff.removed] == ["gone"]
    assert [c.resource["name"] for c in diff.changed] == ["keep"]
    assert [(c.path, c.before, c.after) for c in diff.changed[0].inputs][:1] == [
        ("nodeType", "ra3.xlplus", "ra3.large")
    ]
    markdown = render_markdown(head, base=base)
    assert "**1 to add, 1 to remove, 1 to change** (resources matched by URN)" in markdown
    assert (
        "| - | `gone` (protected: `pulumi up` refuses to delete it until unprotected)" in markdown
    )
    assert "| `tags.a` | <code>1</code> | *(none)* |" in markdown
    assert "| `tags.b` | *(none)* | <code>2</code> |" in markdown


def test_iam_document_changes_are_shown_statement_by_statement():
    before = document(
        {"Sid": "Keep", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Sid": "Narrow", "Effect": "Allow", "Action": "redshift:*", "Resource": "*"},
        {"Sid": "Drop", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"},
        {"Effect": "Deny", "Action": "iam:*", "Resource": "*"},
    )
    after = document(
        {"Sid": "Keep", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Sid": "Narrow", "Effect": "Allow", "Action": "redshift:Describe*", "Resource": "*"},
        {"Sid": "Fresh", "Effect": "Allow", "Action": "sts:TagSession", "Resource": "*"},
    )
    base = plan_of(resource("p", POLICY, inputs={"policy": before}))
    head = plan_of(resource("p", POLICY, inputs={"policy": after}))
    (change,) = plan_diff(base, head).changed[0].inputs
    assert [(s.key, s.kind) for s in change.statements] == [
        ("Narrow", "changed"),
        ("Fresh", "added"),
        ("Drop", "removed"),
        ("#4", "removed"),
    ]
    markdown = render_markdown(head, base=base)
    assert "IAM document `policy`, statement by statement:" in markdown
    assert '-  "Action": "redshift:*",\n+  "Action": "redshift:Describe*",' in markdown
    assert "**Added** statement `Fresh`:" in markdown
    assert "**Removed** statement `#4`:" in markdown
    assert "Keep" not in markdown.split("### Changes against the base plan")[1].split("###")[0]


def test_trust_policy_changes_and_document_level_changes_are_statement_diffs_too():
    statement = {"Sid": "S", "Effect": "Allow", "Action": "sts:AssumeRole"}
    base = plan_of(resource("r", ROLE, inputs={"assumeRolePolicy": document(statement)}))
    changed = json.dumps({"Version": "2008-10-17", "Statement": [statement]})
    head = plan_of(resource("r", ROLE, inputs={"assumeRolePolicy": changed}))
    (change,) = plan_diff(base, head).changed[0].inputs
    assert change.path == "assumeRolePolicy"
    assert [(s.key, s.before, s.after) for s in change.statements] == [
        ("document:Version", "2012-10-17", "2008-10-17")
    ]
    assert "**Changed** document element `Version`:" in render_markdown(head, base=base)


def test_diff_ignores_engine_plumbing_and_reports_protect_outputs_and_verdicts():
    violation = {"policy": "p", "urn": None, "message": "m", "enforcementLevel": "advisory"}
    base = plan_of(
        resource("c", CLUSTER, inputs={"__provider": "abc", "sql": "a\nb\n"}),
        outputs={"connectorConfig": {"Region": "us-west-2"}},
    )
    head = plan_of(
        resource("c", CLUSTER, inputs={"__provider": "def", "sql": "a\nc\n"}, protect=True),
        outputs={"connectorConfig": {"Region": "eu-west-1"}},
        policyViolations=[violation],
    )
    diff = plan_diff(base, head)
    assert [c.path for c in diff.changed[0].inputs] == ["sql", "(protect)"]
    assert [(c.path, c.before, c.after) for c in diff.outputs] == [
        ("connectorConfig.Region", "us-west-2", "eu-west-1")
    ]
    markdown = render_markdown(head, base=base)
    assert "```diff\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n```" in markdown
    assert "#### New policy violations" in markdown
    assert (
        "| `connectorConfig.Region` | <code>us-west-2</code> | <code>eu-west-1</code> |" in markdown
    )


def test_identical_plans_have_no_changes():
    plan = load("plan-head.json")
    markdown = render_markdown(plan, base=copy.deepcopy(plan))
    assert "- **Against the base plan:** no resource or output changes" in markdown
    assert "| + |" not in markdown


def test_the_engines_own_resources_are_resources_not_components():
    """`pulumi:index:Stash` (and a provider) is a custom resource: a box, not a group."""
    group = resource("grp", "x:y:Group")
    stash = resource("kept", "pulumi:index:Stash", parent=group["urn"])
    provider = resource("prov", "pulumi:providers:aws", parent=group["urn"])
    markdown = render_markdown(plan_of(group, stash, provider))
    assert "- **2 resources** in 1 components" in markdown
    assert 'r_kept["pulumi:index:Stash<br/>kept"]' in markdown
    assert 'r_prov["pulumi:providers:aws<br/>prov"]' in markdown
