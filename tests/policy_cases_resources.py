"""Crafted stacks for the network, data and Kubernetes rules run org-wide (issue 23).

`tests/test_policy_org_wide.py` judges every one offline and through the real policy server.
AWS facts: ICMP type 3 code 4 / ICMPv6 type 2 as path-MTU discovery (Amazon VPC User Guide),
Redshift Serverless `configParameters` (`parameterKey`/`parameterValue`, pulumi-aws 7), managed
prefix lists (`entries[].cidr`, ManagedPrefixListEntry `cidr`/`prefixListId`), EKS access
policies (`arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`), Kubernetes pod
specs as pulumi-kubernetes 4 sends them (camelCase: `hostNetwork`, `securityContext.runAsUser`).
"""

from __future__ import annotations

import copy
import functools
from typing import Any

from policies import stack_view as types
from policies.workload_rules import CLUSTER_ROLE, CLUSTER_ROLE_BINDING, CRON_JOB, JOB, POD
from tests.policy_stacks import (
    ACCOUNT,
    CASES,
    CLUSTER_ID,
    CLUSTER_URN,
    DIGEST,
    ROLE_ARN,
    ROLE_URN,
    STRANGER,
    Resource,
    base,
    case,
    document,
    res,
)

ESCALATE = "assumable-roles-cannot-escalate"
SELF_ASSUME = "xpander-role-can-assume-itself"
DATA_API = "xpander-role-has-data-api-permissions"
MASTER_USER = "no-cluster-credentials-for-the-master-user"
PORT = "redshift-port-from-security-group-only"
ONE_WAY = "one-way-to-manage-policies-and-rules"


# --- network paths to the port outside the cluster's own group ---------------------------------


def open_group(name: str, cidr: str = "0.0.0.0/0", port: int = 5439) -> Resource:
    key = "ipv6CidrBlocks" if ":" in cidr else "cidrBlocks"
    rule = {"protocol": "tcp", "fromPort": port, "toPort": port, key: [cidr]}
    return res(types.SECURITY_GROUP, name, {"name": name, "ingress": [rule]})


def sg_from_eks(name: str) -> Resource:
    rule = {"protocol": "tcp", "fromPort": 5439, "toPort": 5439, "securityGroups": ["sg-0eks"]}
    return res(types.SECURITY_GROUP, name, {"name": name, "ingress": [rule]})


def endpoint_access(group: Resource) -> Resource:
    return res(
        types.ENDPOINT_ACCESS,
        "reader-endpoint",
        {
            "endpointName": "reader",
            "clusterIdentifier": CLUSTER_ID,
            "subnetGroupName": "xpander-redshift",
            "vpcSecurityGroupIds": ["<computed>"],
        },
        edges={"vpcSecurityGroupIds": [group["urn"]]},
    )


@case("endpoint-access-with-an-open-group", {PORT})
def _endpoint_open() -> list[Resource]:
    group = open_group("endpoint-sg")
    return [*base(), group, endpoint_access(group)]


@case("endpoint-access-from-the-eks-group", set())
def _endpoint_safe() -> list[Resource]:
    group = sg_from_eks("endpoint-sg")
    return [*base(), group, endpoint_access(group)]


@case("default-security-group-open-and-on-the-cluster", {PORT})
def _default_sg() -> list[Resource]:
    stack = base()
    default = res(
        types.DEFAULT_SECURITY_GROUP,
        "vpc-default",
        {
            "vpcId": "vpc-1",
            "ingress": [
                {"protocol": "-1", "fromPort": 0, "toPort": 0, "cidrBlocks": ["0.0.0.0/0"]}
            ],
        },
    )
    cluster = next(r for r in stack if r["urn"] == CLUSTER_URN)
    cluster["inputs"]["vpcSecurityGroupIds"] = ["<computed>", "<computed>"]
    cluster["propertyDependencies"]["vpcSecurityGroupIds"].append(default["urn"])
    return [*stack, default]


