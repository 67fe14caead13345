"""The data-api provisioner: a Pulumi dynamic provider for the IAMR user over the Redshift Data API.

The provider runs in Pulumi's own dynamic-provider process; see `_provider_loader` for how it gets
there. State written by earlier versions names `components.iamr_user_provider` and
`components.database_user`: both re-export `IamrUserProvider` from here (thin shims).

Ownership (docs/database-user.md): every write carries a ClientToken derived from the resource's
identity and its statements, so a re-sent batch is the same statement and a later `pulumi up`
asks the Data API about it (its DescribeStatement) instead of running it again. A user counts as
created only when a statement of this stack made it; a fault never turns "created" into "adopted".
"""

from __future__ import annotations

import functools
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import pulumi
import pulumi.dynamic

from clients.aws_account import CallerAccount
from clients.aws_client import ClientCache
from model import plain_user
from model import sql as redshift_sql
from providers.iamr_user import messages
from providers.iamr_user.catalog import Catalog, SchemaFacts
from providers.iamr_user.grants import (
    ADOPTION_RECORD,
    OLDER_RECORD,
    Record,
    Revocation,
    grants_state,
    kept_from,
    parse_record,
    record_state,
    revocation,
    wanted_state,
)
from providers.iamr_user.messages import AccountUnknownError, ProvisionerError, RefusedChangeError
from providers.iamr_user.props import INPUT_KEYS, REPLACE_KEYS, IamrUserProps
from providers.iamr_user.writes import (
    Operation,
    create_user,
    grant,
    leave_tombstone,
    made_by_this_stack,
    write,
)

if TYPE_CHECKING:
    from clients.aws_account import StsClient
    from clients.data_api import DataApi, RedshiftDataClient

__all__ = ["IamrUserProvider", "RefusedChangeError"]

P = ParamSpec("P")
R = TypeVar("R")

PROJECT_ROOT = str(Path(__file__).resolve().parents[2])
PACKAGE = "providers"  # the directory that marks the project root
STATEMENT_NAME = "xpander-redshift/iamr-user"  # how our statements show in ListStatements

# What the provider records besides its inputs.
OWNERSHIP = "ownership"  # CREATED or ADOPTED; absent in state written before it existed
CREATED, ADOPTED = "created", "adopted"
GRANTS = "grants"  # {schema: [kind, ...]}: what the stack holds, in every schema it granted in
DRIFT = "drift"  # what makes a user this stack created no longer plain (as last read)
CREATED_BY = "createdBy"  # the Data API statement that created it: its destroy's tombstone names it
# What a refused read or delete did not do (the account check, clients/aws_account.py).
KEPT_BY_READ = "No SQL was run: the refresh read nothing, and the user stays in state."
KEPT_BY_DELETE = (
    "No SQL was run: the user was not dropped, no grant was revoked, and it stays in state."
)


def ensure_on_sys_path(project_root: str) -> None:
    """Make `providers` importable in the provider process, whatever its working directory."""
    if os.path.isdir(os.path.join(project_root, PACKAGE)) and project_root not in sys.path:
        sys.path.insert(0, project_root)


def _provider_loader() -> Callable[[str], Any]:
    """The function that rebuilds an IamrUserProvider inside Pulumi's dynamic provider process.

    Pulumi stores the provider in the state with dill, which pickles any class or function it can
    import by reference (module and name). The provider process runs `python -m pulumi.dynamic`
    where `providers` may not be importable, so a by-reference IamrUserProvider would fail to
    load before any of its methods could fix sys.path. A function defined inside another one
    cannot be found by name, so dill pickles this one by value: it travels with the state, puts
    the project root (or, if that directory is gone, the working directory) on sys.path, and only
    then imports the provider class.
    """

    def load_iamr_user_provider(project_root: str) -> Any:
        import importlib  # noqa: PLC0415 - pickled by value: it can rely on no module globals
        import os  # noqa: PLC0415
        import sys  # noqa: PLC0415

        for root in (project_root, os.getcwd()):
            if os.path.isdir(os.path.join(root, "providers")):
                if root not in sys.path:
                    sys.path.insert(0, root)
                break
        module = importlib.import_module("providers.iamr_user.provider")
        return module.IamrUserProvider(project_root)

    return load_iamr_user_provider


