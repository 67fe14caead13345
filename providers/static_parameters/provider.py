"""The StaticParameters provider: says which static parameter change waits for a reboot, and
with `rebootForStaticParameters` reboots the cluster when `model.cluster_reboot` allows it.

Runs in Pulumi's dynamic-provider process (`python -m pulumi.dynamic`). That host gives a diff no
detailed diff, and logs nowhere but its stderr, which the engine prints as a diagnostic line of
the run (pulumi/pulumi `sdk/go/common/resource/plugin/plugin.go`: the dynamic host's stderr goes
to `Infoerr`, other providers' to `Debug`; the host is told by its file name, which on Windows,
`...-python.cmd`, it does not match: there the line needs `--debug`). So
the change shows three ways: as this resource's update with its changed `parameters` input (the
engine's own input diff), as a warning line from `diff` in the preview and from `update` in `up`,
and in the `pendingReboot` output (and the stack output of that name) until DescribeClusters shows
the group `in-sync`. While something is pending, `diff` reports a change, so every preview and up
say it again, and each `up` asks AWS whether the reboot happened: the engine asks a provider's
diff on every run, equal inputs or not (pulumi/pulumi `pkg/resource/deploy/step_generator.go`,
`diff`: only the legacy-diff mode skips it).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import pulumi
import pulumi.dynamic

from clients.aws_account import CallerAccount, StsClient
from clients.aws_client import ClientCache, aws_client
from model import cluster_reboot as rules
from model.aws_account import account_of
from providers.loader import provider_loader

P = ParamSpec("P")
R = TypeVar("R")

PROJECT_ROOT = str(Path(__file__).resolve().parents[2])
MODULE = "providers.static_parameters.provider"
CLASS = "StaticParametersProvider"
NOTHING_ASKED = "Redshift was not asked about the cluster, and nothing was rebooted."


class RebootError(RuntimeError):
    """A call to AWS failed or the rebooted cluster did not settle; the message says what to do."""


class ClusterGoneError(RebootError):
    """DescribeClusters answered no cluster (a refresh keeps the record; others fail)."""


def _explained(method: Callable[P, R]) -> Callable[P, R]:
    """botocore's failures in our words: the call, AWS's code and message, and what to do."""

    @functools.wraps(method)
    def explained(*args: P.args, **kwargs: P.kwargs) -> R:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            return method(*args, **kwargs)
        except ClientError as err:
            raise RebootError(
                f"{_in_our_words(err)}. Check the deploying identity's permissions "
                "(make deployer-policy) and the cluster, then run `pulumi up` again."
            ) from None
        except BotoCoreError as err:
            raise RebootError(
                f"{_in_our_words(err)}. Run `pulumi up` again: nothing is rebooted "
                "unless the group still waits for a reboot."
            ) from None

    return explained


class StaticParametersProvider(pulumi.dynamic.ResourceProvider):
    """diff / create / read / update of the StaticParameters resource; delete changes nothing.

    Pickled as a loader that puts the project on sys.path first (`providers.loader`).
    `client_factory`, `sts_factory`, `sleep` and `clock` are test seams; they are not pickled.
    """

    def __init__(
        self,
        project_root: str = PROJECT_ROOT,
        *,
        client_factory: Callable[[str], Any] | None = None,
        sts_factory: Callable[[str], StsClient] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.project_root = project_root
        self._client_factory = client_factory
        self._clients: ClientCache[str, Any] = ClientCache()
        self._caller = CallerAccount(sts_factory)  # whose credentials: asked once per process
        self._sleep = sleep
        self._clock = clock

    def __reduce__(self) -> tuple[Callable[..., Any], tuple[str, str, str]]:
        return (provider_loader(), (self.project_root, MODULE, CLASS))

    # --- lifecycle -------------------------------------------------------------------------------

    def diff(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """Changed inputs, or parameters the last run left waiting for a reboot (the update asks
        AWS again). Another cluster or region is a new resource: its create reboots nothing."""
        changed = [k for k in rules.INPUT_KEYS if olds.get(k) != news.get(k)]
        replaces = [k for k in changed if k in rules.REPLACE_KEYS]
        # A new cluster starts with its group's values: nothing waits.
        now = [] if replaces else rules.changed_parameters(olds, news)
        earlier = [] if replaces else [p for p in rules.still_pending(olds, news) if p not in now]
        cluster, region = str(news[rules.CLUSTER]), str(news.get(rules.REGION))
        opted_in = bool(news.get(rules.REBOOT))
        if now:
            pulumi.log.warn(rules.notice(now, cluster, region, opted_in=opted_in))
        if earlier:
            # Recorded by an earlier run: the cluster may have rebooted since (up asks AWS).
            pulumi.log.warn(rules.still_waiting(earlier, cluster, region, opted_in=opted_in))
        waiting = [*now, *earlier]
        return pulumi.dynamic.DiffResult(
            changes=bool(changed or waiting),
            replaces=replaces,
            stables=[],
            delete_before_replace=False,
        )

    @_explained
    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        """Records the values; pending are all of them unless the group is already `in-sync` (a
        cluster the stack just created with it). Never reboots: a cluster that only now moved
        to the stack's group (an adopted one) is rebooted by a later `up`, if opted in."""
        cluster = self._cluster(props)
        group = str(props[rules.GROUP])
        pending = (
            []
            if rules.group_status(cluster, group) == rules.IN_SYNC
            else rules.every_parameter(props)
        )
        if pending:
            pulumi.log.warn(self._notice(pending, props))
        return pulumi.dynamic.CreateResult(
            id_=f"{props[rules.CLUSTER]}/{group}", outs=rules.outputs(props, pending)
        )

    @_explained
    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """Refresh: what waited for a reboot is no longer pending once the group is `in-sync`."""
        outs = dict(props)
        if props.get(rules.PENDING):
            cluster = self._cluster_if_any(props)
            if cluster is None:  # deleted outside the stack: the cluster's own refresh says so
                pulumi.log.warn(
                    f"DescribeClusters does not find cluster {props[rules.CLUSTER]!r}: its "
                    "static parameters are kept as recorded."
                )
            elif rules.group_status(cluster, str(props[rules.GROUP])) == rules.IN_SYNC:
                outs = rules.outputs(props, [])
        return pulumi.dynamic.ReadResult(id_=id_, outs=outs)

    @_explained
    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        """What waits for a reboot after this change; with the opt-in, the reboot itself when
        `model.cluster_reboot.reboot_verdict` allows it (never twice: it needs pending-reboot)."""
        changed = rules.changed_parameters(olds, news)
        pending = _unique([*changed, *rules.still_pending(olds, news)])
        if not pending:
            return pulumi.dynamic.UpdateResult(outs=rules.outputs(news, []))
        cluster = self._cluster(news)
        group = str(news[rules.GROUP])
        verdict = rules.reboot_verdict(cluster, group)
        if verdict.in_sync and not changed:  # rebooted since the last run: applied
            return pulumi.dynamic.UpdateResult(outs=rules.outputs(news, []))
        if verdict.in_sync:  # applied by an interrupted run's reboot, or not shown yet
            pulumi.log.warn(
                rules.in_sync_after_change(
                    changed, str(news[rules.CLUSTER]), str(news[rules.REGION]), group
                )
            )
        if not news.get(rules.REBOOT) or verdict.in_sync:
            # Opted out (diff has said what to run); or a change this run made that the group
            # does not show yet: the next `up` asks again.
            return pulumi.dynamic.UpdateResult(outs=rules.outputs(news, pending))
        name, region = str(news[rules.CLUSTER]), str(news[rules.REGION])
        why_not = verdict.why_not or rules.owner_unconfirmed(cluster, news.get(rules.ARN))
        if not verdict.reboot or why_not:
            pulumi.log.warn(rules.refused(pending, name, region, why_not))
            return pulumi.dynamic.UpdateResult(outs=rules.outputs(news, pending))
        self._reboot(news)
        return pulumi.dynamic.UpdateResult(outs=rules.outputs(news, []))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Nothing in AWS is this resource's: the group and the cluster are other resources."""

    # --- AWS -------------------------------------------------------------------------------------

    def _reboot(self, props: Mapping[str, Any]) -> None:
        """RebootCluster once, then wait (bounded) until the cluster is available and in sync."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        name, group = str(props[rules.CLUSTER]), str(props[rules.GROUP])
        seconds = int(props.get(rules.TIMEOUT) or rules.REBOOT_WAIT_SECONDS)
        region = str(props[rules.REGION])
        client = self._client(region)
        pulumi.log.info(
            f"Rebooting cluster {name!r} to apply its static parameters ({rules.OPT_IN})."
        )
        try:
            client.reboot_cluster(ClusterIdentifier=name)
        except (ClientError, BotoCoreError) as err:  # botocore may have sent it twice
            raise RebootError(rules.reboot_unconfirmed(name, region, _in_our_words(err))) from None
        deadline = self._clock() + seconds
        while True:
            try:
                cluster = self._cluster(props)
            except (ClientError, BotoCoreError, RebootError) as err:  # the reboot is under way
                raise RebootError(rules.lost_sight(name, _in_our_words(err))) from None
            if rules.settled(cluster, group):
                return
            if self._clock() >= deadline:
                raise RebootError(rules.wait_timed_out(name, seconds, cluster, group))
            self._sleep(rules.POLL_SECONDS)

    def _cluster(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """The stack's cluster as DescribeClusters answers, asked only with credentials of the
        account its clusterArn names (clients/aws_account.py, as the database user's provider),
        and refused if the cluster that answers is another account's (rules.other_owner)."""
        name, region, arn = (
            str(props[rules.CLUSTER]),
            str(props[rules.REGION]),
            props.get(rules.ARN),
        )
        if account_of(arn) is not None:  # state written before clusterArn: other_owner only
            self._caller.require(rules.ARN, str(arn), region, nothing_done=NOTHING_ASKED)
        answer = self._client(region).describe_clusters(ClusterIdentifier=name)
        clusters: list[dict[str, Any]] = answer.get("Clusters") or []
        if not clusters:
            raise ClusterGoneError(f"DescribeClusters does not find cluster {name!r}.")
        if other := rules.other_owner(clusters[0], props.get(rules.ARN)):
            raise RebootError(other)
        return clusters[0]

    def _cluster_if_any(self, props: Mapping[str, Any]) -> dict[str, Any] | None:
        """The cluster, or None when Redshift answers ClusterNotFound (botocore's redshift model:
        ClusterNotFoundFault, code ClusterNotFound, HTTP 404)."""
        from botocore.exceptions import ClientError  # noqa: PLC0415

        try:
            return self._cluster(props)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "ClusterNotFound":
                return None
            raise
        except ClusterGoneError:  # an empty answer; another account's cluster is refused
            return None

    def _client(self, region: str) -> Any:
        """One redshift client per region for the process (the host keeps this provider)."""
        make = self._client_factory or _make_client
        return self._clients.get(region, lambda: make(region))

    def _notice(self, pending: list[str], props: Mapping[str, Any]) -> str:
        return rules.notice(
            pending,
            str(props[rules.CLUSTER]),
            str(props[rules.REGION]),
            opted_in=bool(props.get(rules.REBOOT)),
        )


def _in_our_words(err: Exception) -> str:
    """A failed call to Redshift, as the run says it (STS's are clients/aws_account.py's)."""
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    if isinstance(err, ClientError):
        error = err.response.get("Error", {})
        return (
            f"Redshift {err.operation_name} was refused: {error.get('Code')}: "
            f"{str(error.get('Message')).rstrip('.')}"
        )
    if isinstance(err, BotoCoreError):
        return f"No answer from Redshift ({err})"
    return str(err).rstrip(".")


def _make_client(region: str) -> Any:
    return aws_client(
        "redshift",
        region,
        connect_timeout=10,
        read_timeout=60,
        retries={"mode": "standard", "max_attempts": 5},
    )


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))
