"""The permission-document rules: cluster credentials and Data API calls that reach too far.

Every permission document of the stack (RolePolicy, Policy, UserPolicy, GroupPolicy, a Role's
inline policies) is read for what it grants on Redshift: credentials on every cluster, for the
master user, or for every user of one cluster; the Data API's SQL calls on every cluster.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pulumi_policy import ResourceValidationArgs, StackValidationArgs

from .documents import (
    Statement,
    arn_parts,
    covers_every_cluster,
    glob,
    has_policy_variable,
    matches_probe,
    parse_document,
    reaches_every_workgroup,
    redshift_resource,
)
from .findings import Findings
from .iam_rules import CREDENTIALS_ACTIONS, CREDENTIALS_RESOURCE_TYPES, DATA_API_SQL_ACTIONS
from .stack_view import (
    CLUSTER,
    POLICY_DOCUMENT_TYPES,
    ROLE,
    StackResource,
    of_type,
    stack_resources,
)
from .values import known, known_str

# --- permission documents, wherever they are ------------------------------------------------------


def documents_of(resource_type: str, name: str, props: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """(where, document) for every permission document a resource carries."""
    if resource_type in POLICY_DOCUMENT_TYPES:
        return [(f"policy '{known_str(props.get('name')) or name}'", props.get("policy"))]
    if resource_type == ROLE:
        role = f"'{known_str(props.get('name')) or name}'"
        inline = props.get("inlinePolicies")
        return [
            (f"inline policy '{p.get('name')}' of role {role}", p.get("policy"))
            for p in (inline if isinstance(inline, list) else [])
            if isinstance(p, Mapping)
        ]
    return []


def _allow_statements(
    args: ResourceValidationArgs, found: Findings | None = None
) -> list[tuple[str, Statement, list[Statement]]]:
    """(where, Allow statement, every statement of its document) of the resource's documents."""
    props = known(args.props)
    result = []
    for where, document in documents_of(args.resource_type, args.name, props):
        statements = parse_document(document)
        if statements is None and found is not None and document is not None:
            found.could_not_judge(
                f"{where.capitalize()}: its document is not known at preview, so what it grants "
                "(cluster credentials, Data API calls) could not be checked."
            )
        result += [(where, s, statements or []) for s in statements or [] if s.allows]
    return result


def denied(statements: Sequence[Statement], action: str, probe: str) -> bool:
    """A Deny with no condition in the same document takes `action` on the probe away.

    IAM evaluates Allow and Deny together; a conditional Deny may not apply to the caller, and a
    NotResource Deny is not counted on (what its exceptions leave depends on every other Deny):
    both leave the grant judged as written.
    """
    return any(
        s.denies
        and not s.conditions
        and not s.not_resource
        and s.covers_action(action)
        and s.surely_covers_resource(_probe_of(probe))
        for s in statements
    )


def _every_cluster(resource_type: str) -> list[str]:
    if resource_type == "cluster":
        return [
            "redshift:{region}:{account}:cluster:zz-probe-0",
            "redshift-serverless:{region}:{account}:workgroup/zz-probe-0",
        ]
    return [f"redshift:{{region}}:{{account}}:{resource_type}:zz-probe-0/zz-probe"]


def _samples(statement: Statement, resource_type: str) -> list[str]:
    """Resources of clusters the statement reaches that it does not name: one per wide pattern."""
    if statement.not_resource:
        return [p for p in _every_cluster(resource_type) if statement.covers_resource(_probe_of(p))]
    found = []
    for pattern in statement.resources:
        reach = redshift_resource(pattern, resource_type)
        wide = reach is not None and reach.any_cluster
        if wide or (resource_type == "cluster" and reaches_every_workgroup(pattern)):
            found += [p for p in _every_cluster(resource_type) if _probe_of(p)(pattern)]
            found += [_concrete(pattern, resource_type)] if arn_parts(pattern) else []
    return found


def _concrete(pattern: str, resource_type: str) -> str:
    """The pattern with its wildcards filled in: a resource it matches and names nowhere.

    A wildcard that spans the resource type (`...:<account>:*`, `d*r/x`) is filled with the type
    first, so the sample is a resource of that type (`cluster:zzprobe`), which a Deny on every
    cluster of the account takes back, not an ARN no Data API call takes.
    """
    parts = arn_parts(pattern) or []
    rest = ":".join(parts[5:])
    typed = f"{resource_type}:"
    cut = re.search(r"[*?]", rest)
    if cut and cut.start() < len(typed) and typed.startswith(rest[: cut.start()]):
        candidate = rest[: cut.start()] + typed[cut.start() :] + "zzprobe" + rest[cut.end() :]
        filled = ":".join([*parts[:5], candidate.replace("*", "zzprobe").replace("?", "z")])
        if glob(pattern).fullmatch(filled):
            return filled
    fill = [(part.replace("*", "zzprobe").replace("?", "z")) for part in parts[5:]]
    return ":".join([*parts[:5], *fill])


