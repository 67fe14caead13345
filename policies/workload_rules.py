"""The in-cluster side: the provisioner's pods, the xpander service account, and what they hold.

xpander's workloads are the Jobs, CronJobs and Pods the stack runs (under one of its components,
or running psql: `PG...` variables), and every workload running as the service account a pod
identity association binds to the xpander role. Those run unprivileged: no privileged container,
no host network/PID/IPC, no hostPath, not as root (runAsUser 0), no added capabilities. No
workload at all carries a literal PGPASSWORD. The xpander service account is bound to no
cluster-admin (RBAC or an EKS access policy), and the association stays on the namespace and
service account the settings name, never a namespace's default service account.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pulumi_policy import ResourceValidationArgs, StackValidationArgs

from .findings import Findings
from .stack_view import JOB, RoleView, StackResource, of_type, role_views, stack_resources
from .values import UNKNOWN, as_bool, as_int, is_unknown, known, known_str

CRON_JOB: Final = "kubernetes:batch/v1:CronJob"
POD: Final = "kubernetes:core/v1:Pod"
POD_TEMPLATES: Final = {
    JOB: ("spec", "template", "spec"),
    CRON_JOB: ("spec", "jobTemplate", "spec", "template", "spec"),
    POD: ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
}
RUN_ONCE: Final = (JOB, CRON_JOB, POD)
CLUSTER_ROLE_BINDING: Final = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
ROLE_BINDING: Final = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
CLUSTER_ROLE: Final = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
NAMESPACED_ROLE: Final = "kubernetes:rbac.authorization.k8s.io/v1:Role"
ACCESS_ENTRY: Final = "aws:eks/accessEntry:AccessEntry"
ACCESS_POLICY_ASSOCIATION: Final = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
POD_IDENTITY_ASSOCIATION: Final = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
# EKS access policies with cluster-wide write (Amazon EKS User Guide, "access policy permissions").
ADMIN_ACCESS_POLICIES: Final = ("AmazonEKSClusterAdminPolicy", "AmazonEKSAdminPolicy")
ADMIN_CLUSTER_ROLES: Final = ("cluster-admin", "admin")
SHARED_NAMESPACES: Final = ("default", "kube-system", "kube-public")
IMAGE_DIGEST: Final = re.compile(r"@sha256:[0-9a-f]{64}$")
UNPRIVILEGED_RULE: Final = "xpander-workloads-unprivileged"
GRANTS_RULE: Final = "xpander-service-account-least-privilege"


def _path(props: Mapping[str, Any], keys: Sequence[str]) -> Any:
    value: Any = props
    for key in keys:
        if not isinstance(value, Mapping):
            return UNKNOWN if is_unknown(value) else None
        value = value.get(key)
    return value


def pod_spec(kind: str, props: Mapping[str, Any]) -> Any:
    keys = POD_TEMPLATES.get(kind)
    return None if keys is None else _path(props, keys)


def containers(pod: Any) -> list[Any]:
    if not isinstance(pod, Mapping):
        return [UNKNOWN] if is_unknown(pod) else []
    found: list[Any] = []
    for key in ("initContainers", "containers", "ephemeralContainers"):
        value = pod.get(key)
        found += [UNKNOWN] if is_unknown(value) else value if isinstance(value, list) else []
    return found


def _label(kind: str, name: str, props: Mapping[str, Any]) -> str:
    metadata = props.get("metadata")
    shown = known_str(metadata.get("name")) if isinstance(metadata, Mapping) else None
    return f"Kubernetes {kind.rsplit(':', 1)[-1]} '{shown or name}'"


def _namespace(props: Mapping[str, Any]) -> str:
    metadata = props.get("metadata")
    namespace = known_str(metadata.get("namespace")) if isinstance(metadata, Mapping) else None
    return namespace or "default"


# --- psql-job-image-pinned-by-digest (advisory) ---------------------------------------------------


def check_job_image_pinned(args: ResourceValidationArgs, found: Findings) -> None:
    if args.resource_type not in RUN_ONCE:
        return
    props = known(args.props)
    label = _label(args.resource_type, args.name, props)
    for container in containers(pod_spec(args.resource_type, props)):
        image = container.get("image") if isinstance(container, Mapping) else UNKNOWN
        if is_unknown(image):
            found.could_not_judge(f"{label}: a container image is not known at preview.")
        elif not IMAGE_DIGEST.search(str(image)):
            found.violation(
                f"{label}: container image {image} is not pinned by digest, so whatever the "
                "registry serves under that tag the day it runs gets the master user's "
                "password file. Pin it: xpander-redshift:psqlImage = "
                "<name>@sha256:<digest> (docker buildx imagetools inspect <name:tag> shows it)."
            )


# --- the xpander role's service accounts ----------------------------------------------------------


def _is_role_of(item: StackResource, prop: str, view: RoleView) -> bool:
    value = item.props.get(prop)
    text = known_str(value)
    if text is not None:
        return view.identity.named and text.endswith(f":{view.identity.resource}")
    return is_unknown(value) and item.depends_on(view.role, prop)


def xpander_bindings(
    resources: Sequence[StackResource],
) -> tuple[list[RoleView], list[StackResource]]:
    """(the xpander roles, the pod identity associations that bind one of them)."""
    roles = [v for v in role_views(resources) if v.is_xpander_role]
    associations = [
        a
        for a in of_type(resources, POD_IDENTITY_ASSOCIATION)
        if any(_is_role_of(a, "roleArn", v) for v in roles)
    ]
    return roles, associations


def _service_accounts(associations: Sequence[StackResource]) -> set[tuple[str, str]]:
    return {
        (str(a.props.get("namespace")), str(a.props.get("serviceAccount")))
        for a in associations
        if known_str(a.props.get("namespace")) and known_str(a.props.get("serviceAccount"))
    }


# --- xpander-workloads-unprivileged ---------------------------------------------------------------


def _runs_psql(pod: Any) -> bool:
    for container in containers(pod):
        env = container.get("env") if isinstance(container, Mapping) else None
        for item in env if isinstance(env, list) else []:
            name = known_str(item.get("name")) if isinstance(item, Mapping) else None
            if name and name.upper() in ("PGHOST", "PGPASSFILE", "PGPASSWORD"):
                return True
    return False


def _privileges(pod: Mapping[str, Any]) -> list[str]:
    found = [
        f"{key}: true"
        for key in ("hostNetwork", "hostPID", "hostIPC")
        if as_bool(pod.get(key)) is True
    ]
    volumes = pod.get("volumes")
    found += [
        f"hostPath volume '{v.get('name')}'"
        for v in (volumes if isinstance(volumes, list) else [])
        if isinstance(v, Mapping) and v.get("hostPath") is not None
    ]
    contexts = [("the pod", pod.get("securityContext"))]
    for container in containers(pod):
        if isinstance(container, Mapping):
            contexts.append(
                (f"container '{container.get('name')}'", container.get("securityContext"))
            )
    for where, context in contexts:
        if not isinstance(context, Mapping):
            continue
        if as_bool(context.get("privileged")) is True:
            found.append(f"{where} privileged")
        if as_int(context.get("runAsUser")) == 0:
            found.append(f"{where} runAsUser 0 (root)")
        capabilities = context.get("capabilities")
        added = capabilities.get("add") if isinstance(capabilities, Mapping) else None
        if isinstance(added, list) and added:
            found.append(f"{where} adds capabilities {', '.join(map(str, added))}")
    return found


def _literal_passwords(pod: Any) -> list[str]:
    found = []
    for container in containers(pod):
        env = container.get("env") if isinstance(container, Mapping) else None
        for item in env if isinstance(env, list) else []:
            if not isinstance(item, Mapping) or str(item.get("name", "")).upper() != "PGPASSWORD":
                continue
            if item.get("value") not in (None, ""):
                found.append(f"container '{container.get('name')}'")
    return found


def check_workloads(args: StackValidationArgs, found: Findings) -> None:
    resources = stack_resources(args)
    _, associations = xpander_bindings(resources)
    accounts = _service_accounts(associations)
    for item in resources:
        pod = pod_spec(item.type, item.props)
        if pod is None:
            continue
        label = _label(item.type, item.name, item.props)
        literal = _literal_passwords(pod)
        if literal:
            found.violation(
                f"{label}: {', '.join(literal)} set PGPASSWORD to a literal value, so the "
                "database password is in the manifest, the Pulumi state and the cluster's etcd "
                "in plain text. Mount it as a password file from a Secret (PGPASSFILE), as the "
                "stack's kubernetes-job provisioner does, or use the Data API "
                "(xpander-redshift:userProvisioner data-api, the default).",
                item.urn,
            )
        if not isinstance(pod, Mapping):
            continue
        # `serviceAccount` is the pod spec's deprecated alias of `serviceAccountName`.
        name = pod.get("serviceAccountName") or pod.get("serviceAccount") or "default"
        account = (_namespace(item.props), str(name))
        ours = (item.parent_type or "").startswith("xpander:redshift:")
        xpander = account in accounts or ours or (item.type in RUN_ONCE and _runs_psql(pod))
        problems = _privileges(pod) if xpander else []
        if problems:
            found.violation(
                f"{label} runs xpander's database work (the master password file or the xpander "
                f"role) but is privileged: {'; '.join(problems)}. A break-out from it takes the "
                "node and every credential on it. Run it as the stack's Job does: non-root "
                "(runAsNonRoot, a high runAsUser), no privilege escalation, capabilities "
                "dropped, no host namespaces or hostPath (xpander-redshift:userProvisioner "
                f"data-api needs no pod at all). Opt out with --policy-pack-config "
                f'{{"{UNPRIVILEGED_RULE}": "advisory"}}.',
                item.urn,
            )


# --- xpander-service-account-least-privilege ------------------------------------------------------


def _grants_everything(role: StackResource) -> bool:
    """A ClusterRole or Role with a rule of every verb on every resource of every API group."""
    rules = role.props.get("rules")
    return any(
        isinstance(rule, Mapping)
        and all(
            isinstance(rule.get(key), list) and "*" in rule[key]
            for key in ("apiGroups", "resources", "verbs")
        )
        for rule in (rules if isinstance(rules, list) else [])
    )


def _custom_admin_roles(resources: Sequence[StackResource]) -> set[tuple[str, str]]:
    """(kind, name) of the stack's own roles that grant everything, as cluster-admin does."""
    found = set()
    for role in of_type(resources, CLUSTER_ROLE, NAMESPACED_ROLE):
        name = known_str(_path(role.props, ("metadata", "name")))
        if name and _grants_everything(role):
            found.add(("ClusterRole" if role.type == CLUSTER_ROLE else "Role", name))
    return found


