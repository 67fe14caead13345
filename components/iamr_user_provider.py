"""The data-api provisioner: a Pulumi dynamic provider for the IAMR user over the Redshift Data API.

The provider runs in Pulumi's own dynamic-provider process; see `_provider_loader` for how it gets
there. `components.database_user` re-exports `IamrUserProvider`, the path that existing stack
state names.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi.dynamic

from model import sql as redshift_sql
from model.resource_types import IAMR_USER_MODULE, IAMR_USER_NAME

if TYPE_CHECKING:
    from components.data_api import DataApi, RedshiftDataClient

DEFAULT_TIMEOUT_SECONDS = 300
PROJECT_ROOT = str(Path(__file__).resolve().parent.parent)
STATEMENT_NAME = "xpander-redshift/iamr-user"  # how our statements show in ListStatements

# Changing any of these means a different database user: delete the old one, create the new one.
REPLACE_KEYS = ("region", "clusterIdentifier", "database", "user")
INPUT_KEYS = (*REPLACE_KEYS, "schemas", "owner", "secretArn", "dbUser", "timeoutSeconds")


def ensure_on_sys_path(project_root: str) -> None:
    """Make `components` importable in the provider process, whatever its working directory."""
    if os.path.isdir(os.path.join(project_root, "components")) and project_root not in sys.path:
        sys.path.insert(0, project_root)


def _provider_loader() -> Callable[[str], Any]:
    """The function that rebuilds an IamrUserProvider inside Pulumi's dynamic provider process.

    Pulumi stores the provider in the state with dill, which pickles any class or function it can
    import by reference (module and name). The provider process runs `python -m pulumi.dynamic`
    where `components` may not be importable, so a by-reference IamrUserProvider would fail to
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
            if os.path.isdir(os.path.join(root, "components")):
                if root not in sys.path:
                    sys.path.insert(0, root)
                break
        module = importlib.import_module("components.iamr_user_provider")
        return module.IamrUserProvider(project_root)

    return load_iamr_user_provider


