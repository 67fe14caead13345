"""The offline plan as a pull-request view: graph, critical path, documents, verdicts and a diff.

`python -m tools.plan --markdown [--base FILE]` prints it; CI writes it into the job summary.
Everything here is a pure function of the plan JSON (and the base plan JSON), so the same plan
always renders to the same bytes: no timestamps, every list in a fixed order.
"""

from __future__ import annotations

import difflib
import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from model.outputs import UI_FIELDS
from tools.engine import COMPUTED, PLACEHOLDER_ACCOUNT_ID, SECRET
from tools.plan import (
    IAM_DOCUMENT_INPUTS,
    connector_configs,
    iam_documents,
    provisioning_sql,
    short_type,
)

Plan = dict[str, Any]
Resource = Mapping[str, Any]

# Typical time to create one resource, in seconds, by Pulumi type token: estimates for reading the
# shape of a deploy, not measurements. The basis of each is on its line. Types not listed take
# DEFAULT_CREATE_SECONDS; components and providers take no time.
TYPICAL_CREATE_SECONDS: dict[str, int] = {
    # The guide, step 3: "Wait for the cluster (~5-10 minutes)". The upper end: `pulumi up`
    # waits until the cluster is available.
    "aws:redshift/cluster:Cluster": 600,
    # One synchronous API call each (CreateClusterSubnetGroup; CreateSecurityGroup plus the
    # provider's revoke of the default egress rule; AuthorizeSecurityGroupIngress): seconds.
    "aws:redshift/subnetGroup:SubnetGroup": 5,
    "aws:ec2/securityGroup:SecurityGroup": 5,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": 2,
    # The cluster baseline: CreateClusterParameterGroup then ModifyClusterParameterGroup,
    # CreateLogGroup then PutRetentionPolicy, EnableLogging: synchronous calls, seconds each. A
    # Stash is kept by the engine itself: no API call.
    "aws:redshift/parameterGroup:ParameterGroup": 5,
    "aws:cloudwatch/logGroup:LogGroup": 2,
    "aws:redshift/logging:Logging": 5,
    "pulumi:index:Stash": 0,
    # CreateRole / PutRolePolicy are synchronous; the provider adds a few seconds of retries while
    # IAM propagates the new role.
    "aws:iam/role:Role": 10,
    "aws:iam/rolePolicy:RolePolicy": 5,
    # CreatePodIdentityAssociation is synchronous: seconds (EKS checks iam:PassRole on the role).
    "aws:eks/podIdentityAssociation:PodIdentityAssociation": 10,
    # An EKS add-on is created, then polled until ACTIVE: about 1-2 minutes.
    "aws:eks/addon:Addon": 90,
    # The data-api provisioner: one BatchExecuteStatement, polled until FINISHED; a few seconds on
    # an idle cluster, with room for the first connection to a new cluster.
    "pulumi-python:dynamic/xpander:IamrUser": 30,
    # The kubernetes-job provisioner: API objects in seconds; the Job pulls the psql image and runs
    # to completion in about a minute.
    "kubernetes:core/v1:Secret": 2,
    "kubernetes:core/v1:ConfigMap": 2,
    "kubernetes:batch/v1:Job": 60,
}
DEFAULT_CREATE_SECONDS = 10

# Inputs that are engine plumbing, not settings a reviewer can act on (the dynamic provider's
# pickled code changes with every edit of the provider module).
_IGNORED_INPUT_PREFIX = "__"
_LEVEL_ORDER = {"mandatory": 0, "advisory": 1, "remediate": 2, "disabled": 3}


# --- the resources: hierarchy, ids, timing ------------------------------------------------------