def _binds_admin(
    binding: StackResource, accounts: set[tuple[str, str]], custom: set[tuple[str, str]]
) -> list[str]:
    ref = binding.props.get("roleRef")
    role = known_str(ref.get("name")) if isinstance(ref, Mapping) else None
    kind = (known_str(ref.get("kind")) if isinstance(ref, Mapping) else None) or "ClusterRole"
    if not (
        (kind == "ClusterRole" and role in ADMIN_CLUSTER_ROLES) or (kind, role or "") in custom
    ):
        return []
    namespaces = {ns for ns, _ in accounts}
    subjects = binding.props.get("subjects")
    hits = []
    for subject in subjects if isinstance(subjects, list) else []:
        if not isinstance(subject, Mapping):
            continue
        kind_, name = subject.get("kind"), str(subject.get("name") or "")
        namespace = str(subject.get("namespace") or _namespace(binding.props))
        if kind_ == "ServiceAccount" and (namespace, name) in accounts:
            hits.append(f"service account {namespace}/{name}")
        elif kind_ == "Group" and (
            name in ("system:serviceaccounts", "system:authenticated")
            or name.removeprefix("system:serviceaccounts:") in namespaces
        ):
            hits.append(f"group {name}")
    return [f"{h} is bound to {kind} {role}" for h in hits]