def prefix_list_rule(cidr: str, port: int, *, entry_resource: bool = False) -> list[Resource]:
    entries = [] if entry_resource else [{"cidr": cidr}]
    prefix_list = res(
        types.MANAGED_PREFIX_LIST,
        "office",
        {"name": "office", "addressFamily": "IPv4", "maxEntries": 5, "entries": entries},
    )
    extra = [prefix_list]
    if entry_resource:
        extra.append(
            res(
                types.PREFIX_LIST_ENTRY,
                "office-entry",
                {"cidr": cidr, "prefixListId": "<computed>"},
                edges={"prefixListId": [prefix_list["urn"]]},
            )
        )
    group = next(r for r in base() if r["type"] == types.SECURITY_GROUP)
    rule = res(
        types.INGRESS_RULE,
        "from-office",
        {
            "ipProtocol": "tcp",
            "fromPort": port,
            "toPort": port,
            "prefixListId": "<computed>",
            "securityGroupId": "<computed>",
        },
        edges={"prefixListId": [prefix_list["urn"]], "securityGroupId": [group["urn"]]},
    )
    return [*base(), *extra, rule]


@case("prefix-list-holding-the-internet-on-the-port", {PORT})
def _prefix_world() -> list[Resource]:
    return prefix_list_rule("0.0.0.0/0", 5439)


@case("prefix-list-entry-holding-the-internet-on-ssh", {PORT})
def _prefix_entry() -> list[Resource]:
    return prefix_list_rule("0.0.0.0/0", 22, entry_resource=True)


@case("prefix-list-of-the-office-on-ssh", set())
def _prefix_office() -> list[Resource]:
    return prefix_list_rule("203.0.113.0/24", 22)


def workgroup(group: Resource, **inputs: Any) -> Resource:
    return res(
        types.SERVERLESS_WORKGROUP,
        "analytics-wg",
        {
            "namespaceName": "analytics",
            "workgroupName": "analytics",
            "publiclyAccessible": False,
            "securityGroupIds": ["<computed>"],
            **inputs,
        },
        edges={"securityGroupIds": [group["urn"]]},
    )


@case("serverless-workgroup-with-an-open-group", {PORT})
def _workgroup_open() -> list[Resource]:
    group = open_group("wg-sg", "::/0")
    return [*base(), group, workgroup(group)]


@case("serverless-endpoint-with-an-open-group", {PORT})
def _workgroup_endpoint() -> list[Resource]:
    safe, opened = sg_from_eks("wg-sg"), open_group("wg-endpoint-sg", port=5439)
    endpoint = res(
        types.SERVERLESS_ENDPOINT_ACCESS,
        "wg-endpoint",
        {
            "endpointName": "wg-endpoint",
            "workgroupName": "analytics",
            "subnetIds": ["subnet-1"],
            "vpcSecurityGroupIds": ["<computed>"],
        },
        edges={"vpcSecurityGroupIds": [opened["urn"]]},
    )
    return [*base(), safe, workgroup(safe), opened, endpoint]


@case("serverless-workgroup-without-tls", {"redshift-require-ssl"})
def _workgroup_tls() -> list[Resource]:
    group = sg_from_eks("wg-sg")
    parameters = [{"parameterKey": "require_ssl", "parameterValue": "false"}]
    return [*base(), group, workgroup(group, configParameters=parameters)]


@case("serverless-workgroup-private-with-tls", set())
def _workgroup_safe() -> list[Resource]:
    group = sg_from_eks("wg-sg")
    parameters = [{"parameterKey": "require_ssl", "parameterValue": "true"}]
    return [*base(), group, workgroup(group, configParameters=parameters)]


# --- data leaving the account ---------------------------------------------------------------------

SHARING = "redshift-data-stays-in-the-account"
PUBLIC = "resource-policies-never-public"
DATASHARE = f"arn:aws:redshift:us-west-2:{ACCOUNT}:datashare:0123-abcd/sales"