@dataclass(frozen=True)
class Hierarchy:
    """The plan's resources by URN and by parent; parents outside the plan (the stack) are roots."""

    by_urn: dict[str, Resource]
    children: dict[str | None, list[Resource]]  # key None: the roots

    @classmethod
    def of(cls, plan: Plan) -> Hierarchy:
        by_urn = {r["urn"]: r for r in plan["resources"]}
        children: dict[str | None, list[Resource]] = {}
        for r in sorted(plan["resources"], key=lambda r: (str(r["name"]), str(r["urn"]))):
            children.setdefault(r["parent"] if r.get("parent") in by_urn else None, []).append(r)
        return cls(by_urn, children)

    def is_component(self, resource: Resource) -> bool:
        """Components group other resources and create nothing themselves."""
        token = str(resource["type"])
        if token.startswith("pulumi:providers:"):
            return False
        module = token.split(":")[1] if token.count(":") == 2 else ""
        return resource["urn"] in self.children or "/" not in module

    def create_seconds(self, resource: Resource) -> int:
        token = str(resource["type"])
        if self.is_component(resource) or token.startswith("pulumi:providers:"):
            return 0
        return TYPICAL_CREATE_SECONDS.get(token, DEFAULT_CREATE_SECONDS)


@dataclass(frozen=True)
class Timing:
    """When a resource starts and finishes in a deploy from empty, in seconds from the start."""

    start: int
    finish: int
    waits_for: str | None  # the URN whose finish sets this start (the critical predecessor)


def schedule(plan: Plan) -> dict[str, Timing]:
    """Earliest start and finish of every resource when the engine runs all it can in parallel.

    A resource starts when the last of its dependencies has finished; a component finishes when
    its last child and dependency have (it takes no time itself). Dependencies outside the plan
    (the stack) are already there.
    """
    tree = Hierarchy.of(plan)
    timings: dict[str, Timing] = {}
    visiting: set[str] = set()

    def latest(urns: Iterable[str]) -> tuple[int, str | None]:
        best: tuple[int, str | None] = (0, None)
        for urn in sorted(u for u in set(urns) if u in tree.by_urn):
            finish = visit(urn).finish
            if finish > best[0]:
                best = (finish, urn)
        return best

    def visit(urn: str) -> Timing:
        if urn in timings:
            return timings[urn]
        if urn in visiting:
            raise ValueError(f"dependency cycle through {urn}")
        visiting.add(urn)
        resource = tree.by_urn[urn]
        start, waits_for = latest(resource.get("dependencies", []))
        finish = start + tree.create_seconds(resource)
        if tree.is_component(resource):
            child_finish, last_child = latest(c["urn"] for c in tree.children.get(urn, []))
            if child_finish > finish:
                finish, waits_for = child_finish, last_child
        visiting.discard(urn)
        timings[urn] = Timing(start, finish, waits_for)
        return timings[urn]

    for urn in sorted(tree.by_urn):
        visit(urn)
    return timings


def critical_path(plan: Plan, timings: Mapping[str, Timing]) -> list[str]:
    """The URNs (resources that take time) of the longest chain, first to last."""
    tree = Hierarchy.of(plan)
    path: list[str] = []
    urn = max(sorted(timings), key=lambda u: timings[u].finish) if timings else None
    while urn is not None:
        if tree.create_seconds(tree.by_urn[urn]) > 0:
            path.append(urn)
        urn = timings[urn].waits_for
    return list(reversed(path))


def duration(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest} s"
    return f"{minutes} min" if not rest else f"{minutes} min {rest} s"