def _explained(method: Callable[P, R]) -> Callable[P, R]:
    """Every failure the engine shows is in our words: lost answers, refused calls, botocore."""

    @functools.wraps(method)
    def explained(*args: P.args, **kwargs: P.kwargs) -> R:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        from clients.data_api import (  # noqa: PLC0415
            LOST_ANSWER_ERRORS,
            DataApiError,
            ResponseLostError,
            StatementFailedError,
        )

        try:
            return method(*args, **kwargs)
        except LOST_ANSWER_ERRORS as err:
            raise ResponseLostError(str(err), submitting=False) from None
        except StatementFailedError as err:
            raise ProvisionerError(
                f"{err}\nThe batch is one transaction: none of it took effect. Fix what Redshift "
                "names and run `pulumi up` again."
            ) from None
        except DataApiError as err:  # already in our words: without botocore's exception chained
            if err.__cause__ is None:
                raise
            raise ProvisionerError(str(err)) from None
        except ClientError as err:
            error = err.response.get("Error", {})
            raise ProvisionerError(
                messages.call_refused(
                    err.operation_name, str(error.get("Code", "")), str(error.get("Message", ""))
                )
            ) from None
        except BotoCoreError as err:
            raise ProvisionerError(messages.no_aws_answer(str(err))) from None

    return explained


