"""Data that leaves the account: shares, endpoints, passwords in state, public resource policies.

- `redshift-data-stays-in-the-account`: a datashare authorized to a consumer, or a
  Redshift-managed VPC endpoint authorized for an account, outside the stack's own accounts.
- `redshift-master-password-not-in-state`: a cluster's `masterPassword` (or a serverless
  namespace's `adminUserPassword`) is written into the state; `manageMasterPassword` or the
  write-only `masterPasswordWo` keep it out.
- `resource-policies-never-public`: a KMS key policy, a secret's resource policy or the audit-log
  bucket's policy that lets any AWS identity in (`Principal "*"`, not pinned to accounts, an
  organization, a VPC endpoint or a calling service).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Final

from pulumi_policy import ResourceValidationArgs, StackValidationArgs

from .documents import Statement, arn_parts, parse_document
from .findings import Findings
from .principals import trustees
from .stack_view import CLUSTER, LOGGING, StackResource, of_type, role_views, stack_resources
from .values import is_unknown, known, known_str

DATASHARE_AUTHORIZATION: Final = "aws:redshift/dataShareAuthorization:DataShareAuthorization"
ENDPOINT_AUTHORIZATION: Final = "aws:redshift/endpointAuthorization:EndpointAuthorization"
SERVERLESS_NAMESPACE: Final = "aws:redshiftserverless/namespace:Namespace"
KMS_KEY: Final = "aws:kms/key:Key"
KMS_KEY_POLICY: Final = "aws:kms/keyPolicy:KeyPolicy"
SECRET: Final = "aws:secretsmanager/secret:Secret"  # noqa: S105 - a type token
SECRET_POLICY: Final = "aws:secretsmanager/secretPolicy:SecretPolicy"  # noqa: S105
BUCKET: Final = "aws:s3/bucket:Bucket"
BUCKET_V2: Final = "aws:s3/bucketV2:BucketV2"
BUCKET_POLICY: Final = "aws:s3/bucketPolicy:BucketPolicy"
ACCOUNT_ID: Final = re.compile(r"\d{12}")
SHARING_RULE: Final = "redshift-data-stays-in-the-account"
PASSWORD_RULE: Final = "redshift-master-password-not-in-state"  # noqa: S105 - a rule name

# Conditions that keep a `Principal "*"` statement to callers of one's own (IAM User Guide, AWS
# global condition keys; AWS KMS Developer Guide, kms:CallerAccount): positive, and failing when
# the key is absent.
PINNING_KEYS: Final = (
    "aws:principalaccount",
    "aws:principalorgid",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourceorgid",
    "aws:sourcevpce",
    "aws:sourcevpc",
    "kms:calleraccount",
)


# --- redshift-data-stays-in-the-account -----------------------------------------------------------


def _home(resources: Sequence[StackResource]) -> set[str]:
    home = {v.identity.account for v in role_views(resources) if v.identity.account}
    for share in of_type(resources, DATASHARE_AUTHORIZATION):
        parts = arn_parts(known_str(share.props.get("dataShareArn")) or "")
        if parts and ACCOUNT_ID.fullmatch(parts[4]):
            home.add(parts[4])  # the producer: the datashare's own account
    return home


def check_data_stays(args: StackValidationArgs, found: Findings) -> None:
    resources = stack_resources(args)
    home = _home(resources)
    grants = [
        (r, "consumerIdentifier", "datashare") for r in of_type(resources, DATASHARE_AUTHORIZATION)
    ]
    grants += [
        (r, "account", "Redshift-managed VPC endpoint")
        for r in of_type(resources, ENDPOINT_AUTHORIZATION)
    ]
    for item, prop, what in grants:
        consumer = item.props.get(prop)
        if is_unknown(consumer):
            found.could_not_judge(
                f"The {what} authorization '{item.name}': the account it grants is not known at "
                "preview.",
                item.urn,
            )
            continue
        if str(consumer) in home:
            continue
        found.violation(
            f"The {what} authorization '{item.name}' grants {consumer}, which is not this "
            f"stack's account ({', '.join(sorted(home)) or 'none named'}): the cluster's data "
            "(or a network path to it) leaves the account, past every IAM and network rule of "
            "this stack. Remove it, or, when sharing is intended, opt out with "
            f'--policy-pack-config {{"{SHARING_RULE}": "advisory"}} and review it there.',
            item.urn,
        )


# --- redshift-master-password-not-in-state --------------------------------------------------------


def check_master_password(args: ResourceValidationArgs, found: Findings) -> None:
    fields = {CLUSTER: "masterPassword", SERVERLESS_NAMESPACE: "adminUserPassword"}
    field = fields.get(args.resource_type)
    if field is None:
        return
    props = known(args.props)
    if props.get(field) in (None, ""):
        return
    managed = {CLUSTER: "manageMasterPassword", SERVERLESS_NAMESPACE: "manageAdminPassword"}
    found.violation(
        f"{args.name}: {field} is set, so the master user's password is written into the "
        "Pulumi state and the plan (in plain text unless the program marks it secret, which a "
        "policy cannot see). Let Redshift keep it in Secrets Manager: "
        f"{managed[args.resource_type]}=True (the stack's default: it never takes a password), "
        "or pass it write-only "
        f"({field}Wo, never stored). Opt out with "
        f'--policy-pack-config {{"{PASSWORD_RULE}": "advisory"}}.'
    )


# --- resource-policies-never-public ---------------------------------------------------------------


def _pinned(statement: Statement) -> bool:
    """A positive condition on a pinning key that a request without it fails, naming values
    (not a `*` under a Like operator, which any value meets)."""
    for name, block in statement.conditions.items():
        lowered = name.lower()
        positive = not ("not" in lowered or "ifexists" in lowered or "forallvalues" in lowered)
        if not positive or lowered == "null":
            continue
        for key, values in block.items():
            anything = "like" in lowered and any(not v.strip("*?") for v in values)
            if key in PINNING_KEYS and values and not anything:
                return True
    return False


def public_statements(document: Any) -> list[Statement]:
    return [
        s
        for s in parse_document(document) or []
        if s.allows and trustees(s).anyone and not _pinned(s)
    ]


def _audit_buckets(resources: Sequence[StackResource]) -> tuple[set[str], set[str]]:
    """(names, URNs) of the buckets audit logs go to."""
    names: set[str] = set()
    urns: set[str] = set()
    buckets = of_type(resources, BUCKET, BUCKET_V2)
    for log in of_type(resources, LOGGING):
        name = known_str(log.props.get("bucketName"))
        if name:
            names.add(name)
        urns |= {b.urn for b in buckets if log.depends_on(b, "bucketName")}
    urns |= {b.urn for b in buckets if known_str(b.props.get("bucket")) in names}
    return names, urns


def check_resource_policies(args: StackValidationArgs, found: Findings) -> None:
    resources = stack_resources(args)
    names, urns = _audit_buckets(resources)
    judged: list[tuple[StackResource, str]] = []
    judged += [(r, "KMS key policy") for r in of_type(resources, KMS_KEY, KMS_KEY_POLICY)]
    judged += [(r, "secret policy") for r in of_type(resources, SECRET, SECRET_POLICY)]
    buckets = of_type(resources, BUCKET, BUCKET_V2)
    judged += [(r, "audit-log bucket policy") for r in buckets if r.urn in urns]
    for policy in of_type(resources, BUCKET_POLICY):
        bucket = known_str(policy.props.get("bucket"))
        if bucket in names or any(policy.depends_on(b, "bucket") for b in buckets if b.urn in urns):
            judged.append((policy, "audit-log bucket policy"))
    for item, what in judged:
        document = item.props.get("policy")
        if is_unknown(document):
            found.could_not_judge(f"The {what} of '{item.name}' is not known at preview.", item.urn)
            continue
        public = public_statements(document)
        if public:
            found.violation(
                f"The {what} of '{item.name}': statement(s) "
                f"{', '.join(s.label for s in public)} allow any AWS identity in any account "
                '(Principal "*" with no aws:PrincipalAccount, aws:PrincipalOrgID, '
                "aws:SourceAccount, aws:SourceVpce or kms:CallerAccount condition), so the "
                "master password, the key that encrypts the cluster or its audit logs are "
                "open to the world. Name the account or service instead (the stack's own "
                "policies name this account and redshift.amazonaws.com).",
                item.urn,
            )
