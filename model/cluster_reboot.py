"""The static parameters a cluster waits to apply, and when the stack may reboot it: pure rules.

The `StaticParameters` dynamic resource (providers/static_parameters/) carries the values of the
static parameters the stack's parameter group sets. Its provider sees the old values and the new
ones, which the program cannot: a change of one is an update of that resource, named in the
preview and in its `pendingReboot` output until DescribeClusters shows the group `in-sync`.
With `rebootForStaticParameters` it reboots the cluster, only when every rule below allows it.

AWS's words, from botocore's redshift model (service-2.json, 2012-12-01):
- `Cluster.ClusterStatus`: `available`, `modifying`, `rebooting`, `resizing`, `paused`, ...
- `Cluster.ClusterAvailabilityStatus` ("for queries"): `Available`, `Unavailable`, `Maintenance`
  ("intermittently available ... due to maintenance activities"), `Modifying`, `Failed`: a
  cluster `available` while maintenance or a modification is under way says so only here.
- `ClusterParameterGroupStatus.ParameterApplyStatus` / `ClusterParameterStatus`: `in-sync`,
  `pending-reboot` ("will be applied after the cluster reboots"), `applying`, `apply-deferred`,
  `apply-error`, `unknown-error`, `invalid-parameter`.
- RebootCluster: "Any pending cluster modifications (see ModifyCluster) are applied at this
  reboot": so the stack never reboots while `Cluster.PendingModifiedValues` holds anything (a
  node type or node count waiting there would be a resize the team did not ask of this reboot).
  Its error InvalidClusterState is "The specified cluster is not in the available state"
  (Amazon Redshift API Reference, RebootCluster): the stack asks only an `available` cluster.
The same values are in the Amazon Redshift API Reference (ClusterParameterStatus, Cluster).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from model import cluster_baseline as baseline
from model.aws_account import CLUSTER_ARN, not_the_providers_credentials, region_and_account
from model.config_keys import KEYS_BY_NAME

AVAILABLE = "available"  # Cluster.ClusterStatus
AVAILABLE_FOR_QUERIES = "Available"  # Cluster.ClusterAvailabilityStatus (absent: not said)
# Cluster.RestoreStatus.Status ("starting, restoring, completed, or failed"; absent for a
# cluster not restored from a snapshot): a restore under way is no moment to reboot.
RESTORING = ("starting", "restoring")
PENDING_REBOOT = "pending-reboot"  # ClusterParameterGroupStatus.ParameterApplyStatus
IN_SYNC = baseline.IN_SYNC
# The longest wait for the rebooted cluster: botocore's own ClusterAvailable waiter
# (redshift waiters-2.json: DescribeClusters every 60 s, 30 attempts), at a shorter poll.
REBOOT_WAIT_SECONDS = 1800
POLL_SECONDS = 20.0

OPT_IN = KEYS_BY_NAME["rebootForStaticParameters"].full_name

# The resource's state keys (inputs, then what the provider adds).
REGION = "region"
CLUSTER = "clusterIdentifier"
GROUP = "parameterGroupName"
PARAMETERS = "parameters"  # {name: value} of the static parameters the group sets
REBOOT = "rebootAfterChange"
TIMEOUT = "timeoutSeconds"
# The cluster's ARN as the aws provider (its credentials) knows it: the account the answers of
# this provider's own credentials (boto3's default chain) must come from.
ARN = CLUSTER_ARN
INPUT_KEYS = (REGION, CLUSTER, GROUP, PARAMETERS, REBOOT, TIMEOUT, ARN)
# Another cluster (or region) is another resource: created anew, which reboots nothing.
REPLACE_KEYS = (REGION, CLUSTER)
PENDING = "pendingReboot"  # output: the parameters waiting for a reboot, as last known
COMMAND = "rebootCommand"  # output, with PENDING: the command that applies them


def static_values(parameters: Sequence[Mapping[str, str]]) -> dict[str, str]:
    """The static parameters among the group's `parameters`, as the resource's input."""
    return {p["name"]: p["value"] for p in parameters if p["name"] in baseline.STATIC_PARAMETERS}


def changed_parameters(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """Static parameters whose value the cluster does not run yet after this change: those whose
    value differs; every one when the cluster moved to another group (ModifyCluster
    ClusterParameterGroupName: the new group's parameters apply at the next reboot too)."""
    if olds.get(GROUP) != news.get(GROUP):
        return every_parameter(news)
    return baseline.changed_static_values(olds.get(PARAMETERS) or {}, news.get(PARAMETERS) or {})


def every_parameter(props: Mapping[str, Any]) -> list[str]:
    """The static parameters the group sets, in the baseline's order (a cluster that only now
    runs the group waits for all of them)."""
    values = props.get(PARAMETERS) or {}
    return [name for name in baseline.STATIC_PARAMETERS if name in values]


def still_pending(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """What the last run left waiting for a reboot, of the parameters the group still sets."""
    new = news.get(PARAMETERS) or {}
    return [str(name) for name in olds.get(PENDING) or () if name in new]


def group_status(cluster: Mapping[str, Any], group: str) -> str | None:
    """The ParameterApplyStatus of `group` on the cluster (None: the cluster does not use it)."""
    for status in cluster.get("ClusterParameterGroups") or ():
        if status.get("ParameterGroupName") == group:
            return str(status.get("ParameterApplyStatus"))
    return None


def pending_modifications(cluster: Mapping[str, Any]) -> list[str]:
    """The names of Cluster.PendingModifiedValues that hold a value."""
    pending = cluster.get("PendingModifiedValues") or {}
    return sorted(name for name, value in pending.items() if value is not None)


@dataclass(frozen=True)
class Verdict:
    """What DescribeClusters says the stack may do: reboot, nothing (in sync), or refuse (why)."""

    reboot: bool
    in_sync: bool
    why_not: str = ""


def not_ready(cluster: Mapping[str, Any]) -> str:
    """Why the cluster is not ready for a reboot now ("" when it is): its status, its
    availability for queries when it gives one, or a restore from a snapshot under way."""
    state = cluster.get("ClusterStatus")
    if state != AVAILABLE:
        return f"its status is {state!r}, not {AVAILABLE!r}"
    availability = cluster.get("ClusterAvailabilityStatus")
    if availability is not None and availability != AVAILABLE_FOR_QUERIES:
        return (
            f"its availability for queries is {availability!r}, not {AVAILABLE_FOR_QUERIES!r} "
            "(maintenance or a modification is under way)"
        )
    restore = (cluster.get("RestoreStatus") or {}).get("Status")
    if restore in RESTORING:
        return f"its restore from a snapshot is {restore!r}, not finished"
    return ""


def other_owner(cluster: Mapping[str, Any], cluster_arn: Any) -> str:
    """Why the described cluster is not the stack's ("" when nothing says so): its
    ClusterNamespaceArn (botocore redshift Cluster: "The namespace ARN of the cluster") names
    another account or Region than the stack's clusterArn. A cluster of the same name in another
    account answers when this process's credentials are not the aws provider's (`aws:profile`
    or an assume-role of the provider's own, while boto3 reads AWS_PROFILE and the environment)."""
    seen = region_and_account(cluster.get("ClusterNamespaceArn"))
    expected = region_and_account(cluster_arn)
    if seen is None or expected is None or seen == expected:
        return ""
    return (
        f"DescribeClusters answered for a cluster {cluster.get('ClusterIdentifier')!r} of "
        f"account {seen[1]} in {seen[0]}, but the stack's cluster is of account {expected[1]} "
        f"in {expected[0]} ({ARN} {cluster_arn}): "
        + not_the_providers_credentials(expected[1], "Nothing was rebooted.")
    )


def owner_unconfirmed(cluster: Mapping[str, Any], cluster_arn: Any) -> str:
    """Why a reboot cannot confirm the cluster is the stack's ("" when it can): both ARNs must
    name the same account and Region (other_owner refuses a mismatch outright)."""
    if region_and_account(cluster_arn) is None:
        return f"the stack's {ARN} is not known to this run"
    if region_and_account(cluster.get("ClusterNamespaceArn")) is None:
        return (
            "DescribeClusters gives no ClusterNamespaceArn, so the account it answered for "
            "cannot be checked against the stack's"
        )
    return ""


def reboot_verdict(cluster: Mapping[str, Any], group: str) -> Verdict:
    """Reboot only a cluster `available` (and `Available` for queries when it says), whose group
    (ours) is `pending-reboot`, with no other modification pending that the reboot would apply
    with it (RebootCluster API reference)."""
    status = group_status(cluster, group)
    if status == IN_SYNC:
        return Verdict(reboot=False, in_sync=True)
    if busy := not_ready(cluster):
        return Verdict(False, False, busy)
    if status is None:
        return Verdict(False, False, f"it does not use the parameter group {group!r}")
    if status != PENDING_REBOOT:
        return Verdict(
            False, False, f"its parameter group {group!r} is {status!r}, not {PENDING_REBOOT!r}"
        )
    if others := pending_modifications(cluster):
        return Verdict(
            False,
            False,
            "other modifications wait for its next reboot (PendingModifiedValues: "
            f"{', '.join(others)}), and RebootCluster would apply them too",
        )
    return Verdict(reboot=True, in_sync=False)


def settled(cluster: Mapping[str, Any], group: str) -> bool:
    """The reboot is over: the cluster is available and runs the group's values."""
    return cluster.get("ClusterStatus") == AVAILABLE and group_status(cluster, group) == IN_SYNC


# --- what the provider says ----------------------------------------------------------------------


def notice(parameters: Sequence[str], cluster: str, region: str, *, opted_in: bool) -> str:
    """A static parameter change the cluster runs only after a reboot, and how to apply it."""
    command = baseline.reboot_command(cluster, region)
    return (
        f"Needs a reboot: {', '.join(parameters)} of cluster {cluster!r} changed in its parameter "
        "group; they are static parameters, which the running cluster applies only when it "
        "reboots (until then it keeps the old values). Reboot at a quiet moment (connections drop "
        f"for a few minutes): {command}"
        + (
            f"; with {OPT_IN} on, `pulumi up` reboots it itself when it is available with "
            "nothing else pending."
            if opted_in
            else f"; or set {OPT_IN} true and `pulumi up` reboots it when it is safe."
        )
    )


def still_waiting(parameters: Sequence[str], cluster: str, region: str, *, opted_in: bool) -> str:
    """What an earlier run recorded as waiting for a reboot, unchanged since: the cluster may
    have rebooted meanwhile, which only `pulumi up` (or refresh) asks AWS about."""
    return (
        f"Still waiting for a reboot, as the last `pulumi up` recorded: {', '.join(parameters)} "
        f"of cluster {cluster!r}. `pulumi up` first asks DescribeClusters: if the cluster has "
        "rebooted since (its parameter group `in-sync`), it records them as applied and reboots "
        "nothing"
        + (
            f"; otherwise it reboots the cluster when it is safe ({OPT_IN})."
            if opted_in
            else "; otherwise reboot it at a quiet moment: "
            + baseline.reboot_command(cluster, region)
        )
    )


def in_sync_after_change(parameters: Sequence[str], cluster: str, region: str, group: str) -> str:
    """A change of this run that the cluster's group already reports applied."""
    return (
        f"{', '.join(parameters)} of cluster {cluster!r} changed in this run, yet its parameter "
        f"group {group!r} reads {IN_SYNC!r}: either the cluster already runs the new values (an "
        "earlier `pulumi up` rebooted it and stopped before recording that) or AWS does not show "
        "the change yet. They stay in pendingReboot; the next `pulumi up` asks again and records "
        f"them as applied if the group still reads {IN_SYNC!r}. Before rebooting by hand, look: "
        f"aws redshift describe-clusters --cluster-identifier {cluster} --region {region} "
        "--query 'Clusters[0].ClusterParameterGroups[].ParameterApplyStatus'"
    )


def refused(parameters: Sequence[str], cluster: str, region: str, why_not: str) -> str:
    """The opt-in reboot that the cluster's state does not allow now."""
    return (
        f"Not rebooting cluster {cluster!r} ({OPT_IN}): {why_not}. {', '.join(parameters)} keep "
        "waiting for a reboot; the next `pulumi up` checks again, or reboot by hand when the "
        f"cluster is ready: {baseline.reboot_command(cluster, region)}"
    )


def wait_timed_out(cluster: str, seconds: int, last: Mapping[str, Any], group: str) -> str:
    return (
        f"Cluster {cluster!r} was rebooted (RebootCluster) but did not report {AVAILABLE!r} with "
        f"its parameter group {group!r} {IN_SYNC!r} within {seconds} s (last seen: status "
        f"{last.get('ClusterStatus')!r}, group {group_status(last, group)!r}). Do not reboot it "
        f"again by hand: once the group reads {IN_SYNC!r} the reboot has applied the values. Run "
        f"`pulumi up` again: it reboots only if the group still reads {PENDING_REBOOT!r}; this "
        "failed update kept the previous state, so that run still lists the parameters in "
        "pendingReboot, and the one after records them as applied."
    )


def reboot_unconfirmed(cluster: str, region: str, failure: str) -> str:
    """RebootCluster failed or went unanswered. botocore's standard retry mode (the provider's
    client) sends a request again after a read timeout or a 500-504 answer (botocore
    retries/standard.py, TransientRetryableChecker: ReadTimeoutError is an HTTPClientError), and
    AWS refuses that retry once the first request made the cluster `rebooting`
    (InvalidClusterState): so the cluster may be rebooting all the same."""
    return (
        f"{failure}. Checked {AVAILABLE!r} just before, so the cluster may be rebooting from "
        "this run's own request (an answer lost and the request retried). Look before rebooting "
        f"by hand: aws redshift describe-clusters --cluster-identifier {cluster} --region "
        f"{region} --query "
        "'Clusters[0].[ClusterStatus,ClusterParameterGroups[].ParameterApplyStatus]'"
        f". `pulumi up` again reboots only a cluster {AVAILABLE!r} whose group reads "
        f"{PENDING_REBOOT!r}."
    )


def lost_sight(cluster: str, failure: str) -> str:
    """The wait after RebootCluster could not ask how the cluster is."""
    return (
        f"RebootCluster was sent for cluster {cluster!r}, then the wait for it failed: {failure}. "
        "The cluster reboots anyway (a few minutes). Do not reboot it again by hand: once "
        f"DescribeClusters shows its parameter group {IN_SYNC!r} the values are applied. Fix the "
        f"cause and run `pulumi up` again: it reboots only if the group still reads "
        f"{PENDING_REBOOT!r}."
    )


def outputs(news: Mapping[str, Any], pending: Sequence[str]) -> dict[str, Any]:
    """The resource's outputs: its inputs, what waits for a reboot and, then, the command."""
    outs = {key: news[key] for key in INPUT_KEYS if key in news}
    outs[PENDING] = list(pending)
    if pending:
        outs[COMMAND] = baseline.reboot_command(str(news[CLUSTER]), str(news[REGION]))
    return outs


def pending_output(pending: Any, command: Any) -> dict[str, Any]:
    """The stack output `pendingReboot`: the parameters waiting for a reboot and, then, the
    command that applies them (`pulumi stack output pendingReboot --json`)."""
    parameters = [str(p) for p in pending or ()]
    return {"parameters": parameters, COMMAND: command} if parameters else {"parameters": []}