class IamrUserProvider(pulumi.dynamic.ResourceProvider):
    """create / read / diff / update / delete of the IAMR user over the Redshift Data API.

    Rules (docs/database-user.md): an existing user is adopted only when plain; delete drops
    only a user this stack created; read reports the grants that exist, so drift shows and update
    restores exactly what is missing; every write is one BatchExecuteStatement (one transaction);
    a cluster, schema or owner gone out of band never leaves the resource stuck.

    Pickled as `_provider_loader()(project_root)` (see `__reduce__`), so loading it in the provider
    process already puts the project on sys.path. `clients.data_api` is imported inside the
    methods, which keeps boto3 out of the Pulumi program's own process. `client_factory`,
    `sts_factory`, `sleep` and `clock` are test seams; they are not pickled.
    """

    def __init__(
        self,
        project_root: str = PROJECT_ROOT,
        *,
        client_factory: Callable[[str], RedshiftDataClient] | None = None,
        sts_factory: Callable[[str], StsClient] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.project_root = project_root
        self._client_factory = client_factory
        self._clients: ClientCache[tuple[str, float], RedshiftDataClient] = ClientCache()
        self._caller = CallerAccount(sts_factory)  # whose credentials: asked once per process
        self._sleep = sleep
        self._clock = clock

    def __reduce__(self) -> tuple[Callable[[str], Any], tuple[str]]:
        return (_provider_loader(), (self.project_root,))

    # --- lifecycle -------------------------------------------------------------------------------

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        """The names every statement is built from, by the model's own validators (no copies).

        The program's inputs already passed the settings gate, which calls the same validators;
        this catches inputs that did not (state written by an older version with looser rules),
        with the rule, before any SQL is built from them.
        """
        failures = []
        for key in ("user", "owner"):
            value = news.get(key)
            if isinstance(value, str) and (
                problem := redshift_sql.identifier_problem(value, kind="user")
            ):
                failures.append(pulumi.dynamic.CheckFailure(key, f"{value!r}: {problem}"))
        for schema in news.get("schemas") or []:
            if isinstance(schema, str) and (problem := redshift_sql.identifier_problem(schema)):
                failures.append(pulumi.dynamic.CheckFailure("schemas", f"{schema!r}: {problem}"))
        return pulumi.dynamic.CheckResult(news, failures)

    @_explained
    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        ensure_on_sys_path(self.project_root)
        if (record_only := IamrUserProps.from_dict(props)).record_only:
            return pulumi.dynamic.CreateResult(id_=record_only.resource_id, outs=dict(props))
        op = self._operation(props, nothing_done="No SQL was run: the user was not created.")
        p, user = op.props, op.user
        schemas = list(p.schemas)
        catalog = op.catalog
        _require_schemas(catalog, schemas, what="grant on")
        if p.owner not in catalog.existing_users([p.owner]):
            raise RefusedChangeError(
                f"The owner {p.owner!r} (defaultPrivilegesFor) does not exist in database "
                f"{p.database!r}: nothing was changed. Create it, or set "
                "xpander-redshift:defaultPrivilegesFor to the user that creates the tables."
            )
        record: Record = {}
        facts: dict[str, SchemaFacts] | None = None
        if user not in catalog.existing_users([user]):
            created_by: str | None = create_user(op)  # the user and every grant, in one batch
            outs = outputs(p, ownership=CREATED, grants=wanted_state(schemas))
            if created_by:
                outs[CREATED_BY] = created_by
            return pulumi.dynamic.CreateResult(id_=p.resource_id, outs=outs)
        if unsafe := catalog.unsafe(user):
            raise RefusedChangeError(plain_user.refusal(user, unsafe))
        elif (created_by := made_by_this_stack(op)) is not None:
            ownership = CREATED  # an earlier run's create, whose answer was lost
        else:
            pulumi.log.warn(messages.adopted_maybe_ours(user))
            ownership = ADOPTED
            facts = catalog.facts(user, schemas)
            record = {schema: kept_from(facts.get(schema)) for schema in schemas}
        grant(op, schemas, facts=facts)
        outs = outputs(p, ownership=ownership, grants=wanted_state(schemas))
        if ownership == ADOPTED:
            outs[ADOPTION_RECORD] = record_state(record)
        elif created_by:
            outs[CREATED_BY] = created_by
        return pulumi.dynamic.CreateResult(id_=p.resource_id, outs=outs)

    @_explained
    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """The user and what the stack holds in every schema it ever granted in; an empty id if
        the user is gone. A cluster the Data API does not find keeps the resource (it may be a
        transient answer): its grants read as unknown, so the next `pulumi up` checks again."""
        ensure_on_sys_path(self.project_root)
        from clients.data_api import ClusterGoneError  # noqa: PLC0415 - see the class docstring

        if IamrUserProps.from_dict(props).record_only:  # the Job provisions: nothing to read
            return pulumi.dynamic.ReadResult(id_=id_, outs=dict(props))
        try:
            op = self._operation(props, nothing_done=KEPT_BY_READ)
        except AccountUnknownError as unknown:  # no account to check against: read nothing
            pulumi.log.warn(str(unknown))
            return pulumi.dynamic.ReadResult(id_=id_, outs=dict(props))
        p, user, catalog = op.props, op.user, op.catalog
        outs = {key: props[key] for key in (*INPUT_KEYS, OWNERSHIP, CREATED_BY) if key in props}
        record = parse_record(props)
        if record:
            outs[ADOPTION_RECORD] = record_state(record)
        try:
            if not catalog.existing_users([user]):
                # An empty id tells the engine the resource is gone: refresh drops it, up recreates.
                return pulumi.dynamic.ReadResult(id_="", outs={})
        except ClusterGoneError as gone:
            pulumi.log.warn(
                f"{gone} The database user {user!r} is kept in state; the next `pulumi up` "
                "checks again (if the cluster was deleted, run `pulumi destroy` or make it anew)."
            )
            return pulumi.dynamic.ReadResult(id_=id_, outs={**outs, GRANTS: {}})
        touched = _touched(props, record)
        facts = catalog.facts(user, touched)
        outs[GRANTS] = grants_state(facts, p.schemas, p.owner, record)
        if props.get(OWNERSHIP) == CREATED and (unsafe := catalog.unsafe(user)):
            reasons = _reasons(unsafe)
            pulumi.log.warn(messages.drift_warning(user, reasons))
            outs[DRIFT] = reasons
        return pulumi.dynamic.ReadResult(id_=id_, outs=outs)

    def diff(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """Changed inputs; what the stack holds (as last read) differing from what the inputs
        ask for, leftovers in schemas no longer configured included; a user no longer plain."""
        changed = [k for k in INPUT_KEYS if _comparable(olds.get(k)) != _comparable(news.get(k))]
        replaces = [k for k in changed if k in REPLACE_KEYS]
        schemas = news.get("schemas")
        if news.get("provisioner"):  # a record only: the Job reports its own state
            schemas = None
        if (
            GRANTS in olds
            and isinstance(schemas, list | tuple)
            and _kinds(olds[GRANTS]) != _kinds(wanted_state(schemas))
        ):
            changed.append(GRANTS)  # drift found by refresh: update restores what is missing
        if olds.get(DRIFT) and schemas is not None:
            changed.append(DRIFT)  # said by read; update says again what up and destroy do
        # A new user name is another user: the new one is made before the old one goes.
        return pulumi.dynamic.DiffResult(
            changes=bool(changed), replaces=replaces, stables=[], delete_before_replace=False
        )

    @_explained
    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        """Revoke what the stack holds and no longer wants, grant what is missing: one batch."""
        ensure_on_sys_path(self.project_root)
        if IamrUserProps.from_dict(news).record_only:
            return pulumi.dynamic.UpdateResult(outs=_retired(olds, news))
        op = self._operation(news, nothing_done="No SQL was run: nothing was granted or revoked.")
        old, new, user, catalog = IamrUserProps.from_dict(olds), op.props, op.user, op.catalog
        if not catalog.existing_users([user]):
            pulumi.log.warn(
                f"Database user {user!r} was dropped outside Pulumi; creating it again."
            )
            created = self.create(news)
            return pulumi.dynamic.UpdateResult(outs=created.outs)
        schemas = list(new.schemas)
        _require_schemas(catalog, [s for s in schemas if s not in old.schemas], what="grant on")
        record = parse_record(olds)
        touched = _unique([*_touched(olds, record), *schemas])
        facts = catalog.facts(user, touched)
        _warn_missing(
            user, [s for s in touched if s not in facts and s in (*schemas, *old.schemas)]
        )
        owners = catalog.existing_users(_unique([old.owner, new.owner]))
        if new.owner not in owners:
            if new.owner != old.owner:
                raise RefusedChangeError(
                    f"The new owner {new.owner!r} (defaultPrivilegesFor) does not exist: nothing "
                    "was changed. Create it, or set defaultPrivilegesFor to an existing user."
                )
            pulumi.log.warn(
                f"The owner {new.owner!r} no longer exists: its default privileges for {user!r} "
                "are skipped."
            )
        ownership = olds.get(OWNERSHIP)
        if ownership == ADOPTED:  # read what it holds before the stack's first grant there
            for schema in schemas:
                if schema not in record:
                    record[schema] = kept_from(facts.get(schema))
        removed = [s for s in touched if s not in schemas]
        revoke = revocation(facts, removed, old.owner, record)
        if new.owner != old.owner:
            revoke.defaults += revocation(
                facts, [s for s in schemas if s in facts], old.owner, record, kinds=("default",)
            ).defaults
        grant(
            op,
            [s for s in schemas if s in facts],
            facts=facts,
            revoke=revoke,
            owner_exists=new.owner in owners,
        )
        if reasons := olds.get(DRIFT):
            pulumi.log.warn(messages.drift_warning(user, list(reasons)))
        live = [s for s in schemas if s in facts]
        outs = outputs(
            new, ownership=ownership, grants=wanted_state(live, defaults=new.owner in owners)
        )
        if record or ownership == ADOPTED:
            outs[ADOPTION_RECORD] = record_state(record)
        if CREATED_BY in olds:
            outs[CREATED_BY] = olds[CREATED_BY]
        if reasons:
            outs[DRIFT] = list(reasons)
        return pulumi.dynamic.UpdateResult(outs=outs)

    @_explained
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Revoke what this stack granted (never what the record keeps); drop the user only if
        this stack created it and it is still plain, owns nothing and holds nothing else."""
        ensure_on_sys_path(self.project_root)
        from clients.data_api import ClusterGoneError, StatementFailedError  # noqa: PLC0415

        if (record_only := IamrUserProps.from_dict(props)).record_only:
            pulumi.log.warn(
                f"Database user {record_only.user!r} is left as it is: the kubernetes-job "
                "provisioner manages it, and a Job cannot run on destroy (its cleanupSql output "
                "says what to run by hand)."
            )
            return
        op = self._operation(props, nothing_done=KEPT_BY_DELETE)
        p, user, catalog = op.props, op.user, op.catalog
        try:
            if not catalog.existing_users([user]):
                return  # already gone: nothing to undo
        except ClusterGoneError as gone:
            pulumi.log.warn(f"{gone} Nothing to delete: the user {user!r} went with it.")
            return
        record = parse_record(props)
        touched = _touched(props, record)
        facts = catalog.facts(user, touched)
        _warn_missing(user, [s for s in p.schemas if s not in facts])
        owner_exists = p.owner in catalog.existing_users([p.owner])
        if not owner_exists:
            pulumi.log.warn(
                f"The owner {p.owner!r} no longer exists: no default privileges to revoke."
            )
        revoke = revocation(facts, touched, p.owner, record)
        statements = revoke.sql(user)
        ownership, created_by = props.get(OWNERSHIP), None
        if ownership == CREATED:
            if unsafe := catalog.unsafe(user):
                raise RefusedChangeError(messages.not_plain_any_more(user, _reasons(unsafe)))
            owned = catalog.owned_objects(user)
            others = catalog.other_privileges(user, p.owner, _as_grant_set(revoke))
            if owned or others:
                raise RefusedChangeError(messages.still_in_use(user, owned, others))
            statements.append(redshift_sql.drop_user_sql(user))
            created_by = props.get(CREATED_BY) or _created_by(op)  # asked before the drop
        else:
            why = (
                "it existed before this stack adopted it"
                if ownership == ADOPTED
                else "state written by an older version does not say whether this stack made it"
            )
            pulumi.log.warn(
                f"Database user {user!r} is kept ({why}); only the grants this stack made are "
                f"revoked. Drop it by hand if nothing needs it: {redshift_sql.drop_user_sql(user)}"
            )
        if not statements:
            return

        def confirmed() -> bool:
            if ownership == CREATED:
                return not catalog.existing_users([user])
            return revoke.gone(catalog.facts(user, revoke.schemas()))

        try:
            write(op, statements, what="revokes its grants", confirmed=confirmed)
            if ownership == CREATED and created_by:
                leave_tombstone(op, str(created_by))
        except StatementFailedError as failed:
            if failed.statement is not None and failed.statement.startswith("DROP USER"):
                raise ProvisionerError(
                    messages.drop_failed(user, str(p.database), failed.error)
                ) from None
            raise

    # --- helpers ---------------------------------------------------------------------------------

    def _operation(self, props: Mapping[str, Any], *, nothing_done: str) -> Operation:
        """The user's operation, once the credentials are known to be of the stack's account
        (before any Data API call: a same-named cluster of another account is never touched)."""
        p = IamrUserProps.from_dict(props)
        if (named := p.account_arn) is None:
            raise AccountUnknownError(messages.account_unknown(p.user, nothing_done))
        self._caller.require(*named, p.region, nothing_done=nothing_done)
        return Operation(p, Catalog(self._api(p)))

    def _api(self, props: IamrUserProps[str]) -> DataApi:
        from clients.data_api import DataApi, Limits, Target  # noqa: PLC0415

        return DataApi(
            Target(
                cluster_identifier=props.cluster_identifier,
                database=props.database,
                secret_arn=props.secret_arn,
                db_user=props.db_user,
            ),
            region=props.region,
            client=self._client(props.region, float(props.timeout_seconds)),
            # botocore's retries are off (make_client): DataApi re-sends lost answers itself.
            limits=Limits(timeout_seconds=float(props.timeout_seconds), lost_retries=3),
            statement_name=STATEMENT_NAME,
            sleep=self._sleep,
            clock=self._clock,
            end_to_end=True,
        )

    def _client(self, region: str, timeout_seconds: float) -> RedshiftDataClient:
        """The host keeps this provider for the whole deployment: build each client once per
        region and time limit (its connect and read timeouts are no longer than the limit)."""
        from clients.data_api import bounded_client  # noqa: PLC0415

        factory = self._client_factory
        return self._clients.get(
            (region, timeout_seconds),
            lambda: factory(region) if factory else bounded_client(region, timeout_seconds),
        )


def _require_schemas(catalog: Catalog, schemas: Sequence[str], *, what: str) -> None:
    """Fail before any change if a schema to grant on is missing or external."""
    if not schemas:
        return
    missing = [s for s in schemas if s not in catalog.existing_schemas(schemas)]
    if missing:
        raise RefusedChangeError(
            f"Schema(s) {', '.join(map(repr, missing))} do not exist in the database, so there is "
            f"nothing to {what}: nothing was changed. Create them, or remove them from "
            "xpander-redshift:grantSchemas."
        )
    external = catalog.external_schemas(schemas)
    if external:
        names = ", ".join(sorted(map(repr, external)))
        raise RefusedChangeError(
            f"Schema(s) {names} are external (Spectrum) schemas. Redshift does not run GRANT on "
            "an external schema inside a transaction, and this provisioner grants in one "
            "transaction: nothing was changed. Remove them from xpander-redshift:grantSchemas and "
            "grant by hand, outside a transaction: GRANT USAGE ON SCHEMA <schema> TO <user>."
        )


def _retired(olds: Mapping[str, Any], news: Mapping[str, Any]) -> dict[str, Any]:
    """The record kept while the kubernetes-job provisioner manages the user: what this stack
    knows about its ownership survives the switch (and a switch back), and no SQL runs."""
    outs = dict(news)
    for key in (OWNERSHIP, ADOPTION_RECORD, OLDER_RECORD, CREATED_BY):
        if key in olds:
            outs[key] = olds[key]
    if not olds.get("provisioner") and olds.get(OWNERSHIP) == CREATED:
        pulumi.log.warn(
            f"Database user {news.get('user')!r}, created by this stack, is now provisioned by "
            "the kubernetes-job Job; this resource keeps that record and runs no SQL, so the "
            "switch drops nothing."
        )
    return outs


def _created_by(op: Operation) -> str | None:
    """State written before `createdBy`: the statement found by the create's token, if any."""
    try:
        return made_by_this_stack(op)
    except ProvisionerError:
        return None


def _warn_missing(user: str, schemas: Sequence[str]) -> None:
    if schemas:
        pulumi.log.warn(
            f"Schema(s) {', '.join(map(repr, schemas))} no longer exist: the grants of {user!r} "
            "on them are skipped."
        )


def _touched(state: Mapping[str, Any], record: Record) -> list[str]:
    """Every schema the state says the stack ever granted in: configured, holding, recorded."""
    grants = state.get(GRANTS)
    held = list(grants) if isinstance(grants, Mapping) else []
    return _unique([*(state.get("schemas") or []), *held, *record])


def _reasons(unsafe: Mapping[str, Sequence[str]]) -> list[str]:
    return [check.reason(unsafe[check.key]) for check in plain_user.CHECKS if check.key in unsafe]


def _as_grant_set(revoke: Revocation) -> frozenset[tuple[redshift_sql.GrantKind, str]]:
    """The revoke as the catalog's (kind, schema) set, to tell other privileges from ours."""
    found: set[tuple[redshift_sql.GrantKind, str]] = set()
    found.update(("usage", s) for s in revoke.usage)
    found.update(("select", s) for s in revoke.all_tables)
    found.update(("select", s) for s, _ in revoke.tables)
    found.update(("default", s) for s in revoke.defaults)
    return frozenset(found)


def _kinds(value: Any) -> dict[str, frozenset[str]]:
    if not isinstance(value, Mapping):
        return {}
    return {str(s): frozenset(k) for s, k in value.items() if k}


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def outputs(
    p: IamrUserProps[str], *, ownership: str | None, grants: dict[str, list[str]]
) -> dict[str, Any]:
    outs = p.to_dict()
    if ownership is not None:
        outs[OWNERSHIP] = ownership
    outs[GRANTS] = grants
    return outs


def resource_id(props: Mapping[str, Any]) -> str:
    return IamrUserProps.from_dict(props).resource_id


def _comparable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