def node_ids(tree: Hierarchy) -> dict[str, str]:
    """A safe, stable Mermaid id per URN, derived from the name (`r_` resource, `c_` component)."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for urn in sorted(tree.by_urn):
        resource = tree.by_urn[urn]
        prefix = "c" if tree.is_component(resource) else "r"
        base = f"{prefix}_{re.sub(r'[^A-Za-z0-9_]', '_', str(resource['name']))}"
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            candidate = f"{base}_{n}"
        taken.add(candidate)
        ids[urn] = candidate
    return ids


def _label(text: str) -> str:
    """A quoted Mermaid label: quotes become entities, so the label cannot end early."""
    return '"' + text.replace('"', "#quot;") + '"'


def mermaid_graph(plan: Plan) -> list[str]:
    """A flowchart: components as subgraphs, resources as boxes, dependencies as arrows."""
    tree = Hierarchy.of(plan)
    ids = node_ids(tree)
    lines = ["flowchart LR"]

    def emit(resource: Resource, depth: int) -> None:
        pad = "  " * depth
        urn = resource["urn"]
        children = tree.children.get(urn, [])
        if tree.is_component(resource) and children:
            title = f"{str(resource['type']).split(':')[-1]}: {resource['name']}"
            lines.append(f"{pad}subgraph {ids[urn]}[{_label(title)}]")
            for child in children:
                emit(child, depth + 1)
            lines.append(f"{pad}end")
            return
        text = f"{short_type(str(resource['type']))}<br/>{resource['name']}"
        if resource.get("protect"):
            text += " (protected)"
        lines.append(f"{pad}{ids[urn]}[{_label(text)}]")
        for child in children:  # a custom resource that parents others: side by side
            emit(child, depth)

    for root in tree.children.get(None, []):
        emit(root, 1)
    edges = [
        f"  {ids[dependency]} --> {ids[urn]}"
        for urn in sorted(tree.by_urn)
        for dependency in sorted(set(tree.by_urn[urn].get("dependencies", [])))
        if dependency in ids
    ]
    return lines + edges


# --- markdown helpers ---------------------------------------------------------------------------


def cell(value: Any) -> str:
    """A value for a table cell: code, HTML-escaped, pipes and newlines made harmless."""
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    escaped = html.escape(text, quote=False).replace("|", "&#124;").replace("\n", "<br>")
    return f"<code>{escaped}</code>"


def text_cell(text: str) -> str:
    """Prose for a table cell: markdown and HTML specials escaped, so it renders as written."""
    escaped = html.escape(text, quote=False).replace("\n", " ")
    return re.sub(r"([\\`*_\[\]|])", r"\\\1", escaped)


def fenced(language: str, text: str) -> list[str]:
    fence = "```"
    while fence in text:
        fence += "`"
    return [f"{fence}{language}", text.rstrip("\n"), fence]


def details(summary: str, body: Sequence[str], *, open_: bool = False) -> list[str]:
    # GitHub renders markdown inside <details> only with a blank line after </summary>.
    return [
        "<details open>" if open_ else "<details>",
        f"<summary>{summary}</summary>",
        "",
        *body,
        "",
        "</details>",
        "",
    ]


def display(resource: Resource) -> str:
    return f"`{resource['name']}` ({short_type(str(resource['type']))})"


def _urn_name(urn: str | None) -> str:
    return urn.rsplit("::", 1)[-1] if urn else "stack"


# --- the sections -------------------------------------------------------------------------------


def _summary(plan: Plan, timings: Mapping[str, Timing], diff: PlanDiff | None) -> list[str]:
    tree = Hierarchy.of(plan)
    custom = [r for r in plan["resources"] if not tree.is_component(r)]
    components = len(plan["resources"]) - len(custom)
    total = max((t.finish for t in timings.values()), default=0)
    violations = plan.get("policyViolations", [])
    mandatory = sum(1 for v in violations if v.get("enforcementLevel") == "mandatory")
    verdict = (
        "all pass"
        if not violations
        else f"{mandatory} mandatory, {len(violations) - mandatory} other violation(s)"
    )
    lines = [
        f"## Plan: stack `{plan['stack']}` of `{plan['project']}`",
        "",
        "Rendered offline by `python -m tools.plan --markdown` under Pulumi's mock engine: "
        f"account `{PLACEHOLDER_ACCOUNT_ID}` and looked-up ids are placeholders, `{COMPUTED}` is "
        "known only after deploy. `pulumi preview --policy-pack policies` with credentials is "
        "the real thing.",
        "",
        f"- **{len(custom)} resources** in {components} components",
        f"- **Policies:** {verdict}",
        f"- **Deploy from empty:** about {duration(total)} (critical path below)",
    ]
    if diff is not None:
        lines.append(f"- **Against the base plan:** {diff.headline()}")
    return [*lines, ""]


def _graph_section(plan: Plan) -> list[str]:
    return [
        "### Resources",
        "",
        "Boxes group the resources of one component; an arrow points from a resource to one that "
        "waits for it.",
        "",
        *fenced("mermaid", "\n".join(mermaid_graph(plan))),
        "",
    ]


def _critical_path_section(plan: Plan, timings: Mapping[str, Timing]) -> list[str]:
    tree = Hierarchy.of(plan)
    path = critical_path(plan, timings)
    lines = ["### Deploy from empty: the critical path", ""]
    if not path:
        return [*lines, "Nothing to create.", ""]
    lines += [
        "`pulumi up` creates independent resources in parallel, so a deploy from empty takes about "
        "as long as its longest chain of dependencies. Times are typical create times per "
        "resource type (`TYPICAL_CREATE_SECONDS` in `tools/plan_markdown.py`, with their basis), "
        "not measurements.",
        "",
        "| # | resource | typical create | done after |",
        "| ---: | --- | ---: | ---: |",
    ]
    for number, urn in enumerate(path, start=1):
        resource = tree.by_urn[urn]
        lines.append(
            f"| {number} | {display(resource)} | {duration(tree.create_seconds(resource))} | "
            f"{duration(timings[urn].finish)} |"
        )
    lines.append("")
    # What runs beside the slowest step of the path costs no time: say so, by name.
    slowest = max(path, key=lambda urn: tree.create_seconds(tree.by_urn[urn]))
    window = timings[slowest]
    beside = [
        resource
        for urn, resource in sorted(tree.by_urn.items(), key=lambda u: (timings[u[0]].finish, u[0]))
        if urn not in path
        and tree.create_seconds(resource) > 0
        and timings[urn].start < window.finish
        and timings[urn].finish > window.start
    ]
    if beside:
        lines += [
            f"Created while {display(tree.by_urn[slowest])} is, so they add nothing to the deploy "
            "time:",
            "",
            *(f"- {display(r)}, done after {duration(timings[r['urn']].finish)}" for r in beside),
            "",
        ]
    return lines


def _documents_section(plan: Plan) -> list[str]:
    documents = iam_documents(plan)
    body: list[str] = []
    for label, document in documents:
        body += [f"**{label}**", "", *fenced("json", json.dumps(document, indent=2)), ""]
    if not documents:
        body = ["No IAM document is known before deploy."]
    return details(f"IAM documents ({len(documents)})", body)


def _sql_section(plan: Plan) -> list[str]:
    statements = provisioning_sql(plan)
    body = (
        fenced("sql", "\n".join(statements))
        if statements
        else ["The plan records no provisioning SQL."]
    )
    return details("SQL the database-user provisioner will run", body)


def _connector_section(plan: Plan) -> list[str]:
    configs = connector_configs(plan)
    if not configs:
        return details("Connector config for the xpander UI", ["No `connectorConfig` output."])
    body = [
        "In the UI's field order; after deploy, `make connector` prints the same from the stack."
    ]
    for name, config in configs.items():
        rows = [f"Connector `{name}`:", ""] if name else []
        rows += ["| xpander UI field | value |", "| --- | --- |"]
        for field in UI_FIELDS:
            value = cell(config[field]) if field in config else "**missing**"
            rows.append(f"| {field} | {value} |")
        rows += [
            f"| {key} (not a UI field) | {cell(config[key])} |"
            for key in sorted(config)
            if key not in UI_FIELDS
        ]
        body += ["", *rows]
    return details("Connector config for the xpander UI", body)


def _outputs_section(plan: Plan) -> list[str]:
    shown = ("connectorConfig", "connectors")
    outputs = {k: v for k, v in plan.get("outputs", {}).items() if k not in shown}
    rows = ["| output | value |", "| --- | --- |"]
    rows += [f"| `{key}` | {cell(outputs[key])} |" for key in sorted(outputs)]
    return details(f"Other stack outputs ({len(outputs)})", rows)


def _violation_key(violation: Mapping[str, Any]) -> tuple[int, str, str, str]:
    return (
        _LEVEL_ORDER.get(str(violation.get("enforcementLevel")), len(_LEVEL_ORDER)),
        str(violation.get("policy")),
        str(violation.get("urn") or ""),
        str(violation.get("message")),
    )


def _violation_rows(violations: Iterable[Mapping[str, Any]]) -> list[str]:
    rows = ["| level | policy | resource | message |", "| --- | --- | --- | --- |"]
    for v in sorted(violations, key=_violation_key):
        rows.append(
            f"| {v.get('enforcementLevel')} | `{v.get('policy')}` | `{_urn_name(v.get('urn'))}` "
            f"| {text_cell(str(v.get('message')))} |"
        )
    return rows


def _policy_section(plan: Plan) -> list[str]:
    violations = plan.get("policyViolations", [])
    if not violations:
        return details(
            "Policy verdicts: all pass",
            ["Every policy of the pack passes on every resource (`policies/rules.py`)."],
        )
    mandatory = any(v.get("enforcementLevel") == "mandatory" for v in violations)
    summary = f"Policy verdicts: {len(violations)} violation(s)"
    note = (
        "A mandatory violation fails `make plan` and `pulumi preview`."
        if mandatory
        else "Advisory only: the preview still passes."
    )
    return details(summary, [note, "", *_violation_rows(violations)], open_=mandatory)


# --- the diff against a base plan ---------------------------------------------------------------


@dataclass(frozen=True)
class StatementChange:
    key: str  # the Sid, "#<n>" (1-based) for a statement without one, or "document:<element>"
    kind: str  # "added" | "removed" | "changed"
    before: Any
    after: Any


@dataclass(frozen=True)
class InputChange:
    path: str
    before: Any
    after: Any
    statements: tuple[StatementChange, ...] = ()  # set for IAM documents


@dataclass(frozen=True)
class ResourceChange:
    resource: Mapping[str, Any]
    inputs: tuple[InputChange, ...]


@dataclass(frozen=True)
class PlanDiff:
    added: tuple[Mapping[str, Any], ...]
    removed: tuple[Mapping[str, Any], ...]
    changed: tuple[ResourceChange, ...]
    outputs: tuple[InputChange, ...]
    new_violations: tuple[Mapping[str, Any], ...]
    resolved_violations: tuple[Mapping[str, Any], ...]

    def headline(self) -> str:
        if not (self.added or self.removed or self.changed or self.outputs):
            return "no resource or output changes"
        parts = [
            f"{len(self.added)} to add",
            f"{len(self.removed)} to remove",
            f"{len(self.changed)} to change",
        ]
        if self.outputs:
            parts.append(f"{len(self.outputs)} output(s) changed")
        return ", ".join(parts)


_MISSING = object()  # an input or output that one side does not have
_DOCUMENT_KEY = "document:"  # StatementChange.key of a document element other than Statement


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    """Leaf paths of a JSON value: `tags.Name`, `vpcSecurityGroupIds[0]`."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key in value:
            out.update(flatten(value[key], f"{path}.{key}" if path else str(key)))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{path}[{index}]"))
        return out
    return {path: value}


