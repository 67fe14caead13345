"""`make verify`'s inputs: the connector fields and stack outputs it checks, from the stack
outputs and the flags, and the rules each field must meet."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from model import arns
from model.config_keys import iamr_user
from model.config_values import go_atoi
from model.outputs import (
    CLUSTER_ENDPOINT,
    CLUSTER_PORT,
    CONNECTOR_CONFIG,
    ORGANIZATION_ID,
    ROLE_ARN,
    SECRET,
    SECURITY_GROUP_ID,
    UI_FIELDS,
)
from model.partitions import partition_names, region_problem
from model.validators import (
    ACCOUNT_ID,
    DATABASE_NAME,
    cluster_identifier_problem,
    role_name_problem,
    role_path_problem,
)
from tools.outputs import OutputsError, PulumiNotFoundError
from tools.outputs import load_outputs as load_stack_outputs

MAX_PORT = 65_535

# The UI's field names come from one place; unpacking fails loudly if that contract changes.
CLUSTER_FIELD, DATABASE_FIELD, CATALOG_FIELD, ROLE_FIELD, REGION_FIELD, AUTH_FIELD = UI_FIELDS

# The cluster, database, region and role rules are the stack's own (model.settings), so the
# verifier accepts exactly what the stack can deploy. The catalog path is the exception: the stack
# writes only lowercase schema.view, but the UI field takes any 2-3 quoted or unquoted identifiers
# the connector reads. It is interpolated into SQL as typed, so nothing else may pass.
_IDENT = r'(?:[A-Za-z_][A-Za-z0-9_$]{0,126}|"(?:[^"\x00]|""){1,127}")'
CATALOG_RE = re.compile(rf"^{_IDENT}(?:\.{_IDENT}){{1,2}}$")
# An IAM role ARN's frame; its account, path and name are checked by the settings' rules.
ROLE_ARN_RE = re.compile(
    rf"^arn:(?P<partition>{'|'.join(map(re.escape, partition_names()))}):iam::(?P<account>[^:]*):"
    r"role(?P<path>/(?:.*/)?)(?P<name>[^/]*)$"
)


class UsageError(Exception):
    """Inputs verify cannot even start from (exit status 2)."""


@dataclass(frozen=True)
class Inputs:
    """What verify checks: the connector fields, plus stack outputs that explain failures."""

    cluster: str | None = None
    database: str | None = None
    catalog: str | None = None
    role_arn: str | None = None
    region: str | None = None
    auth_method: str | None = None
    endpoint: str | None = None
    port: int | None = None
    external_id: str | None = None
    security_group_id: str | None = None

    def field_values(self) -> dict[str, str | None]:
        """The connector fields by their UI names."""
        values = (
            self.cluster,
            self.database,
            self.catalog,
            self.role_arn,
            self.region,
            self.auth_method,
        )
        return dict(zip(UI_FIELDS, values, strict=True))


def _text(value: Any) -> str | None:
    if value is None or value == SECRET:
        return None
    text = str(value).strip()
    return text or None


def inputs_from_outputs(outputs: Mapping[str, Any]) -> Inputs:
    """Inputs from `pulumi stack output --json` (or from a bare connectorConfig object)."""
    connector = outputs.get(CONNECTOR_CONFIG)
    if not isinstance(connector, Mapping):
        connector = outputs if CLUSTER_FIELD in outputs else {}
    port = outputs.get(CLUSTER_PORT)
    return Inputs(
        cluster=_text(connector.get(CLUSTER_FIELD)),
        database=_text(connector.get(DATABASE_FIELD)),
        catalog=_text(connector.get(CATALOG_FIELD)),
        role_arn=_text(connector.get(ROLE_FIELD)) or _text(outputs.get(ROLE_ARN)),
        region=_text(connector.get(REGION_FIELD)),
        auth_method=_text(connector.get(AUTH_FIELD)),
        endpoint=_text(outputs.get(CLUSTER_ENDPOINT)),
        port=_port(port),
        external_id=_text(outputs.get(ORGANIZATION_ID)),
        security_group_id=_text(outputs.get(SECURITY_GROUP_ID)),
    )


def _port(value: Any) -> int | None:
    """A TCP port from the outputs (a number, or its digits as text), else None."""
    number = value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(value, str):
        number = go_atoi(value)
    return number if number is not None and 1 <= number <= MAX_PORT else None


def apply_flags(inputs: Inputs, args: argparse.Namespace) -> Inputs:
    """Flags override the stack outputs."""
    overrides = {
        "cluster": args.cluster,
        "database": args.database,
        "catalog": args.catalog,
        "role_arn": args.role_arn,
        "region": args.region,
        "external_id": args.external_id,
    }
    return replace(inputs, **{k: v for k, v in overrides.items() if v is not None})


def secret_placeholders(outputs: Mapping[str, Any]) -> list[str]:
    """Output names that were printed as "[secret]" (exported without --show-secrets)."""
    found = [name for name, value in outputs.items() if value == SECRET]
    connector = outputs.get(CONNECTOR_CONFIG)
    if isinstance(connector, Mapping):
        found += [name for name, value in connector.items() if value == SECRET]
    return found


def needs_stack_outputs(args: argparse.Namespace) -> bool:
    required = (args.cluster, args.database, args.catalog, args.role_arn)
    return any(v is None for v in required) or (args.as_platform and args.external_id is None)


def load_outputs(args: argparse.Namespace) -> tuple[dict[str, Any], list[str]]:
    """The stack outputs (from --outputs-file or the Pulumi CLI) and notices for stderr.

    The flags can stand in for every output: without the Pulumi CLI, verify says so and carries
    on, so that path config names what is missing."""
    notes: list[str] = []
    if args.outputs_file is None and not needs_stack_outputs(args):
        return {}, notes
    file = args.outputs_file
    try:
        loaded = load_stack_outputs(file, args.stack, show_secrets=True)
    except PulumiNotFoundError as err:
        # As `make connector` does (exit 2): with no outputs to read, no check can run.
        raise UsageError(
            f"{err}; or give the flags --cluster --database --catalog --role-arn --region"
        ) from err
    except OutputsError as err:
        raise UsageError(str(err)) from err
    warning = loaded.placeholder_warning()
    if warning:
        notes.append(warning)
    hidden = secret_placeholders(loaded.values)
    if hidden:
        notes.append(
            f"outputs shown as {SECRET} were ignored ({', '.join(hidden)}): "
            "export them with --show-secrets"
        )
    return loaded.values, notes


def role_arn_parts(role_arn: str | None) -> tuple[str, str, str] | None:
    """(partition, account, role name) of a role ARN the stack could have made, else None."""
    match = ROLE_ARN_RE.fullmatch(role_arn or "")
    if (
        match is None
        or not ACCOUNT_ID.fullmatch(match["account"])
        or role_path_problem(match["path"])
        or role_name_problem(match["name"])
    ):
        return None
    return match["partition"], match["account"], match["name"]


def role_parts(role_arn: str | None) -> tuple[str, str, str]:
    """role_arn_parts, with readable placeholders for what is not such an ARN."""
    return role_arn_parts(role_arn) or ("aws", "<ACCOUNT_ID>", "<role-name>")


def aws_context(inputs: Inputs) -> arns.AwsContext:
    # The stack's account and partition are the role's: verify has no other source for them.
    partition, account, _ = role_parts(inputs.role_arn)
    return arns.AwsContext(partition=partition, account_id=account, region=str(inputs.region))


def cluster_arn(inputs: Inputs) -> str:
    return arns.cluster_arn(aws_context(inputs), str(inputs.cluster))


def dbname_arn(inputs: Inputs) -> str:
    return arns.dbname_arn(aws_context(inputs), str(inputs.cluster), str(inputs.database))


def expected_db_user(role_arn: str | None) -> str:
    return iamr_user(role_parts(role_arn)[2])


def _matches(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda value: pattern.fullmatch(value) is not None


# Each connector field verify needs: whether a value is well-formed, and the rule said in words.
PATH_RULES: dict[str, tuple[Callable[[str], bool], str]] = {
    CLUSTER_FIELD: (
        lambda value: cluster_identifier_problem(value) is None,
        "a Redshift cluster identifier (lowercase, e.g. xpander-redshift)",
    ),
    DATABASE_FIELD: (
        _matches(DATABASE_NAME),
        "a Redshift database name (lowercase, e.g. xpander_demo)",
    ),
    CATALOG_FIELD: (_matches(CATALOG_RE), "schema.relation (e.g. pg_catalog.svv_all_columns)"),
    ROLE_FIELD: (
        lambda value: role_arn_parts(value) is not None,
        "an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)",
    ),
    REGION_FIELD: (lambda region: region_problem(region) is None, "an AWS region (e.g. us-west-1)"),
}


def validate_paths(inputs: Inputs) -> list[tuple[str, str]]:
    """(field, problem) for each connector field verify needs that is missing or malformed."""
    problems = []
    for name, value in inputs.field_values().items():
        if name not in PATH_RULES:
            continue  # Auth Method is the auth method check's
        well_formed, rule = PATH_RULES[name]
        if not value:
            problems.append((name, f"{name} is missing"))
        elif not well_formed(value):
            problems.append((name, f"{name} {value!r} is not {rule}"))
    return problems
