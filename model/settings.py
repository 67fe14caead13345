"""The one gate: a stack's config parsed and checked once, into immutable `Settings`.

Everything after the gate trusts its result. The gate takes config the way each caller has it:
strings from the Pulumi engine (structured values as JSON text), or the YAML values of a stack
file (lists, mappings, numbers) from the offline plan; values that file keeps encrypted arrive as
`ENCRYPTED`. Every problem is collected and reported at once, one line each, naming the key, the
value and the rule; derived defaults are computed here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from model import outputs, partitions
from model import validators as v
from model.aws_limits import limit_problems
from model.config_keys import (
    CONFIG_KEYS,
    CONNECTOR_FIELDS,
    CONNECTOR_KEYS,
    FORMER_NAME,
    KEYS_BY_NAME,
    KUBERNETES_JOB,
    MAX_CONNECTORS,
    PROJECT,
    SECRET_FLAG,
    ConfigKey,
    ConnectorSettings,
    Settings,
)
from model.config_values import ENCRYPTED, PARSERS, holds_secret, problem, shown

# Keys whose values are secret material (`secret` in the declaration), and the connector fields
# that are: every other key shapes resources or lands in their inputs, so a secret value there is
# refused. `connectors` may be a secret as a whole: it holds organization ids.
SECRET_KEYS = tuple(key.name for key in CONFIG_KEYS if key.secret)
SECRET_CONNECTOR_FIELDS = tuple(key.name for key in CONNECTOR_KEYS if key.secret)


def project_values(config: Mapping[str, Any]) -> dict[str, Any]:
    """This project's keys of a stack's config (without the `xpander-redshift:` prefix)."""
    prefix = f"{PROJECT}:"
    return {k[len(prefix) :]: val for k, val in config.items() if k.startswith(prefix)}


class SettingsError(ValueError):
    """Invalid stack settings: one line per problem, each naming the key, the value and the rule."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def _list_problems(key: str, items: Sequence[str], rule: v.Rule | None) -> list[str]:
    problems = []
    if len(set(items)) != len(items):
        problems.append(problem(key, list(items), "must not repeat an entry"))
    for item in items:
        if rule and (broken := rule(item)):
            problems.append(problem(key, item, broken))
    return problems


def _value_problems(key: ConfigKey, value: Any, where: str | None = None) -> list[str]:
    """The problems of one parsed value by its key's own rule (`where` names it in messages)."""
    name = where or key.name
    if isinstance(value, tuple):
        if not value:
            return [problem(name, [], "must not be empty")]
        if key.max_items and len(value) > key.max_items[0]:
            count, why = key.max_items
            return [problem(name, f"{len(value)} entries", f"at most {count}: {why}")]
        return _list_problems(name, value, key.rule)
    if key.rule and (broken := key.rule(value)):
        return [problem(name, value, broken)]
    return []


def _default(key: ConfigKey) -> Any:
    if key.type == "array":  # an unset list is empty ("the computed default" in the table)
        return tuple(key.default or ())
    return key.default


def _not_secret_material(name: str) -> str:
    return (
        f"{name}: is stored as a secret, but it is not secret material: it shapes resources and "
        "lands in their inputs, where the stack would not keep it secret, and the offline plan "
        "cannot read it. Set it without --secret; only "
        f"{', '.join(SECRET_KEYS)} and "
        f"{', '.join(f'connectors[].{name}' for name in SECRET_CONNECTOR_FIELDS)} may be secrets"
    )


def _is_unset(key: ConfigKey, value: Any) -> bool:
    # Pulumi.yaml declares computed defaults as empty values: they mean "not set".
    return value is None or (key.default_doc is not None and value in ("", "[]", []))