def _association_problems(association: StackResource) -> list[str]:
    namespace = known_str(association.props.get("namespace"))
    account = known_str(association.props.get("serviceAccount"))
    if namespace is None or account is None:
        return []
    problems = []
    tags = association.props.get("tags")
    named = known_str(tags.get("Name")) if isinstance(tags, Mapping) else None
    if named and "/" in named and named != f"{namespace}/{account}":
        problems.append(f"it binds {namespace}/{account}, not {named} as its settings name")
    if account == "default":
        problems.append(f"it binds the default service account of {namespace} (every pod there)")
    if namespace in SHARED_NAMESPACES:
        problems.append(f"it binds a service account in the shared namespace {namespace}")
    return problems


def check_service_account_grants(args: StackValidationArgs, found: Findings) -> None:
    resources = stack_resources(args)
    roles, associations = xpander_bindings(resources)
    accounts = _service_accounts(associations)
    custom = _custom_admin_roles(resources)
    for binding in of_type(resources, CLUSTER_ROLE_BINDING, ROLE_BINDING):
        for problem in _binds_admin(binding, accounts, custom):
            found.violation(
                f"'{binding.name}': the xpander {problem}, so anything running as it (the "
                "agents' pods) controls the Kubernetes cluster. The xpander service account "
                "needs no Kubernetes permissions at all: remove the binding.",
                binding.urn,
            )
    for item in of_type(resources, ACCESS_ENTRY, ACCESS_POLICY_ASSOCIATION):
        if not any(_is_role_of(item, "principalArn", v) for v in roles):
            continue
        policy = known_str(item.props.get("policyArn")) or ""
        groups = item.props.get("kubernetesGroups")
        admin = policy.endswith(ADMIN_ACCESS_POLICIES) or (
            isinstance(groups, list) and "system:masters" in groups
        )
        if admin:
            found.violation(
                f"EKS access '{item.name}' gives the xpander role cluster-admin "
                f"({policy or 'system:masters'}): the agents' pods can then do anything in the "
                "Kubernetes cluster. The xpander role needs no EKS access entry: remove it.",
                item.urn,
            )
    for association in associations:
        problems = _association_problems(association)
        if problems:
            found.violation(
                f"Pod identity association '{association.name}' of the xpander role: "
                f"{'; '.join(problems)}, so pods other than xpander's get the role. Bind exactly "
                "the namespace and service account of xpander-redshift:namespace and "
                "xpander-redshift:serviceAccount (not a default service account, not "
                "kube-system/default).",
                association.urn,
            )