class IamrUserProvider(pulumi.dynamic.ResourceProvider):
    """create / read / diff / update / delete of the IAMR user over the Redshift Data API.

    Pickled as `_provider_loader()(project_root)` (see `__reduce__`), so loading it in the provider
    process already puts the project on sys.path. Every method still makes sure of that and imports
    `components.data_api` / `model.sql` inside itself, which also keeps boto3 out of
    the Pulumi program's own process. `client_factory`, `sleep` and `clock` are test seams; they
    are not pickled.
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
        self._sleep = sleep
        self._clock = clock

    def __reduce__(self) -> tuple[Callable[[str], Any], tuple[str]]:
        return (_provider_loader(), (self.project_root,))

    # --- lifecycle -------------------------------------------------------------------------------

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> pulumi.dynamic.CheckResult:
        ensure_on_sys_path(self.project_root)
        from model import sql  # noqa: PLC0415 - see the class docstring

        failures = []
        for key in ("user", "owner"):
            value = news.get(key)
            if isinstance(value, str) and (problem := sql.identifier_problem(value, kind="user")):
                failures.append(pulumi.dynamic.CheckFailure(key, f"{value!r}: {problem}"))
        for schema in news.get("schemas") or []:
            if isinstance(schema, str) and (problem := sql.identifier_problem(schema)):
                failures.append(pulumi.dynamic.CheckFailure("schemas", f"{schema!r}: {problem}"))
        return pulumi.dynamic.CheckResult(news, failures)

    def create(self, props: dict[str, Any]) -> pulumi.dynamic.CreateResult:
        ensure_on_sys_path(self.project_root)
        from model import sql  # noqa: PLC0415

        api = self._api(props)
        user, schemas, owner = props["user"], list(props["schemas"]), props["owner"]
        exists = self._user_exists(api, user)
        self._run(api, sql.provisioning_statements(user, schemas, owner, user_exists=exists))
        return pulumi.dynamic.CreateResult(id_=resource_id(props), outs=outputs(props))

    def read(self, id_: str, props: dict[str, Any]) -> pulumi.dynamic.ReadResult:
        ensure_on_sys_path(self.project_root)
        api = self._api(props)
        if not self._user_exists(api, props["user"]):
            # An empty id tells the engine the resource is gone: refresh drops it, up recreates it.
            return pulumi.dynamic.ReadResult(id_="", outs={})
        return pulumi.dynamic.ReadResult(id_=id_, outs=outputs(props))

    def diff(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.DiffResult:
        ensure_on_sys_path(self.project_root)
        changed = [k for k in INPUT_KEYS if _comparable(olds.get(k)) != _comparable(news.get(k))]
        replaces = [k for k in changed if k in REPLACE_KEYS]
        return pulumi.dynamic.DiffResult(
            changes=bool(changed),
            replaces=replaces,
            stables=[],
            delete_before_replace=bool(replaces),
        )

    def update(
        self, id_: str, olds: dict[str, Any], news: dict[str, Any]
    ) -> pulumi.dynamic.UpdateResult:
        ensure_on_sys_path(self.project_root)
        from model import sql  # noqa: PLC0415

        user = news["user"]
        statements = grant_changes(
            user,
            old_schemas=list(olds["schemas"]),
            new_schemas=list(news["schemas"]),
            old_owner=olds["owner"],
            new_owner=news["owner"],
        )
        if statements:
            api = self._api(news)
            if not self._user_exists(api, user):  # dropped behind our back: provision it afresh
                statements = sql.provisioning_statements(
                    user, list(news["schemas"]), news["owner"], user_exists=False
                )
            self._run(api, statements)
        return pulumi.dynamic.UpdateResult(outs=outputs(news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        ensure_on_sys_path(self.project_root)
        from model import sql  # noqa: PLC0415

        api = self._api(props)
        user = props["user"]
        if not self._user_exists(api, user):
            return  # already gone: nothing to undo
        self._run(api, sql.deprovisioning_statements(user, list(props["schemas"]), props["owner"]))

    # --- helpers ---------------------------------------------------------------------------------

    def _api(self, props: Mapping[str, Any]) -> DataApi:
        from components.data_api import DataApi, Limits, Target  # noqa: PLC0415

        region = props["region"]
        return DataApi(
            Target(
                cluster_identifier=props["clusterIdentifier"],
                database=props["database"],
                secret_arn=props.get("secretArn") or None,
                db_user=props.get("dbUser") or None,
            ),
            region=region,
            client=self._client_factory(region) if self._client_factory else None,
            limits=Limits(
                timeout_seconds=float(props.get("timeoutSeconds") or DEFAULT_TIMEOUT_SECONDS)
            ),
            statement_name=STATEMENT_NAME,
            sleep=self._sleep,
            clock=self._clock,
        )

    @staticmethod
    def _user_exists(api: DataApi, user: str) -> bool:
        from components.data_api import DataApiError  # noqa: PLC0415
        from model import sql  # noqa: PLC0415

        count = api.scalar(sql.user_exists_sql(user))
        if not isinstance(count, int | float) or isinstance(count, bool):
            raise DataApiError(f"expected a count from the user check, got {count!r}")
        return count > 0

    @staticmethod
    def _run(api: DataApi, statements: Sequence[str]) -> None:
        """One transaction per BatchExecuteStatement; over 40 statements take several batches
        (each statement is idempotent, so a re-run after a partial failure converges)."""
        from components.data_api import MAX_BATCH_STATEMENTS  # noqa: PLC0415

        for start in range(0, len(statements), MAX_BATCH_STATEMENTS):
            api.run_batch(statements[start : start + MAX_BATCH_STATEMENTS])


def grant_changes(
    user: str,
    *,
    old_schemas: Sequence[str],
    new_schemas: Sequence[str],
    old_owner: str,
    new_owner: str,
) -> list[str]:
    """The SQL that turns the old grants into the new ones, and nothing else."""
    if old_owner != new_owner:  # default privileges are per owner: move every schema over
        return [
            *redshift_sql.revoke_statements(user, old_schemas, old_owner),
            *redshift_sql.grant_statements(user, new_schemas, new_owner),
        ]
    removed = [s for s in old_schemas if s not in new_schemas]
    added = [s for s in new_schemas if s not in old_schemas]
    return [
        *redshift_sql.revoke_statements(user, removed, old_owner),
        *redshift_sql.grant_statements(user, added, new_owner),
    ]


def resource_id(props: Mapping[str, Any]) -> str:
    return f"{props['clusterIdentifier']}/{props['database']}/{props['user']}"


def outputs(props: Mapping[str, Any]) -> dict[str, Any]:
    return {key: props[key] for key in INPUT_KEYS if key in props}


def _comparable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


class IamrUser(pulumi.dynamic.Resource, module=IAMR_USER_MODULE, name=IAMR_USER_NAME):
    """The dynamic resource: type token `pulumi-python:dynamic/xpander:IamrUser`."""

    user: pulumi.Output[str]

    def __init__(
        self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(IamrUserProvider(PROJECT_ROOT), name, props, opts)