def _probe_of(probe: str) -> Callable[[str], bool]:
    if probe.startswith("arn:"):
        return lambda pattern: glob(pattern).fullmatch(probe) is not None
    return lambda pattern: matches_probe(pattern, probe)


def _still_reaches(
    statements: Sequence[Statement], statement: Statement, action: str, resource_type: str
) -> bool:
    """Whether the document's Denies leave `action` on some cluster the statement reaches."""
    return any(not denied(statements, action, p) for p in _samples(statement, resource_type))


def _reach(statement: Statement, resource_type: str) -> list[str]:
    """The Resource patterns of a statement that reach every cluster, for `resource_type`."""
    if statement.not_resource:
        if covers_every_cluster(statement.resources, resource_type):
            return []
        return [f"NotResource {list(statement.resources)} (every other resource)"]
    wide = []
    for pattern in statement.resources:
        reach = redshift_resource(pattern, resource_type)
        if (reach is not None and reach.any_cluster) or (
            resource_type == "cluster" and reaches_every_workgroup(pattern)
        ):
            wide.append(f'"{pattern}"')
    return wide


# --- no-cluster-credentials-on-any-resource -------------------------------------------------------


def check_credentials_not_on_any_cluster(args: ResourceValidationArgs, found: Findings) -> None:
    for where, statement, document in _allow_statements(args, found):
        pairs = [
            (a, t)
            for a in CREDENTIALS_ACTIONS
            if statement.covers_action(a)
            for t in CREDENTIALS_RESOURCE_TYPES[a]
            if _reach(statement, t) and _still_reaches(document, statement, a, t)
        ]
        actions = sorted({a for a, _ in pairs})
        wide = sorted({p for _, t in pairs for p in _reach(statement, t)})
        if wide:
            found.violation(
                f"{where}: statement {statement.label} allows {' and '.join(actions)} on "
                f"{', '.join(wide)}, which reaches every cluster of the account: the role can "
                "mint database credentials for any user (the master user included) on any of "
                "them. Scope it: GetClusterCredentialsWithIAM to "
                "arn:<partition>:redshift:<region>:<account>:dbname:<cluster>/<database>, "
                "GetClusterCredentials to ...:dbuser:<cluster>/<user> (plus the dbname ARN)."
            )


# --- data-api-only-on-the-stacks-clusters ---------------------------------------------------------


def check_data_api_scope(args: ResourceValidationArgs, found: Findings) -> None:
    for where, statement, document in _allow_statements(args):
        actions = [
            a
            for a in DATA_API_SQL_ACTIONS
            if statement.covers_action(a) and _still_reaches(document, statement, a, "cluster")
        ]
        wide = _reach(statement, "cluster") if actions else []
        if wide:
            found.violation(
                f"{where}: statement {statement.label} allows {', '.join(actions)} on "
                f"{', '.join(wide)}, so the role can run SQL and read catalogs on every Redshift "
                "cluster and serverless workgroup of the account, not just this stack's. Name the "
                "cluster: arn:<partition>:redshift:<region>:<account>:cluster:<cluster> (only "
                "DescribeStatement, GetStatementResult, CancelStatement and ListStatements need "
                '"*").'
            )


# --- redshift-credentials-dbuser-wildcard (advisory) ----------------------------------------------


def check_dbuser_wildcard(args: ResourceValidationArgs, found: Findings) -> None:
    for where, statement, document in _allow_statements(args):
        if not statement.covers_action("redshift:GetClusterCredentials"):
            continue
        for pattern in statement.resources if not statement.not_resource else ():
            reach = redshift_resource(pattern, "dbuser")
            if reach is None or reach.any_cluster or not any(c in reach.rest for c in "*?"):
                continue
            sample = reach.rest.replace("*", "zz").replace("?", "z")
            probe = f"redshift:{{region}}:{{account}}:dbuser:{reach.cluster}/{sample}"
            if denied(document, "redshift:GetClusterCredentials", probe):
                continue
            found.violation(
                f"{where}: statement {statement.label} allows "
                f'redshift:GetClusterCredentials on "{pattern}", so the role can get temporary '
                "credentials for every matching database user of cluster "
                f"'{reach.cluster}' - the master user (full admin) included when it matches. "
                "List only the users xpander needs (the stack's "
                'xpander-redshift:credentialsDbUsers, default ["IAMR:<roleName>"]); '
                "GetClusterCredentialsWithIAM on the dbname ARN needs no dbuser resource at all."
            )