def _read_values(raw: Mapping[str, Any], problems: list[str], secrets: set[str]) -> dict[str, Any]:
    """Each key parsed to its type and checked by its own rule; defaults where unset or broken."""
    values: dict[str, Any] = {}
    for key in CONFIG_KEYS:
        text = raw.get(key.name)
        values[key.name] = _default(key)
        if text is ENCRYPTED or key.name in secrets or holds_secret(text):
            if not key.secret and key.type != "connectors":
                problems.append(_not_secret_material(key.full_name))
                continue
            secrets.add(key.name)
            if text is ENCRYPTED:  # the offline plan cannot read it: "[secret]" stands in
                if key.type != "string":
                    problems.append(
                        f"{key.full_name}: is one secret the offline plan cannot read; keep "
                        "only each connector's organizationId secret (`pulumi config set "
                        f"--secret --path '{key.full_name}[0].organizationId' ...`)"
                    )
                    continue
                values[key.name] = outputs.SECRET
                continue
        if _is_unset(key, text):
            if key.required:
                problems.append(
                    f"{key.full_name}: is required ({key.description}) - "
                    f"set it with `pulumi config set {key.full_name} ...`"
                )
            continue
        try:
            value = PARSERS[key.type](text)
        except ValueError as err:
            problems.append(problem(key.name, text, str(err)))
            continue
        if key.type != "connectors":
            problems += _value_problems(key, value)
        values[key.name] = value
    return values


# --- rules across keys ---------------------------------------------------------------------------


def _region_problems(region: Any) -> list[str]:
    if region is None or region == "":
        return ["aws:region: is required - set it with `pulumi config set aws:region <region>`"]
    if region is ENCRYPTED:
        return ["aws:region: must not be a secret: the plan and every ARN need it"]
    if not isinstance(region, str):
        return [f"aws:region = {shown(region)}: must be an AWS region like us-west-2"]
    if broken := partitions.region_problem(region):
        return [f"aws:region = {shown(region)}: {broken}"]
    return []


def _cluster_problems(raw: Mapping[str, Any], draft: Settings) -> list[str]:
    """Rules of a cluster the stack creates (an existing one keeps its own port and nodes)."""
    problems = []
    node_types, port, count = draft.node_types, draft.port, draft.number_of_nodes
    if draft.existing_cluster_identifier:
        # Pulumi hands over Pulumi.yaml's defaults as if set: only a value other than the default
        # can be a choice that an existing cluster would silently ignore.
        return [
            problem(
                key.name,
                getattr(draft, key.field),
                "applies only to a cluster this stack creates, not with existingClusterIdentifier",
            )
            for key in CONFIG_KEYS
            if key.new_cluster_only and getattr(draft, key.field) != _default(key)
        ]
    if broken := v.port_problem(port, node_types):
        problems.append(problem("port", port, broken))
    if broken := v.number_of_nodes_problem(count, node_types):
        problems.append(problem("numberOfNodes", count, broken))
    if draft.multi_az and (broken := v.multi_az_problem(node_types, count)):
        problems.append(problem("multiAz", True, broken))
    subnets = draft.private_subnet_ids or ()
    if draft.multi_az and 0 < len(subnets) < v.MULTI_AZ_MIN_ZONES:  # zones: looked up at preview
        rule = f"Multi-AZ needs subnets in {v.MULTI_AZ_MIN_ZONES} Availability Zones: name more"
        problems.append(problem("privateSubnetIds", list(subnets), rule))
    if _is_unset(KEYS_BY_NAME["privateSubnetIds"], raw.get("privateSubnetIds")):
        problems.append(
            f"{PROJECT}:privateSubnetIds: is required unless existingClusterIdentifier is set - "
            f"set it with `pulumi config set --path '{PROJECT}:privateSubnetIds[0]' subnet-...`"
        )
    destination = draft.audit_logging
    if destination == "s3" and not draft.audit_log_bucket:
        problems.append(
            f"{PROJECT}:auditLogBucket: is required with auditLogging = s3 - set it with "
            f"`pulumi config set {PROJECT}:auditLogBucket <bucket>`"
        )
    for key, value in (
        ("auditLogBucket", draft.audit_log_bucket),
        ("auditLogS3KeyPrefix", draft.audit_log_s3_key_prefix),
    ):
        if value and destination != "s3":
            problems.append(problem(key, value, "applies only with auditLogging = s3"))
    retention = KEYS_BY_NAME["auditLogRetentionDays"]
    if destination != "cloudwatch" and draft.audit_log_retention_days != _default(retention):
        rule = "applies only with auditLogging = cloudwatch (the stack's log groups)"
        problems.append(problem(retention.name, draft.audit_log_retention_days, rule))
    return problems