@case("datashare-to-a-foreign-account", {SHARING})
def _datashare() -> list[Resource]:
    share = res(
        "aws:redshift/dataShareAuthorization:DataShareAuthorization",
        "share",
        {"dataShareArn": DATASHARE, "consumerIdentifier": STRANGER},
    )
    return [*base(), share]


@case("datashare-inside-the-account", set())
def _datashare_home() -> list[Resource]:
    share = res(
        "aws:redshift/dataShareAuthorization:DataShareAuthorization",
        "share",
        {"dataShareArn": DATASHARE, "consumerIdentifier": ACCOUNT},
    )
    return [*base(), share]


@case("endpoint-authorization-for-a-foreign-account", {SHARING})
def _endpoint_authorization() -> list[Resource]:
    grant = res(
        "aws:redshift/endpointAuthorization:EndpointAuthorization",
        "grant",
        {"account": STRANGER, "clusterIdentifier": CLUSTER_ID},
    )
    return [*base(), grant]


@case("plaintext-master-password", {"redshift-master-password-not-in-state"})
def _password() -> list[Resource]:
    stack = base()
    cluster = next(r for r in stack if r["urn"] == CLUSTER_URN)
    cluster["inputs"].pop("manageMasterPassword")
    cluster["inputs"]["masterPassword"] = "Sup3rSecret!"
    return stack


def with_logs_bucket(*statements: dict[str, Any]) -> list[Resource]:
    stack = base()
    logging = next(r for r in stack if r["type"] == types.LOGGING)
    logging["inputs"] = {
        "clusterIdentifier": CLUSTER_ID,
        "logDestinationType": "s3",
        "bucketName": "acme-audit-logs",
    }
    policy = res(
        "aws:s3/bucketPolicy:BucketPolicy",
        "audit-policy",
        {"bucket": "acme-audit-logs", "policy": document(*statements)},
    )
    return [*stack, policy]


REDSHIFT_LOGS = {
    "Effect": "Allow",
    "Principal": {"Service": "redshift.amazonaws.com"},
    "Action": "s3:PutObject",
    "Resource": "arn:aws:s3:::acme-audit-logs/*",
    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
}