# --- no-cluster-credentials-for-the-master-user ---------------------------------------------------


def _all_users(pattern_rest: str) -> bool:
    return bool(pattern_rest) and not pattern_rest.strip("*")


def check_master_user_credentials(args: StackValidationArgs, found: Findings) -> None:
    resources = stack_resources(args)
    clusters = of_type(resources, CLUSTER)
    for item in resources:
        for where, document in documents_of(item.type, item.name, item.props):
            everything = parse_document(document) or []
            for statement in everything:
                if not statement.allows or statement.not_resource:
                    continue
                if not statement.covers_action("redshift:GetClusterCredentials"):
                    continue
                for pattern in statement.resources:
                    _judge_master_user(
                        item,
                        where=where,
                        statement=statement,
                        pattern=pattern,
                        clusters=clusters,
                        found=found,
                        document=everything,
                    )


def _judge_master_user(
    item: StackResource,
    *,
    where: str,
    statement: Statement,
    pattern: str,
    clusters: Sequence[StackResource],
    found: Findings,
    document: Sequence[Statement],
) -> None:
    reach = redshift_resource(pattern, "dbuser")

    if reach is None or reach.any_cluster:
        return  # every cluster: no-cluster-credentials-on-any-resource
    cluster_name = reach.cluster

    def denied_for(user: str) -> bool:
        probe = f"redshift:{{region}}:{{account}}:dbuser:{cluster_name}/{user}"
        return denied(document, "redshift:GetClusterCredentials", probe)

    written = statement.raw_resources[statement.resources.index(pattern)]
    if has_policy_variable(written.partition("/")[2]):
        masters = [
            str(c.props.get("masterUsername"))
            for c in clusters
            if known_str(c.props.get("clusterIdentifier")) == reach.cluster
            and known_str(c.props.get("masterUsername"))
        ] or (["zz-probe-admin"] if _all_users(reach.rest) else [])
        reachable = [
            m
            for m in masters
            if glob(reach.rest, ignore_case=True).fullmatch(m) and not denied_for(m)
        ]
        if not reachable:
            return
        found.violation(
            f"{where}: statement {statement.label} allows redshift:GetClusterCredentials on "
            f'"{written}": the user name is a policy variable, which the caller sets itself (its '
            "session tags through a self-assume with sts:TagSession, its session name), so it "
            f"can name the master user of cluster '{reach.cluster}' and log in as the "
            "administrator. Name the users literally (the stack's "
            "xpander-redshift:credentialsDbUsers), or use GetClusterCredentialsWithIAM on the "
            "dbname ARN, which needs no dbuser at all.",
            item.urn,
        )
        return
    if _all_users(reach.rest):
        return  # `<cluster>/*`: the advisory redshift-credentials-dbuser-wildcard
    for cluster in clusters:
        identifier = cluster.props.get("clusterIdentifier")
        if known_str(identifier) != reach.cluster:
            continue
        master = cluster.props.get("masterUsername")
        restored = cluster.props.get("snapshotIdentifier") is not None
        if master is None and not restored:
            continue  # CreateCluster refuses a new cluster without one
        if known_str(master) is None:
            found.could_not_judge(
                f"{where}: statement {statement.label} allows redshift:GetClusterCredentials on "
                f"\"{pattern}\", and the master user name of cluster '{reach.cluster}' is not "
                "known at preview.",
                item.urn,
            )
        elif glob(reach.rest, ignore_case=True).fullmatch(str(master)) and not denied_for(
            str(master)
        ):
            found.violation(
                f"{where}: statement {statement.label} allows redshift:GetClusterCredentials on "
                f"\"{pattern}\", which is the master user {master} of cluster '{reach.cluster}': "
                "the role can log in as the cluster's administrator (every table, every user). "
                "Grant credentials only for the users xpander needs (the stack's "
                "xpander-redshift:credentialsDbUsers); the master password stays in Secrets "
                "Manager.",
                item.urn,
            )