def _existing_cluster_problems(draft: Settings) -> list[str]:
    problems = []
    existing = draft.existing_cluster_identifier
    if existing and draft.source_security_group_ids and not draft.existing_security_group_id:
        rule = (
            "with an existing cluster, ingress rules go only into existingSecurityGroupId: set it"
        )
        problems.append(
            problem("sourceSecurityGroupIds", list(draft.source_security_group_ids), rule)
        )
    for key, value in (
        ("existingSecurityGroupId", draft.existing_security_group_id),
        ("existingAdminSecretArn", draft.existing_admin_secret_arn),
    ):
        if value and not existing:
            problems.append(
                problem(key, value, "applies only with existingClusterIdentifier; set that")
            )
    if (
        existing
        and draft.user_provisioner == KUBERNETES_JOB
        and not draft.existing_admin_secret_arn
    ):
        problems.append(
            problem(
                "userProvisioner",
                KUBERNETES_JOB,
                "with an existing cluster psql needs a password: set existingAdminSecretArn",
            )
        )
    return problems


def _tag_problems(tags: Mapping[str, str]) -> list[str]:
    problems = []
    # The stack adds a Name tag to every resource (a Name of the user's own replaces it).
    if len({*tags, "Name"}) > v.MAX_TAGS:
        rule = (
            f"at most {v.MAX_TAGS - 1} besides Name: AWS takes {v.MAX_TAGS} tags a resource "
            "(botocore iam tagListType, eks TagMap, logs Tags: max 50)"
        )
        problems.append(problem("tags", f"{len(tags)} tags", rule))
    for key, value in tags.items():
        if broken := v.tag_problem(key, value):
            problems.append(problem(f"tags.{key[:40]}", value, broken))
    return problems


# --- connectors ----------------------------------------------------------------------------------


def _connector_problems(index: int, entry: Any) -> list[str]:
    """Problems of one entry of `connectors`; its fields follow the top-level keys' rules."""
    where = f"connectors[{index}]"
    if not isinstance(entry, dict):
        return [problem(where, entry, 'must be a mapping like {"name": "sales", ...}')]
    fields = [key.name for key in CONNECTOR_KEYS]
    problems = [
        problem(
            f"{where}.{field}",
            entry[field],
            f"is not a connector field; use name, {', '.join(fields)}, {FORMER_NAME}",
        )
        for field in entry
        if field not in ("name", FORMER_NAME) and field not in fields
    ]
    name = entry.get("name")
    if name is None:
        problems.append(f"{PROJECT}:{where}.name: is required (a short name for outputs)")
    elif broken := v.CONNECTOR(name):
        problems.append(problem(f"{where}.name", name, broken))
    if FORMER_NAME in entry:
        former = entry[FORMER_NAME]
        if broken := v.CONNECTOR(former):
            problems.append(problem(f"{where}.{FORMER_NAME}", former, broken))
        elif former == name:
            problems.append(
                problem(f"{where}.{FORMER_NAME}", former, "is the connector's name: drop it")
            )
    for key in CONNECTOR_KEYS:
        if key.name not in entry:
            continue
        given = entry[key.name]
        if holds_secret(given):
            if not key.secret:
                problems.append(_not_secret_material(f"{PROJECT}:{where}.{key.name}"))
            continue  # an unreadable secret: "[secret]" stands in, unchecked
        try:
            value = PARSERS[key.type](given)
        except ValueError as err:
            problems.append(problem(f"{where}.{key.name}", given, str(err)))
            continue
        problems += _value_problems(key, value, where=f"{where}.{key.name}")
    return problems