@case("audit-bucket-readable-by-anyone", {PUBLIC})
def _bucket_public() -> list[Resource]:
    return with_logs_bucket(
        REDSHIFT_LOGS,
        {
            "Effect": "Allow",
            "Principal": {"AWS": ["*"]},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::acme-audit-logs/*",
        },
    )


@case("audit-bucket-for-redshift-with-a-tls-deny", set())
def _bucket_safe() -> list[Resource]:
    return with_logs_bucket(
        REDSHIFT_LOGS,
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": "arn:aws:s3:::acme-audit-logs/*",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )


def with_key(*statements: dict[str, Any]) -> list[Resource]:
    key = res("aws:kms/key:Key", "cluster-key", {"policy": document(*statements)})
    return [*base(), key]


@case("key-policy-open-to-anyone", {PUBLIC})
def _key_public() -> list[Resource]:
    return with_key({"Effect": "Allow", "Principal": "*", "Action": "kms:*", "Resource": "*"})


@case("key-policy-for-callers-of-the-account", set())
def _key_safe() -> list[Resource]:
    return with_key(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
            "Resource": "*",
            "Condition": {
                "StringEquals": {
                    "kms:CallerAccount": ACCOUNT,
                    "kms:ViaService": "redshift.us-west-2.amazonaws.com",
                }
            },
        }
    )


@case("key-policy-pinned-by-a-wildcard-only", {PUBLIC})
def _key_like_star() -> list[Resource]:
    return with_key(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": "kms:Decrypt",
            "Resource": "*",
            "Condition": {"StringLike": {"aws:PrincipalAccount": "*"}},
        }
    )


@case("secret-policy-open-to-anyone", {PUBLIC})
def _secret_public() -> list[Resource]:
    policy = res(
        "aws:secretsmanager/secretPolicy:SecretPolicy",
        "admin-secret-policy",
        {
            "secretArn": f"arn:aws:secretsmanager:us-west-2:{ACCOUNT}:secret:redshift!x-admin",
            "policy": document(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*",
                }
            ),
        },
    )
    return [*base(), policy]


# --- the in-cluster Job and its service account --------------------------------------------------

WORKLOADS = "xpander-workloads-unprivileged"
GRANTS = "xpander-service-account-least-privilege"
PINNED = f"postgres@{DIGEST}"


def psql_container(**security: Any) -> dict[str, Any]:
    return {
        "name": "psql",
        "image": PINNED,
        "env": [{"name": "PGHOST", "value": "x.redshift.amazonaws.com"}],
        "securityContext": {"runAsNonRoot": True, "runAsUser": 10001, **security},
    }


def job(pod: dict[str, Any], type_: str = JOB, namespace: str = "xpander") -> Resource:
    template = {"template": {"spec": pod}}
    spec: dict[str, Any] = {"jobTemplate": {"spec": template}} if type_ == CRON_JOB else template
    if type_ == POD:
        spec = pod
    return res(
        type_,
        "iamr-user",
        {"metadata": {"name": "iamr-user", "namespace": namespace}, "spec": spec},
    )


PRIVILEGED_WORKLOADS = [
    job({"containers": [psql_container(privileged=True)]}),
    job({"containers": [psql_container(runAsUser=0)]}, CRON_JOB),
    job({"containers": [psql_container(capabilities={"add": ["NET_ADMIN"]})]}),
    job({"hostNetwork": True, "containers": [psql_container()]}, POD),
    job(
        {
            "containers": [psql_container()],
            "volumes": [{"name": "h", "hostPath": {"path": "/"}}],
        }
    ),
    job(
        {
            "serviceAccountName": "xpander",
            "securityContext": {"runAsUser": 0},
            "containers": [{"name": "agent", "image": PINNED}],
        },
        "kubernetes:apps/v1:Deployment",
    ),
    job(
        {
            "containers": [
                {
                    "name": "app",
                    "image": PINNED,
                    "env": [{"name": "PGPASSWORD", "value": "hunter2"}],
                }
            ]
        },
        "kubernetes:apps/v1:Deployment",
        "shop",
    ),
]
for _i, _workload in enumerate(PRIVILEGED_WORKLOADS):
    CASES[f"privileged-workload-{_i}"] = (
        functools.partial(lambda w: [*base(), copy.deepcopy(w)], _workload),
        {WORKLOADS},
    )


@case("unrelated-privileged-daemonset", set())
def _cni() -> list[Resource]:
    pod = {
        "hostNetwork": True,
        "serviceAccountName": "aws-node",
        "containers": [{"name": "cni", "image": "cni:1", "securityContext": {"privileged": True}}],
    }
    return [*base(), job(pod, "kubernetes:apps/v1:DaemonSet", "kube-system")]


@case("hardened-psql-job", set())
def _hardened() -> list[Resource]:
    container = psql_container(allowPrivilegeEscalation=False, capabilities={"drop": ["ALL"]})
    return [*base(), job({"automountServiceAccountToken": False, "containers": [container]})]


def unpinned(type_: str) -> list[Resource]:
    """Advised against (psql-job-image-pinned-by-digest, advisory): no mandatory verdict."""
    container = {**psql_container(), "image": "postgres:16"}
    return [*base(), job({"containers": [container]}, type_)]


CASES["unpinned-image-on-a-pod"] = (functools.partial(unpinned, POD), set())
CASES["unpinned-image-on-a-cron-job"] = (functools.partial(unpinned, CRON_JOB), set())


def binding(type_: str, role_name: str, subject: dict[str, Any]) -> Resource:
    return res(
        type_,
        "xpander-admin",
        {
            "metadata": {"name": "xpander-admin", "namespace": "xpander"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": role_name,
            },
            "subjects": [subject],
        },
    )


@case("cluster-admin-for-the-xpander-service-account", {GRANTS})
def _crb() -> list[Resource]:
    subject = {"kind": "ServiceAccount", "name": "xpander", "namespace": "xpander"}
    return [*base(), binding(CLUSTER_ROLE_BINDING, "cluster-admin", subject)]


@case("cluster-admin-for-the-namespaces-service-accounts", {GRANTS})
def _crb_group() -> list[Resource]:
    subject = {
        "kind": "Group",
        "name": "system:serviceaccounts:xpander",
        "apiGroup": "rbac.authorization.k8s.io",
    }
    return [*base(), binding(CLUSTER_ROLE_BINDING, "cluster-admin", subject)]


@case("cluster-admin-for-another-service-account", set())
def _crb_other() -> list[Resource]:
    subject = {"kind": "ServiceAccount", "name": "argocd", "namespace": "argocd"}
    return [*base(), binding(CLUSTER_ROLE_BINDING, "cluster-admin", subject)]


@case("eks-cluster-admin-for-the-xpander-role", {GRANTS})
def _access() -> list[Resource]:
    association = res(
        "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
        "xpander-admin",
        {
            "clusterName": "eks",
            "principalArn": "<computed>",
            "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
            "accessScope": {"type": "cluster"},
        },
        edges={"principalArn": [ROLE_URN]},
    )
    return [*base(), association]


@case("eks-masters-group-for-the-xpander-role", {GRANTS})
def _masters() -> list[Resource]:
    entry = res(
        "aws:eks/accessEntry:AccessEntry",
        "xpander-entry",
        {"clusterName": "eks", "principalArn": ROLE_ARN, "kubernetesGroups": ["system:masters"]},
    )
    return [*base(), entry]


@case("deprecated-service-account-field-on-a-privileged-deployment", {WORKLOADS})
def _alias() -> list[Resource]:
    """`serviceAccount` is the pod spec's deprecated alias of `serviceAccountName`."""
    pod = {
        "serviceAccount": "xpander",
        "containers": [{"name": "agent", "image": PINNED, "securityContext": {"privileged": True}}],
    }
    return [*base(), job(pod, "kubernetes:apps/v1:Deployment")]


def own_cluster_role(rules: list[dict[str, Any]], subject_name: str) -> list[Resource]:
    role = res(CLUSTER_ROLE, "agents-role", {"metadata": {"name": "agents-role"}, "rules": rules})
    subject = {"kind": "ServiceAccount", "name": subject_name, "namespace": "xpander"}
    return [*base(), role, binding(CLUSTER_ROLE_BINDING, "agents-role", subject)]


EVERYTHING = {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}
READ_PODS = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}
CASES["own-wildcard-cluster-role-for-the-xpander-service-account"] = (
    functools.partial(own_cluster_role, [READ_PODS, EVERYTHING], "xpander"),
    {GRANTS},
)
CASES["own-read-only-cluster-role-for-the-xpander-service-account"] = (
    functools.partial(own_cluster_role, [READ_PODS], "xpander"),
    set(),
)
CASES["own-wildcard-cluster-role-for-another-service-account"] = (
    functools.partial(own_cluster_role, [EVERYTHING], "argocd"),
    set(),
)


def moved_association(namespace: str, service_account: str) -> list[Resource]:
    stack = base()
    association = next(r for r in stack if r["type"].startswith("aws:eks/podIdentity"))
    association["inputs"].update(namespace=namespace, serviceAccount=service_account)
    return stack


for _namespace, _account in (
    ("default", "default"),
    ("kube-system", "xpander"),
    ("xpander", "default"),
    ("agents", "xpander"),
):
    CASES[f"pod-identity-moved-to-{_namespace}-{_account}"] = (
        functools.partial(moved_association, _namespace, _account),
        {GRANTS},
    )
