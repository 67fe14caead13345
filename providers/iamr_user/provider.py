"""The data-api provisioner: a Pulumi dynamic provider for the IAMR user over the Redshift Data API.

The provider runs in Pulumi's own dynamic-provider process; see `_provider_loader` for how it gets
there. State written by earlier versions names `components.iamr_user_provider` and
`components.database_user`: both re-export `IamrUserProvider` from here (thin shims).
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import pulumi
import pulumi.dynamic

from model import plain_user
from model import sql as redshift_sql
from providers.iamr_user.catalog import (
    Catalog,
    GrantSet,
    all_grants,
    grant_plan,
    grants_state,
    parse_grants,
)
from providers.iamr_user.props import (
    DEFAULT_TIMEOUT_SECONDS,
    INPUT_KEYS,
    REPLACE_KEYS,
)

if TYPE_CHECKING:
    from clients.data_api import DataApi, RedshiftDataClient

P = ParamSpec("P")
R = TypeVar("R")

PROJECT_ROOT = str(Path(__file__).resolve().parents[2])
PACKAGE = "providers"  # the directory that marks the project root
STATEMENT_NAME = "xpander-redshift/iamr-user"  # how our statements show in ListStatements

# What the provider records besides its inputs.
OWNERSHIP = "ownership"  # CREATED or ADOPTED; absent in state written before it existed
CREATED, ADOPTED = "created", "adopted"
GRANTS = "grants"  # {schema: [kind, ...]}: the grants that exist, as last read or written
KEPT_GRANTS = "grantsBeforeAdoption"  # what an adopted user already had: never revoked
STATE_KEYS = (OWNERSHIP, GRANTS, KEPT_GRANTS)


class RefusedChangeError(RuntimeError):
    """Refused before any change; the message says what is unsafe or missing, and what to do."""


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


def _reads_explained(method: Callable[P, R]) -> Callable[P, R]:
    """A lost answer to a read becomes a ResponseLostError saying so, not botocore's exception."""

    @functools.wraps(method)
    def explained(*args: P.args, **kwargs: P.kwargs) -> R:
        from clients.data_api import LOST_ANSWER_ERRORS, ResponseLostError  # noqa: PLC0415

        try:
            return method(*args, **kwargs)
        except LOST_ANSWER_ERRORS as err:
            raise ResponseLostError(str(err), submitting=False) from None

    return explained