def _unique_problems(connectors: Sequence[ConnectorSettings]) -> list[str]:
    problems = []
    for label, identity in (
        ("name", lambda c: c.name),
        # IAM role names are unique case-insensitively: `Sales` and `sales` are one role.
        ("roleName (IAM compares role names case-insensitively)", lambda c: c.role_name.lower()),
        ("namespace/serviceAccount pair", lambda c: f"{c.namespace}/{c.service_account}"),
    ):
        seen: set[str] = set()
        for connector in connectors:
            value = identity(connector)
            if value in seen:
                problems.append(
                    problem("connectors", value, f"each connector needs its own {label}")
                )
            seen.add(value)
    return problems


def _connectors(
    entries: Sequence[Any] | None, draft: Settings, problems: list[str]
) -> tuple[ConnectorSettings, ...]:
    """The `connectors` entries, each field the top-level value where the entry leaves it out."""
    if not entries:  # unset, or [] as Pulumi.yaml-style "not set"
        return ()
    if len(entries) > MAX_CONNECTORS:
        problems.append(
            problem("connectors", f"{len(entries)} entries", f"at most {MAX_CONNECTORS}")
        )
        return ()
    found = [p for i, e in enumerate(entries) for p in _connector_problems(i, e)]
    if found:
        problems += found
        return ()

    def field(entry: Mapping[str, Any], key: ConfigKey) -> Any:
        if key.name not in entry:
            return getattr(draft, key.field)
        if entry[key.name] is ENCRYPTED:  # the offline plan cannot read it
            return outputs.SECRET
        return PARSERS[key.type](entry[key.name])

    connectors = tuple(
        ConnectorSettings(
            name=e["name"],
            organization_id_is_secret=draft.organization_id_is_secret,
            former_name=e.get(FORMER_NAME),
            **{key.field: field(e, key) for key in CONNECTOR_KEYS},
        )
        for e in entries
    )
    problems += _unique_problems(connectors)
    problems += _former_name_problems(connectors)
    return connectors


def _former_name_problems(connectors: Sequence[ConnectorSettings]) -> list[str]:
    """A formerName claims the resources of a connector that no longer exists under that name:
    never one that does, never two claims of one name (Pulumi refuses both)."""
    names = {c.name for c in connectors}
    problems, claimed = [], set()
    for index, c in enumerate(connectors):
        key = f"connectors[{index}].{FORMER_NAME}"
        if c.former_name is None:
            continue
        if c.former_name in names:
            problems.append(
                problem(key, c.former_name, "is the name of another connector of this stack")
            )
        elif c.former_name in claimed:
            problems.append(problem(key, c.former_name, "is the formerName of another connector"))
        claimed.add(c.former_name)
    return problems


# --- namespaces ----------------------------------------------------------------------------------


def _key_problems(config: Mapping[str, Any]) -> list[str]:
    """Keys this stack does not read that look meant for it: typos of a key or of the prefix."""
    problems = []
    squashed_project = re.sub(r"[^a-z0-9]", "", PROJECT)
    for full in config:
        if not isinstance(full, str):
            problems.append(f"config key {shown(full)}: keys are text, `<namespace>:<name>`")
            continue
        # The engine hands keys over parsed (`<namespace>:<name>`, sdk/go/common/resource/config/
        # key.go); the stack-file reader refuses the forms the CLI refuses.
        namespace, colon, name = full.partition(":")
        if not colon:
            hint = _did_you_mean(full)
            problems.append(
                f"{shown(full)}: configuration keys are `<namespace>:<name>`; {hint}"
                if hint
                else f"{shown(full)}: configuration keys are `<namespace>:<name>`"
            )
        elif namespace == PROJECT:
            continue  # the gate itself names this project's unknown keys
        elif namespace == "aws" and name != "region" and _close(name, ["region"]):
            problems.append(
                f"{shown(full)}: is not a setting the AWS provider reads; "
                "did you mean `aws:region`?"
            )
        elif _meant_for_this_project(namespace, name, squashed_project):
            hint = _did_you_mean(name) or f"did you mean `{PROJECT}:{name[:60]}`?"
            problems.append(f"{shown(full)}: {namespace!r} is not this project; {hint}")
    return problems