def _statements(document: Any) -> list[tuple[str, Any]]:
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    keyed: list[tuple[str, Any]] = []
    seen: set[str] = set()
    for index, statement in enumerate(statements, start=1):
        sid = statement.get("Sid") if isinstance(statement, dict) else None
        key = sid if isinstance(sid, str) and sid and sid not in seen else f"#{index}"
        seen.add(key)
        keyed.append((key, statement))
    return keyed


def _parse_document(text: Any) -> dict[str, Any] | None:
    if not isinstance(text, str) or text in (COMPUTED, SECRET):
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return None
    return document if isinstance(document, dict) else None


def statement_changes(before: dict[str, Any], after: dict[str, Any]) -> list[StatementChange]:
    """IAM document changes statement by statement (matched by Sid, else by position)."""
    old, new = dict(_statements(before)), dict(_statements(after))
    changes: list[StatementChange] = []
    for key, statement in _statements(after):
        if key not in old:
            changes.append(StatementChange(key, "added", None, statement))
        elif old[key] != statement:
            changes.append(StatementChange(key, "changed", old[key], statement))
    changes += [
        StatementChange(key, "removed", statement, None)
        for key, statement in _statements(before)
        if key not in new
    ]
    rest_before = {k: v for k, v in before.items() if k != "Statement"}
    rest_after = {k: v for k, v in after.items() if k != "Statement"}
    for key in sorted(set(rest_before) | set(rest_after)):
        if rest_before.get(key) != rest_after.get(key):
            changes.append(
                StatementChange(
                    f"{_DOCUMENT_KEY}{key}", "changed", rest_before.get(key), rest_after.get(key)
                )
            )
    return changes