class IamrUserProvider(pulumi.dynamic.ResourceProvider):
    """create / read / diff / update / delete of the IAMR user over the Redshift Data API.

    Rules (docs/database-user.md): an existing user is adopted only when plain; delete drops
    only a user this stack created; read reports the grants that exist, so drift shows and update
    restores exactly what is missing; every write is one BatchExecuteStatement (one transaction);
    a cluster, schema or owner gone out of band never leaves the resource stuck.

    Pickled as `_provider_loader()(project_root)` (see `__reduce__`), so loading it in the provider
    process already puts the project on sys.path. `clients.data_api` is imported inside the
    methods, which keeps boto3 out of the Pulumi program's own process. `client_factory`, `sleep`
    and `clock` are test seams; they are not pickled.
    """

    def __init__(
        self,
        project_root: str = PROJECT_ROOT,
        *,
        client_factory: Callable[[str], RedshiftDataClient] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.project_root = project_root
        self._client_factory = client_factory
        self._clients: dict[str, RedshiftDataClient] = {}  # one per region, for the process
        self._clients_lock = threading.Lock()
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

    @_reads_explained
    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        ensure_on_sys_path(self.project_root)
        catalog = Catalog(self._api(props))
        user, owner, schemas = props["user"], props["owner"], list(props["schemas"])
        _require_schemas(catalog, schemas, what="grant on")
        if owner not in catalog.existing_users([owner]):
            raise RefusedChangeError(
                f"The owner {owner!r} (defaultPrivilegesFor) does not exist in database "
                f"{props['database']!r}: nothing was changed. Create it, or set "
                "xpander-redshift:defaultPrivilegesFor to the user that creates the tables."
            )
        if user not in catalog.existing_users([user]):
            ownership, before = CREATED, GrantSet()
            statements = [redshift_sql.create_user_sql(user)]
        elif unsafe := catalog.unsafe(user):
            raise RefusedChangeError(plain_user.refusal(user, unsafe))
        else:
            ownership, before = ADOPTED, catalog.grants(user, schemas, owner)
            statements = []
        wanted = all_grants(schemas)
        statements += redshift_sql.grants_sql(user, owner, grant_plan(wanted - before, schemas))
        if statements:
            self._write(
                catalog,
                statements,
                done=lambda: (
                    bool(catalog.existing_users([user]))
                    and catalog.grants(user, schemas, owner) == wanted
                ),
            )
        outs = outputs(props, ownership=ownership, grants=wanted)
        if ownership == ADOPTED:
            outs[KEPT_GRANTS] = grants_state(before)
        return pulumi.dynamic.CreateResult(id_=resource_id(props), outs=outs)

    @_reads_explained
    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        """The user and the grants that really exist; an empty id if the user or cluster is gone."""
        ensure_on_sys_path(self.project_root)
        from clients.data_api import ClusterGoneError  # noqa: PLC0415 - see the class docstring

        catalog = Catalog(self._api(props))
        user, owner, schemas = props["user"], props["owner"], list(props["schemas"])
        try:
            if not catalog.existing_users([user]):
                # An empty id tells the engine the resource is gone: refresh drops it, up recreates.
                return pulumi.dynamic.ReadResult(id_="", outs={})
        except ClusterGoneError as gone:
            pulumi.log.warn(f"{gone} The database user {user!r} went with it.")
            return pulumi.dynamic.ReadResult(id_="", outs={})
        present = catalog.existing_schemas(schemas)
        owner_exists = owner in catalog.existing_users([owner])
        granted = catalog.grants(user, [s for s in schemas if s in present], owner, owner_exists)
        outs = {key: props[key] for key in (*INPUT_KEYS, *STATE_KEYS) if key in props}
        outs[GRANTS] = grants_state(granted)
        return pulumi.dynamic.ReadResult(id_=id_, outs=outs)

    def diff(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        """Changed inputs, or grants (as last read) that differ from what the inputs ask for."""
        changed = [k for k in INPUT_KEYS if _comparable(olds.get(k)) != _comparable(news.get(k))]
        replaces = [k for k in changed if k in REPLACE_KEYS]
        schemas = news.get("schemas")
        if (
            GRANTS in olds
            and isinstance(schemas, list | tuple)
            and parse_grants(olds[GRANTS]) != all_grants(list(schemas))
        ):
            changed.append(GRANTS)  # drift found by refresh: update restores what is missing
        return pulumi.dynamic.DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=[],
            delete_before_replace=bool(replaces),
        )

    @_reads_explained
    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        """Revoke what the stack granted and no longer wants, grant what is missing: one batch."""
        ensure_on_sys_path(self.project_root)
        catalog = Catalog(self._api(news))
        user = news["user"]
        if not catalog.existing_users([user]):
            pulumi.log.warn(
                f"Database user {user!r} was dropped outside Pulumi; creating it again."
            )
            created = self.create(news)
            return pulumi.dynamic.UpdateResult(outs=created.outs)

        old_owner, owner = olds["owner"], news["owner"]
        old_schemas, schemas = list(olds["schemas"]), list(news["schemas"])
        added = [s for s in schemas if s not in old_schemas]
        _require_schemas(catalog, added, what="grant on")
        present = catalog.existing_schemas(_unique([*old_schemas, *schemas]))
        _warn_missing(user, [s for s in _unique([*old_schemas, *schemas]) if s not in present])
        owners = catalog.existing_users(_unique([old_owner, owner]))
        if owner not in owners:
            if owner != old_owner:
                raise RefusedChangeError(
                    f"The new owner {owner!r} (defaultPrivilegesFor) does not exist: nothing was "
                    "changed. Create it, or set defaultPrivilegesFor to an existing user."
                )
            pulumi.log.warn(
                f"The owner {owner!r} no longer exists: its default privileges for {user!r} "
                "are skipped."
            )
        kept = parse_grants(olds.get(KEPT_GRANTS))
        old_live = [s for s in old_schemas if s in present]
        new_live = [s for s in schemas if s in present]
        had = catalog.grants(user, old_live, old_owner, old_owner in owners)
        has = catalog.grants(user, new_live, owner, owner in owners)
        wanted = all_grants(new_live, defaults=owner in owners)
        # Revoke only what this stack granted: grants in schemas no longer configured, and the old
        # owner's default privileges when the owner changes; never what an adopted user had.
        revoke = frozenset(
            (kind, schema)
            for kind, schema in had - kept
            if schema not in schemas or (kind == "default" and owner != old_owner)
        )
        statements = [
            *redshift_sql.revokes_sql(user, old_owner, grant_plan(revoke, old_schemas)),
            *redshift_sql.grants_sql(user, owner, grant_plan(wanted - has, schemas)),
        ]
        if statements:
            self._write(
                catalog,
                statements,
                done=lambda: catalog.grants(user, new_live, owner, owner in owners) == wanted,
            )
        if owner != old_owner:
            kept = frozenset(g for g in kept if g[0] != "default")
        outs = outputs(news, ownership=olds.get(OWNERSHIP), grants=wanted)
        kept = frozenset(g for g in kept if g[1] in schemas)
        if kept or olds.get(KEPT_GRANTS) is not None:
            outs[KEPT_GRANTS] = grants_state(kept)
        return pulumi.dynamic.UpdateResult(outs=outs)

    @_reads_explained
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Revoke what this stack granted; drop the user only if this stack created it."""
        ensure_on_sys_path(self.project_root)
        from clients.data_api import ClusterGoneError  # noqa: PLC0415

        catalog = Catalog(self._api(props))
        user, owner, schemas = props["user"], props["owner"], list(props["schemas"])
        try:
            if not catalog.existing_users([user]):
                return  # already gone: nothing to undo
        except ClusterGoneError as gone:
            pulumi.log.warn(f"{gone} Nothing to delete: the user {user!r} went with it.")
            return
        present = catalog.existing_schemas(schemas)
        _warn_missing(user, [s for s in schemas if s not in present])
        owner_exists = owner in catalog.existing_users([owner])
        if not owner_exists:
            pulumi.log.warn(
                f"The owner {owner!r} no longer exists: no default privileges to revoke."
            )
        live = [s for s in schemas if s in present]
        ours = catalog.grants(user, live, owner, owner_exists) - parse_grants(
            props.get(KEPT_GRANTS)
        )
        statements = redshift_sql.revokes_sql(user, owner, grant_plan(ours, schemas))
        ownership = props.get(OWNERSHIP)
        if ownership == CREATED:
            owned = catalog.owned_objects(user)
            others = catalog.other_privileges(user, owner, ours)
            if owned or others:
                raise RefusedChangeError(_still_in_use_message(user, owned, others))
            statements.append(redshift_sql.drop_user_sql(user))
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

        def done() -> bool:
            if ownership == CREATED:
                return not catalog.existing_users([user])
            return not catalog.grants(user, live, owner, owner_exists) & ours

        self._write(catalog, statements, done=done)

    # --- helpers ---------------------------------------------------------------------------------

    def _api(self, props: Mapping[str, Any]) -> DataApi:
        from clients.data_api import DataApi, Limits, Target  # noqa: PLC0415

        region = props["region"]
        return DataApi(
            Target(
                cluster_identifier=props["clusterIdentifier"],
                database=props["database"],
                secret_arn=props.get("secretArn") or None,
                db_user=props.get("dbUser") or None,
            ),
            region=region,
            client=self._client(region),
            limits=Limits(
                timeout_seconds=float(props.get("timeoutSeconds") or DEFAULT_TIMEOUT_SECONDS)
            ),
            statement_name=STATEMENT_NAME,
            sleep=self._sleep,
            clock=self._clock,
        )

    def _client(self, region: str) -> RedshiftDataClient:
        """The host keeps this provider for the whole deployment: build each client once."""
        from clients.data_api import make_client  # noqa: PLC0415

        factory = self._client_factory or make_client
        with self._clients_lock:  # boto3 builds clients thread-unsafely; using one is safe
            if region not in self._clients:
                self._clients[region] = factory(region)
            return self._clients[region]

    @staticmethod
    def _write(catalog: Catalog, statements: Sequence[str], *, done: Callable[[], object]) -> None:
        """Run `statements` as one BatchExecuteStatement, i.e. one transaction.

        If the answer is lost after botocore's retries (each with the same ClientToken, so the
        batch ran at most once), the database says whether it took effect: `done()` is asked, and
        only if it is false does the error reach the user, saying what is known.
        """
        from clients.data_api import (  # noqa: PLC0415
            LOST_ANSWER_ERRORS,
            MAX_BATCH_STATEMENTS,
            ResponseLostError,
        )

        if len(statements) > MAX_BATCH_STATEMENTS:  # at most 3 revokes + 3 grants + the user
            raise AssertionError(f"{len(statements)} statements do not fit one batch")
        try:
            catalog.api.run_batch(statements)
        except LOST_ANSWER_ERRORS as err:
            lost = ResponseLostError(str(err), submitting=True)
            if _settled(done):
                pulumi.log.warn(f"{lost} The database shows that the batch took effect.")
                return
            raise ResponseLostError(
                f"{err}; the database does not show the batch's effect, so nothing is "
                "half-done: run `pulumi refresh` and `pulumi up` again",
                submitting=True,
            ) from None


def _settled(done: Callable[[], object]) -> bool:
    """Whether the database shows the effect; no answer to the question counts as no."""
    from clients.data_api import LOST_ANSWER_ERRORS, DataApiError  # noqa: PLC0415

    try:
        return bool(done())
    except (DataApiError, *LOST_ANSWER_ERRORS):
        return False


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


def _warn_missing(user: str, schemas: Sequence[str]) -> None:
    if schemas:
        pulumi.log.warn(
            f"Schema(s) {', '.join(map(repr, schemas))} no longer exist: the grants of {user!r} "
            "on them are skipped."
        )


def _still_in_use_message(user: str, owned: Sequence[str], others: Sequence[str]) -> str:
    quoted = redshift_sql.quote_identifier(user, kind="user")
    lines = [
        f"Database user {user!r} was created by this stack but is not dropped: nothing was changed."
    ]
    if owned:
        lines += [
            "It owns: " + ", ".join(owned) + ".",
            "Hand each over (Redshift has no REASSIGN OWNED): ALTER TABLE <schema>.<table> OWNER "
            "TO <user>; ALTER SCHEMA <schema> OWNER TO <user>; or drop what is no longer needed.",
        ]
    if others:
        lines += [
            "It holds privileges this stack did not grant: " + "; ".join(others) + ".",
            f"Revoke them (e.g. REVOKE ALL ON <table> FROM {quoted}) if they are not needed.",
        ]
    lines.append(
        "Then run `pulumi destroy` again; or, to keep the user, remove it from the stack without "
        "touching the database: `pulumi state delete <urn of the IamrUser>`."
    )
    return "\n".join(lines)


def _unique(items: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(items))


def resource_id(props: Mapping[str, Any]) -> str:
    return f"{props['clusterIdentifier']}/{props['database']}/{props['user']}"


def outputs(props: Mapping[str, Any], *, ownership: str | None, grants: GrantSet) -> dict[str, Any]:
    outs = {key: props[key] for key in INPUT_KEYS if key in props}
    if ownership is not None:
        outs[OWNERSHIP] = ownership
    outs[GRANTS] = grants_state(grants)
    return outs


def _comparable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