def _meant_for_this_project(namespace: str, name: str, squashed_project: str) -> bool:
    """A namespace close to this project's (`xpander_redshift`), or part of it (`xpander`,
    `redshift`) with one of its key names: a key meant for this stack, which it would ignore."""
    squashed = re.sub(r"[^a-z0-9]", "", namespace.lower())
    if squashed == squashed_project:
        return True
    if difflib.SequenceMatcher(None, namespace.lower(), PROJECT).ratio() >= 0.8:
        return True
    ours = name in KEYS_BY_NAME or bool(_close(name, list(KEYS_BY_NAME)))
    return ours and len(squashed) >= 4 and squashed in squashed_project


def _close(name: str, candidates: Sequence[str]) -> list[str]:
    return difflib.get_close_matches(name, candidates, n=1)


def _did_you_mean(name: str) -> str | None:
    if name in KEYS_BY_NAME:
        return f"did you mean `{PROJECT}:{name}`?"
    if ":" in name:  # a namespaced key written under this project's prefix
        return f"did you mean `{name[:60]}`?"
    close = _close(name, list(KEYS_BY_NAME))
    return f"did you mean `{PROJECT}:{close[0]}`?" if close else None


# --- the gate ------------------------------------------------------------------------------------


def settings_from_config(
    config: Mapping[str, Any], *, secret_keys: Collection[str] = ()
) -> Settings:
    """The gate: a stack's whole config (namespaced keys, `aws:region` among them) to Settings.

    `secret_keys` names the keys (namespaced) whose values are secrets; a value of `ENCRYPTED` is
    one the caller cannot read.
    """
    problems = _key_problems(config)
    secrets = {k.removeprefix(f"{PROJECT}:") for k in secret_keys}
    try:
        settings = parse_settings(
            project_values(config), region=config.get("aws:region"), secret_keys=secrets
        )
    except SettingsError as err:
        problems += err.problems
    if problems:
        raise SettingsError(problems)
    return settings


def parse_settings(
    raw: Mapping[str, Any], *, region: Any, secret_keys: Collection[str] = ()
) -> Settings:
    """This project's keys (without the prefix) and the AWS region, checked into Settings."""
    problems = [
        f"{PROJECT}:{name[:60]}: is not a setting of this stack"
        + (f"; {hint}" if (hint := _did_you_mean(name)) else "")
        for name in raw
        if name not in KEYS_BY_NAME
    ]
    secrets = set(secret_keys)
    values = _read_values(raw, problems, secrets)
    problems += _region_problems(region)
    # The typed draft: every key's value (its default where unset or refused), for the rules
    # across keys; the connectors' entries are checked on their own.
    entries = values.pop("connectors")
    fields: dict[str, Any] = {
        key.field: values[key.name] for key in CONFIG_KEYS if key.name in values
    }
    for key in (k for k in CONFIG_KEYS if k.secret):  # whether it came as a secret
        in_connectors = key.name in CONNECTOR_FIELDS and "connectors" in secrets
        fields[key.field + SECRET_FLAG] = key.name in secrets or in_connectors
    draft = Settings(region=region if isinstance(region, str) else "", connectors=(), **fields)
    problems += _cluster_problems(raw, draft)
    problems += _existing_cluster_problems(draft)
    problems += _tag_problems(draft.tags)
    connectors = _connectors(entries, draft, problems)
    if problems:
        raise SettingsError(problems)
    settings = dataclasses.replace(
        draft,
        # An existing cluster's identifier is the one every ARN and the connector use.
        cluster_identifier=draft.existing_cluster_identifier or draft.cluster_identifier,
        default_privileges_for=draft.default_privileges_for or draft.master_username,
        connectors=connectors,
    )
    # AWS's limits on what the program builds from several settings (model/aws_limits.py).
    if problems := limit_problems(settings):
        raise SettingsError(problems)
    return settings