def input_changes(base: Resource, head: Resource) -> list[InputChange]:
    """Changed inputs of one resource; IAM documents compared statement by statement."""
    document_key = IAM_DOCUMENT_INPUTS.get(str(head["type"]))
    before_inputs = {
        k: v for k, v in base.get("inputs", {}).items() if not k.startswith(_IGNORED_INPUT_PREFIX)
    }
    after_inputs = {
        k: v for k, v in head.get("inputs", {}).items() if not k.startswith(_IGNORED_INPUT_PREFIX)
    }
    changes: list[InputChange] = []
    for key in sorted(set(before_inputs) | set(after_inputs)):
        before, after = before_inputs.get(key, _MISSING), after_inputs.get(key, _MISSING)
        if before == after:
            continue
        if key == document_key:
            old_doc, new_doc = _parse_document(before), _parse_document(after)
            if old_doc is not None and new_doc is not None:
                changes.append(
                    InputChange(key, before, after, tuple(statement_changes(old_doc, new_doc)))
                )
                continue
        if isinstance(before, str | int | float | bool) or isinstance(
            after, str | int | float | bool
        ):
            changes.append(InputChange(key, before, after))
            continue
        old_leaves = flatten(before, key) if before is not _MISSING else {}
        new_leaves = flatten(after, key) if after is not _MISSING else {}
        for path in sorted(set(old_leaves) | set(new_leaves)):
            old, new = old_leaves.get(path, _MISSING), new_leaves.get(path, _MISSING)
            if old != new:
                changes.append(InputChange(path, old, new))
    if bool(base.get("protect")) != bool(head.get("protect")):
        changes.append(
            InputChange("(protect)", bool(base.get("protect")), bool(head.get("protect")))
        )
    return changes


