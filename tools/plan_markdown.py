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
from typing import Any

from model.outputs import COMPUTED, UI_FIELDS
from tools.plan_diff import (
    DOCUMENT_KEY,
    MISSING,
    InputChange,
    PlanDiff,
    ResourceChange,
    StatementChange,
    plan_diff,
    violation_key,
)
from tools.plan_graph import Hierarchy, Timing, critical_path, duration, mermaid_graph, schedule
from tools.plan_replace import DISRUPTIVE_IN_PLACE
from tools.plan_views import (
    CONNECTOR_OUTPUTS,
    iam_documents,
    plan_account,
    plan_connector_configs,
    provisioning_sql,
    short_type,
)

Plan = dict[str, Any]
Resource = Mapping[str, Any]


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


def _urn_name(urn: Any) -> str:
    return str(urn).rsplit("::", 1)[-1] if urn else "stack"


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
    account, placeholder = plan_account(plan)
    which = " and looked-up ids are" if placeholder else "; looked-up ids are"
    lines = [
        f"## Plan: stack `{plan['stack']}` of `{plan['project']}`",
        "",
        "Rendered offline by `python -m tools.plan --markdown` under Pulumi's mock engine: "
        f"account `{account}`{which} placeholders, `{COMPUTED}` is "
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
        "resource type (`TYPICAL_CREATE_SECONDS` in `tools/plan_graph.py`, with their basis), "
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
    configs = plan_connector_configs(plan)
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
    outputs = {k: v for k, v in plan.get("outputs", {}).items() if k not in CONNECTOR_OUTPUTS}
    rows = ["| output | value |", "| --- | --- |"]
    rows += [f"| `{key}` | {cell(outputs[key])} |" for key in sorted(outputs)]
    return details(f"Other stack outputs ({len(outputs)})", rows)


def _violation_rows(violations: Iterable[Mapping[str, Any]]) -> list[str]:
    rows = ["| level | policy | resource | message |", "| --- | --- | --- | --- |"]
    for v in sorted(violations, key=violation_key):
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
            ["Every policy of the pack passes on every resource (`policies/pack.py`)."],
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


def _value(value: Any) -> str:
    return "*(none)*" if value is MISSING else cell(value)


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
    if change.key.startswith(DOCUMENT_KEY):
        label = f"document element `{change.key[len(DOCUMENT_KEY) :]}`"
    if change.kind == "added":
        return [f"**Added** {label}:", "", *fenced("json", _pretty(change.after)), ""]
    if change.kind == "removed":
        return [f"**Removed** {label}:", "", *fenced("json", _pretty(change.before)), ""]
    whole = _diff_lines(_pretty(change.before), _pretty(change.after), whole=True)
    return [f"**Changed** {label}:", "", *fenced("diff", "\n".join(whole)), ""]


def _stacks_differ(plan: Plan, base: Plan) -> str | None:
    """A warning when the base plan is of another project or stack (None when it is not)."""
    mine = (plan.get("project"), plan.get("stack"))
    theirs = (base.get("project"), base.get("stack"))
    if mine == theirs:
        return None
    return (
        f"The base plan is of stack `{text_cell(str(theirs[1]))}` (project "
        f"`{text_cell(str(theirs[0]))}`), this plan of stack `{text_cell(str(mine[1]))}`: "
        "URNs name their stack, so every resource shows as removed and added. Compare plans "
        "of the same stack."
    )


def _change_heading(change: ResourceChange) -> list[str]:
    disruptive = sorted(
        DISRUPTIVE_IN_PLACE.get(str(change.resource["type"]), frozenset())
        & {c.path.split(".")[0].split("[")[0] for c in change.inputs}
    )
    note = (
        [
            "In place, not quietly (a resize keeps the cluster read-only while it runs; a new "
            "port restarts it): " + ", ".join(f"`{key}`" for key in disruptive) + ".",
            "",
        ]
        if disruptive
        else []
    )
    if not change.replaces:
        return [f"#### ~ {display(change.resource)}", "", *note]
    keys = ", ".join(f"`{key}`" for key in change.replaces)
    never = " (a cluster's database cannot be renamed at all)" if "databaseName" in keys else ""
    return [
        f"#### +- {display(change.resource)}: REPLACED",
        "",
        f"Changing {keys} deletes this resource and creates it anew{never}.",
        "",
        *note,
    ]


def _reboot_lines(change: ResourceChange) -> list[str]:
    """A parameter group change of static parameters: pending until the cluster reboots."""
    if not change.reboot_parameters:
        return []
    names = ", ".join(f"`{p}`" for p in change.reboot_parameters)
    what = (
        "is a static parameter" if len(change.reboot_parameters) == 1 else "are static parameters"
    )
    return [
        f"**Needs a reboot:** {names} {what}: `pulumi up` changes or attaches "
        "the group, and the running cluster applies them only when it reboots. `pulumi up` "
        "says so with the reboot command and keeps them in the `pendingReboot` output until "
        "then (with `rebootForStaticParameters` it reboots when safe); `make verify` shows the "
        "group's apply status (docs/operations.md).",
        "",
    ]


def _diff_section(diff: PlanDiff, warning: str | None = None) -> list[str]:
    lines = [
        "### Changes against the base plan",
        "",
        *([f"> **Warning:** {warning}", ""] if warning else []),
        f"**{diff.headline()}** (resources matched by URN{' or alias' if diff.aliased else ''})",
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
    if diff.aliased:
        lines += ["| same resource, new name | was |", "| --- | --- |"]
        lines += [f"| `{a.resource['name']}` | `{_urn_name(a.base_urn)}` |" for a in diff.aliased]
        lines.append("")
    for change in diff.changed:
        lines += _change_heading(change)
        lines += _reboot_lines(change)
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
    return "" if value is MISSING else value if isinstance(value, str) else _pretty(value)


def _multiline(change: InputChange) -> bool:
    return any(isinstance(v, str) and "\n" in v for v in (change.before, change.after))


# --- the view -----------------------------------------------------------------------------------


def render_markdown(plan: dict[str, Any], base: dict[str, Any] | None = None) -> str:
    """The pull-request view of a plan; with `base` (a previous `--json` plan), what changed."""
    timings = schedule(plan)
    diff = plan_diff(base, plan) if base is not None else None
    lines = _summary(plan, timings, diff)
    if diff is not None and base is not None:
        lines += _diff_section(diff, _stacks_differ(plan, base))
    lines += _graph_section(plan)
    lines += _critical_path_section(plan, timings)
    lines += _documents_section(plan)
    lines += _sql_section(plan)
    lines += _connector_section(plan)
    lines += _policy_section(plan)
    lines += _outputs_section(plan)
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"
