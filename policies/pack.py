"""The pack: every rule with its name, level and description, as the policies CrossGuard serves.

Importing this module only defines the policies; constructing a `PolicyPack` (done in
`policies/__main__.py` alone) is what starts the policy server. The Pulumi CLI runs the pack
from its own virtualenv, where the project is not installed, so the pack needs only pulumi-policy
and the standard library. `tools.policy_check` (the offline plan) and the tests import these very
`POLICIES`.

Each rule runs twice: as itself, reporting violations at its level (a team that opts out of a
baseline setting lowers that level in `--policy-pack-config`), and inside one of the two
advisory `could-not-judge-*` policies, which report only what the rule could not judge because a
value is unknown at preview.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from . import cluster_rules as cluster
from . import data_rules as data
from . import endpoint_rules as endpoints
from . import escalation_rules as escalation
from . import iam_rules as iam
from . import permission_rules as permissions
from . import workload_rules as workloads
from .aws_facts import NODE_TYPE_PORTS, SERVERLESS_PORT_RANGES, ranges_text
from .findings import Findings
from .stack_view import stack_resources
from .values import COMPUTED

PACK_NAME: Final = "xpander-redshift"
MANDATORY: Final = EnforcementLevel.MANDATORY
ADVISORY: Final = EnforcementLevel.ADVISORY
UNDECIDED_RESOURCES: Final = "could-not-judge-resource-at-preview"
UNDECIDED_STACK: Final = "could-not-judge-stack-at-preview"

__all__ = ["COMPUTED", "PACK_NAME", "POLICIES", "RULES", "Rule"]


def check_one_way_to_manage(args: StackValidationArgs, found: Findings) -> None:
    resources = stack_resources(args)
    iam.roles_managed_one_way(resources, found)
    cluster.groups_managed_one_way(resources, found)


@dataclass(frozen=True)
class Rule:
    name: str
    level: EnforcementLevel
    stack: bool  # a stack rule sees every resource and the dependency edges between them
    check: Callable[[Any, Findings], None]
    description: str
    catches: str  # docs/policy-pack.md's "what it catches", in plain words


RULES: Final[Sequence[Rule]] = (
    Rule(
        "pod-identity-trust-allows-tag-session",
        MANDATORY,
        False,
        iam.check_pod_identity_trust,
        "A role trusted by pods.eks.amazonaws.com allows both sts:AssumeRole and "
        "sts:TagSession in that trust statement (EKS Pod Identity passes session tags).",
        "A trust statement for `pods.eks.amazonaws.com` without `sts:TagSession`: the pod "
        "cannot assume the role.",
    ),
    Rule(
        "xpander-role-self-assume-without-external-id",
        MANDATORY,
        False,
        iam.check_self_assume,
        "The xpander role (trusted by pods.eks.amazonaws.com) has an explicit name and a "
        "self-assume trust statement that admits exactly its own ARN - as principal, or the "
        "account root narrowed by an aws:PrincipalArn condition naming only that ARN - allowing "
        "sts:AssumeRole and sts:TagSession with no sts:ExternalId condition.",
        "No explicit role name, or no trust statement admitting exactly the role's own ARN "
        "(a condition like `ArnLike role/*` admits every role of the account and is not a "
        "self-assume), or that statement has an ExternalId condition or lacks `sts:TagSession`.",
    ),
    Rule(
        "trust-never-open-to-anyone",
        MANDATORY,
        False,
        iam.check_trust_not_open,
        'No trust statement admits any AWS identity: a principal of "*" (however written: '
        '"*", {"AWS": "*"}, {"AWS": ["*"]}, wildcard ARNs) or NotPrincipal is refused whatever '
        "its conditions, unless aws:PrincipalAccount, aws:PrincipalOrgID or an exact "
        "aws:PrincipalArn pins it to named accounts or principals.",
        '`"Principal": "*"` (any spelling, `arn:aws:iam::*:root`, NotPrincipal) guarded only '
        "by an ExternalId or nothing: anyone who learns the organization ID can assume the role.",
    ),
    Rule(
        "cross-account-trust-requires-external-id",
        MANDATORY,
        True,
        iam.check_cross_account_external_id,
        "Every other trust statement that admits whole accounts (root, account id, accounts or "
        "organizations pinned by conditions) or principals of another account requires "
        "sts:ExternalId with StringEquals (no IfExists, no wildcard).",
        "A statement trusting whole accounts or another account's principals with no "
        "ExternalId, or one that `…IfExists`, `ForAllValues:` or a wildcard lets pass without "
        "it (the confused-deputy problem).",
    ),
    Rule(
        "xpander-role-can-assume-itself",
        MANDATORY,
        True,
        iam.check_role_can_assume_itself,
        "The xpander role's permission policies (its RolePolicy resources, matched by the "
        "role input = the role's name, and inline policies) allow sts:AssumeRole and "
        "sts:TagSession on the role's own ARN.",
        "The role's permission policies not allowing `sts:AssumeRole` and `sts:TagSession` on "
        "its own ARN (a Deny counts against).",
    ),
    Rule(
        "xpander-role-has-data-api-permissions",
        MANDATORY,
        True,
        iam.check_data_api_permissions,
        "The xpander role's permission policies allow the Data API calls the connector "
        "makes: statement calls on *, cluster calls and DescribeClusters on each Redshift "
        "cluster of the stack, GetClusterCredentialsWithIAM on its database.",
        "The role missing a Data API call the connector makes, on `*` (statement calls), on "
        "each cluster of the stack, or `GetClusterCredentialsWithIAM` on its database.",
    ),
    Rule(
        "no-cluster-credentials-on-any-resource",
        MANDATORY,
        False,
        permissions.check_credentials_not_on_any_cluster,
        "No permission policy allows redshift:GetClusterCredentials* on a resource that reaches "
        'every cluster: "*", NotResource, or a wildcard in the cluster part of a dbuser/dbname '
        "ARN (dbuser:*/*, dbname:*/*).",
        'Credentials for any user of any cluster: `Resource: "*"`, `NotResource`, '
        "`dbuser:*/*`, `dbname:*/*`, `dbuser:xpander-*/…`, an all-wildcard ARN.",
    ),
    Rule(
        "no-cluster-credentials-for-the-master-user",
        MANDATORY,
        True,
        permissions.check_master_user_credentials,
        "No permission policy allows redshift:GetClusterCredentials on a dbuser ARN that matches "
        "the master user of a cluster of the stack (its masterUsername, case-insensitive).",
        "`dbuser:<cluster>/<masterUsername>` or any pattern matching it (`xpander_*`, "
        "`*admin`), which lets the role log in as the cluster's administrator.",
    ),
    Rule(
        "redshift-credentials-dbuser-wildcard",
        ADVISORY,
        False,
        permissions.check_dbuser_wildcard,
        "redshift:GetClusterCredentials is not granted on a wildcard user of one cluster "
        "(dbuser:<cluster>/*), which covers the master user.",
        "`GetClusterCredentials` on `dbuser:<cluster>/*` - the stack's own "
        '`credentialsDbUsers: ["*"]` opt-in, advisory as documented.',
    ),
    Rule(
        "data-api-only-on-the-stacks-clusters",
        MANDATORY,
        False,
        permissions.check_data_api_scope,
        "No permission policy allows the Data API's SQL and catalog calls (ExecuteStatement, "
        "BatchExecuteStatement, ListDatabases, ListSchemas, ListTables, DescribeTable) on a "
        'resource that reaches every cluster ("*", NotResource, cluster:*).',
        "`redshift-data:*` (or ExecuteStatement…) on `*`: SQL on every cluster and workgroup "
        "of the account.",
    ),
    Rule(
        escalation.RULE,
        MANDATORY,
        True,
        escalation.check_assumable_roles,
        "A role that pods (Pod Identity), web identities, other accounts, a Redshift cluster or "
        "another such role can assume may not pass or assume every role, change its own "
        "permissions or trust, rewrite managed policies, modify a cluster of the stack, read "
        "its managed master secret or create KMS grants itself on the cluster's key or every "
        "key; every document that applies is read, Allow and Deny together.",
        "A role pods or other accounts assume with `iam:PassRole`/`sts:AssumeRole` on `*`, "
        "`iam:PutRolePolicy`/`AttachRolePolicy` on itself, `redshift:ModifyCluster` (or "
        "`redshift:*`, a `NotAction`) on the stack's cluster, `secretsmanager:GetSecretValue` "
        "on `*`, `kms:CreateGrant` on `*` without `kms:GrantIsForAWSResource` true; a second "
        "admin role it can chain into, or one attached to the cluster.",
    ),
    Rule(
        data.SHARING_RULE,
        MANDATORY,
        True,
        data.check_data_stays,
        "No datashare authorization (DataShareAuthorization) or Redshift-managed VPC endpoint "
        "authorization (EndpointAuthorization) grants an account other than the stack's own.",
        "A `DataShareAuthorization` to another account (or ADX), an `EndpointAuthorization` "
        "for another account: the data, or a path to it, leaves the account.",
    ),
    Rule(
        data.PASSWORD_RULE,
        MANDATORY,
        False,
        data.check_master_password,
        "No Redshift cluster sets masterPassword (no serverless namespace adminUserPassword): "
        "Secrets Manager keeps it (manageMasterPassword), or it is passed write-only.",
        "A `masterPassword` (or `adminUserPassword`), which lands in the state and the plan.",
    ),
    Rule(
        "resource-policies-never-public",
        MANDATORY,
        True,
        data.check_resource_policies,
        "No KMS key policy, secret policy or audit-log bucket policy allows any AWS identity "
        '(Principal "*" not pinned to accounts, an organization, a VPC endpoint or a service).',
        'A key, secret or audit-log bucket policy with `Principal "*"` (any spelling) and no '
        "condition pinning the caller: the key, the master password or the logs open to all.",
    ),
    Rule(
        "redshift-cluster-private-and-encrypted",
        MANDATORY,
        False,
        cluster.check_cluster_private_and_encrypted,
        "Redshift clusters set publiclyAccessible explicitly to false and encrypted to true.",
        "A cluster that does not set `publiclyAccessible: false` and `encrypted: true`.",
    ),
    Rule(
        "redshift-port-from-security-group-only",
        MANDATORY,
        True,
        endpoints.check_port_from_security_group_only,
        "On a Redshift cluster's security groups, ingress to the cluster port comes from "
        "security groups only (never a CIDR or prefix list), and on no port does the union of "
        "the rules' CIDRs reach the whole IPv4 or IPv6 internet.",
        "A CIDR or prefix list on the cluster port; on any port, rules whose CIDRs together "
        "reach every address (`0.0.0.0/0`, `0.0.0.0/1`+`128.0.0.0/1`, `0000::/0`, "
        "`0:0:0:0:0:0:0:0/0`, host bits set, leading zeros), ingress or egress.",
    ),
    Rule(
        "redshift-port-in-node-type-range",
        MANDATORY,
        True,
        cluster.check_port_in_range,
        "A cluster's port is one its node type accepts (RA3 and RG: "
        f"{ranges_text(NODE_TYPE_PORTS['ra3.'])}; dc2: {ranges_text(NODE_TYPE_PORTS['dc2.'])}), "
        f"a serverless workgroup's one of {ranges_text(SERVERLESS_PORT_RANGES)}.",
        "A port CreateCluster/CreateWorkgroup refuses (for example 5400 or 3306 on RA3).",
    ),
    Rule(
        "redshift-require-ssl",
        MANDATORY,
        True,
        cluster.check_require_ssl,
        "Every cluster uses a parameter group of the stack with require_ssl true (the default "
        "group has it off), and no parameter group sets require_ssl to false.",
        "TLS off: no parameter group (AWS's default group), one without `require_ssl`, or one "
        "setting it false (Security Hub Redshift.2).",
    ),
    Rule(
        "redshift-audit-logging",
        MANDATORY,
        True,
        cluster.check_audit_logging,
        "Every cluster has an aws.redshift.Logging resource (to CloudWatch Logs with log "
        "exports, or to S3 with a bucket).",
        "Audit logging off: no `aws.redshift.Logging` for the cluster, or one that records "
        "nothing (Security Hub Redshift.4).",
    ),
    Rule(
        "redshift-enhanced-vpc-routing",
        MANDATORY,
        False,
        cluster.check_enhanced_vpc_routing,
        "Redshift clusters set enhancedVpcRouting to true.",
        "Enhanced VPC routing off or not set (Security Hub Redshift.7).",
    ),
    Rule(
        "redshift-snapshot-retention",
        MANDATORY,
        False,
        cluster.check_snapshot_retention,
        "Redshift clusters keep automated snapshots at least 7 days (AWS's default is 1).",
        "`automatedSnapshotRetentionPeriod` under 7, or not set (1 day) (Security Hub Redshift.3).",
    ),
    Rule(
        "redshift-serverless-workgroup-private",
        MANDATORY,
        False,
        cluster.check_workgroup_private,
        "Redshift Serverless workgroups are not publicly accessible.",
        "A serverless workgroup with `publiclyAccessible: true` next to the private cluster.",
    ),
    Rule(
        "psql-job-image-pinned-by-digest",
        ADVISORY,  # issue 12: digests are recommended; the default psqlImage is a tag
        False,
        workloads.check_job_image_pinned,
        "Kubernetes Jobs, CronJobs and Pods run container images pinned by digest "
        "(name@sha256:...).",
        "A Job (the `kubernetes-job` provisioner) whose image is a tag: whatever the registry "
        "serves the day it runs gets the master password file.",
    ),
    Rule(
        workloads.UNPRIVILEGED_RULE,
        MANDATORY,
        True,
        workloads.check_workloads,
        "xpander's workloads (Jobs, CronJobs and Pods the stack runs or that run psql, and any "
        "workload of the xpander service account) are not privileged, use no host network, "
        "PID, IPC or hostPath, do not run as root and add no capabilities; no workload sets a "
        "literal PGPASSWORD.",
        "A privileged, hostNetwork/hostPID/hostIPC or hostPath pod, `runAsUser: 0` or added "
        "capabilities on xpander's pods; a literal `PGPASSWORD` in any pod's env.",
    ),
    Rule(
        workloads.GRANTS_RULE,
        MANDATORY,
        True,
        workloads.check_service_account_grants,
        "The xpander service account is bound to no cluster-admin/admin ClusterRole, the "
        "xpander role has no admin EKS access entry, and its pod identity association binds "
        "the namespace and service account its settings name (not a default service account, "
        "not kube-system or default).",
        "A (Cluster)RoleBinding of cluster-admin to the xpander service account (or its "
        "namespace's group), an EKS access policy `AmazonEKSClusterAdminPolicy` or "
        "`system:masters` for the xpander role, the association moved to another namespace "
        "or service account.",
    ),
    Rule(
        "redshift-final-snapshot-on-delete",
        ADVISORY,
        False,
        cluster.check_final_snapshot,
        "Deleting a Redshift cluster takes a final snapshot (and can: it has a name).",
        "`skipFinalSnapshot: true`, or no `finalSnapshotIdentifier` (AWS refuses the delete).",
    ),
    Rule(
        "redshift-protected-in-production",
        ADVISORY,
        False,
        cluster.check_protected_in_production,
        "In a stack named like production (prod, production, prd, live), Redshift clusters "
        "are protected.",
        "An unprotected cluster in a stack named `prod`, `production`, `prd` or `live`.",
    ),
    Rule(
        "redshift-node-type-orderable",
        ADVISORY,
        False,
        cluster.check_node_type,
        "Redshift clusters use a current node type (RA3), not dc1/dc2/ds1/ds2.",
        "A previous-generation node type new clusters are refused (`dc2.large`).",
    ),
    Rule(
        "one-way-to-manage-policies-and-rules",
        MANDATORY,
        True,
        check_one_way_to_manage,
        "The xpander role's policies are managed only as aws.iam.RolePolicy resources, no role "
        "mixes inline and separate policies, and no security group mixes inline rules with "
        "rule resources.",
        "The xpander role getting permissions through managed policies or attachments (also "
        "when the attachment's role is only known at apply), mixed inline and separate "
        "policies or security group rules.",
    ),
)


def _as_policy(rule: Rule) -> Policy:
    def validate(args: Any, report: ReportViolation) -> None:
        rule.check(args, Findings(violation=report))

    kind = StackValidationPolicy if rule.stack else ResourceValidationPolicy
    return kind(
        name=rule.name,
        description=rule.description,
        enforcement_level=rule.level,
        validate=validate,
    )


def _undecided(rules: Sequence[Rule], stack: bool) -> Policy:
    def validate(args: Any, report: ReportViolation) -> None:
        for rule in rules:

            def undecided(message: str, urn: str | None = None, name: str = rule.name) -> None:
                report(f"[{name}] {message}", urn)

            rule.check(args, Findings(undecided=undecided))

    kind = StackValidationPolicy if stack else ResourceValidationPolicy
    return kind(
        name=UNDECIDED_STACK if stack else UNDECIDED_RESOURCES,
        description=(
            "Values a rule needs that are unknown at preview and that no dependency edge "
            "resolves: the rule could not judge them, and says so instead of passing."
        ),
        enforcement_level=ADVISORY,
        validate=validate,
    )


POLICIES: list[Policy] = [
    *(_as_policy(rule) for rule in RULES),
    _undecided([r for r in RULES if not r.stack], stack=False),
    _undecided([r for r in RULES if r.stack], stack=True),
]