def _violation_identity(violation: Mapping[str, Any]) -> str:
    return json.dumps([violation.get(k) for k in ("policy", "urn", "message", "enforcementLevel")])


def plan_diff(base: Plan, head: Plan) -> PlanDiff:
    """What changes from the base plan to this one, resources matched by URN."""
    old = {r["urn"]: r for r in base.get("resources", [])}
    new = {r["urn"]: r for r in head.get("resources", [])}
    changed = []
    for urn in sorted(set(old) & set(new)):
        inputs = input_changes(old[urn], new[urn])
        if inputs:
            changed.append(ResourceChange(new[urn], tuple(inputs)))
    old_outputs = flatten(base.get("outputs", {}))
    new_outputs = flatten(head.get("outputs", {}))
    outputs = tuple(
        InputChange(path, old_outputs.get(path, _MISSING), new_outputs.get(path, _MISSING))
        for path in sorted(set(old_outputs) | set(new_outputs))
        if path and old_outputs.get(path, _MISSING) != new_outputs.get(path, _MISSING)
    )
    old_violations = {_violation_identity(v): v for v in base.get("policyViolations", [])}
    new_violations = {_violation_identity(v): v for v in head.get("policyViolations", [])}
    return PlanDiff(
        added=tuple(new[u] for u in sorted(set(new) - set(old))),
        removed=tuple(old[u] for u in sorted(set(old) - set(new))),
        changed=tuple(changed),
        outputs=outputs,
        new_violations=tuple(
            sorted(
                (v for k, v in new_violations.items() if k not in old_violations),
                key=_violation_key,
            )
        ),
        resolved_violations=tuple(
            sorted(
                (v for k, v in old_violations.items() if k not in new_violations),
                key=_violation_key,
            )
        ),
    )


def _value(value: Any) -> str:
    return "*(none)*" if value is _MISSING else cell(value)


def _diff_lines(before: str, after: str, *, whole: bool = False) -> list[str]:
    """A unified diff without its file header; `whole` shows every line and no hunk header."""
    old, new = before.splitlines(), after.splitlines()
    context = max(len(old), len(new)) if whole else 2
    lines = list(difflib.unified_diff(old, new, lineterm="", n=context))[2:]
    return [line for line in lines if not line.startswith("@@")] if whole else lines


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2)


def _statement_lines(change: StatementChange) -> list[str]:
    label = f"statement `{change.key}`"
    if change.key.startswith(_DOCUMENT_KEY):
        label = f"document element `{change.key[len(_DOCUMENT_KEY) :]}`"
    if change.kind == "added":
        return [f"**Added** {label}:", "", *fenced("json", _pretty(change.after)), ""]
    if change.kind == "removed":
        return [f"**Removed** {label}:", "", *fenced("json", _pretty(change.before)), ""]
    whole = _diff_lines(_pretty(change.before), _pretty(change.after), whole=True)
    return [f"**Changed** {label}:", "", *fenced("diff", "\n".join(whole)), ""]


def _diff_section(diff: PlanDiff) -> list[str]:
    lines = [
        "### Changes against the base plan",
        "",
        f"**{diff.headline()}** (resources matched by URN)",
        "",
    ]
    if diff.added or diff.removed:
        lines += ["| | resource | type |", "| --- | --- | --- |"]
        lines += [f"| + | `{r['name']}` | `{r['type']}` |" for r in diff.added]
        for r in diff.removed:
            protected = " (protected: `pulumi up` refuses to delete it until unprotected)"
            lines.append(
                f"| - | `{r['name']}`{protected if r.get('protect') else ''} | `{r['type']}` |"
            )
        lines.append("")
    for change in diff.changed:
        lines += [f"#### ~ {display(change.resource)}", ""]
        plain = [c for c in change.inputs if not c.statements and not _multiline(c)]
        if plain:
            lines += ["| input | before | after |", "| --- | --- | --- |"]
            lines += [f"| `{c.path}` | {_value(c.before)} | {_value(c.after)} |" for c in plain]
            lines.append("")
        for c in change.inputs:
            if c.statements:
                lines += [f"IAM document `{c.path}`, statement by statement:", ""]
                for statement in c.statements:
                    lines += _statement_lines(statement)
            elif _multiline(c):
                lines += [
                    f"`{c.path}`:",
                    "",
                    *fenced("diff", "\n".join(_diff_lines(_text(c.before), _text(c.after)))),
                    "",
                ]
    if diff.outputs:
        lines += ["#### Stack outputs", "", "| output | before | after |", "| --- | --- | --- |"]
        lines += [f"| `{c.path}` | {_value(c.before)} | {_value(c.after)} |" for c in diff.outputs]
        lines.append("")
    if diff.new_violations:
        lines += ["#### New policy violations", "", *_violation_rows(diff.new_violations), ""]
    if diff.resolved_violations:
        lines += [
            "#### Resolved policy violations",
            "",
            *_violation_rows(diff.resolved_violations),
            "",
        ]
    return lines


def _text(value: Any) -> str:
    return "" if value is _MISSING else value if isinstance(value, str) else _pretty(value)


def _multiline(change: InputChange) -> bool:
    return any(isinstance(v, str) and "\n" in v for v in (change.before, change.after))


# --- the view -----------------------------------------------------------------------------------


def render_markdown(plan: dict[str, Any], base: dict[str, Any] | None = None) -> str:
    """The pull-request view of a plan; with `base` (a previous `--json` plan), what changed."""
    timings = schedule(plan)
    diff = plan_diff(base, plan) if base is not None else None
    lines = _summary(plan, timings, diff)
    if diff is not None:
        lines += _diff_section(diff)
    lines += _graph_section(plan)
    lines += _critical_path_section(plan, timings)
    lines += _documents_section(plan)
    lines += _sql_section(plan)
    lines += _connector_section(plan)
    lines += _policy_section(plan)
    lines += _outputs_section(plan)
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"
