"""The IamrUser contract: the props the component registers, the provider reads and the plan shows.

Pure (no pulumi import), so the offline plan (tools/plan_views.py) reads the very class the
provider does. The camelCase keys are what Pulumi state holds; each is declared once here, with
whether a change of it names another database user (a replacement).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Generic, TypeVar

from model.aws_account import CLUSTER_ARN, account_of

DEFAULT_TIMEOUT_SECONDS = 300

T = TypeVar("T")
"""What a cluster fact is: `str` in the provider and the plan, a Pulumi Input in the component."""


def _key(name: str, *, replaces: bool = False) -> dict[str, Any]:
    return {"key": name, "replaces": replaces}


@dataclass(frozen=True)
class IamrUserProps(Generic[T]):
    """The inputs of one IamrUser; `to_dict`/`from_dict` are its state form."""

    region: str = field(metadata=_key("region", replaces=True))
    cluster_identifier: T = field(metadata=_key("clusterIdentifier", replaces=True))
    database: T = field(metadata=_key("database", replaces=True))
    user: str = field(metadata=_key("user", replaces=True))
    schemas: tuple[str, ...] = field(metadata=_key("schemas"))
    owner: str = field(metadata=_key("owner"))
    timeout_seconds: int = field(default=DEFAULT_TIMEOUT_SECONDS, metadata=_key("timeoutSeconds"))
    secret_arn: T | None = field(default=None, metadata=_key("secretArn"))
    db_user: T | None = field(default=None, metadata=_key("dbUser"))
    # None: the data-api provisioner manages the user. "kubernetes-job": a psql Job does, and
    # this resource only keeps the record (ownership, adoption record), so a switch between
    # provisioners is an update of this resource, never its delete (which drops a created user).
    provisioner: str | None = field(default=None, metadata=_key("provisioner"))
    # "<project>/<stack>" of the stack that manages the user: part of every ClientToken, so two
    # stacks with otherwise identical inputs never share a statement (each would take the other's
    # create for its own). Absent in state written before it existed: the token is then as it was.
    stack: str | None = field(default=None, metadata=_key("stack"))
    # The cluster's ARN as the aws provider knows it: the account the provider's own credentials
    # (boto3's default chain) must be of before any Data API call (clients/aws_account.py). Not a
    # replace key: state written before it gets it by an in-place update that runs no SQL.
    cluster_arn: T | None = field(default=None, metadata=_key(CLUSTER_ARN))

    def to_dict(self) -> dict[str, Any]:
        """As registered and kept in state; absent optional facts are left out."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            out[f.metadata["key"]] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> IamrUserProps[str]:
        """Read props (or outputs, which repeat them) from state; extra keys are ignored."""
        timeout = values.get("timeoutSeconds") or DEFAULT_TIMEOUT_SECONDS
        schemas: Sequence[Any] = values.get("schemas") or ()
        return IamrUserProps[str](
            region=str(values["region"]),
            cluster_identifier=str(values["clusterIdentifier"]),
            database=str(values["database"]),
            user=str(values["user"]),
            schemas=tuple(str(s) for s in schemas),
            owner=str(values["owner"]),
            timeout_seconds=int(timeout),
            secret_arn=str(values["secretArn"]) if values.get("secretArn") else None,
            db_user=str(values["dbUser"]) if values.get("dbUser") else None,
            provisioner=str(values["provisioner"]) if values.get("provisioner") else None,
            stack=str(values["stack"]) if values.get("stack") else None,
            cluster_arn=str(values[CLUSTER_ARN]) if values.get(CLUSTER_ARN) else None,
        )

    @property
    def record_only(self) -> bool:
        """Whether another provisioner (the kubernetes-job one) manages the user: no SQL here."""
        return self.provisioner is not None

    @property
    def account_arn(self) -> tuple[str, str] | None:
        """(input, ARN) naming the account the Data API calls must reach: the cluster's ARN, or
        in state written before it, the admin secret's (the cluster's managed master password,
        or existingAdminSecretArn); None when neither names an account."""
        for key, arn in ((CLUSTER_ARN, self.cluster_arn), ("secretArn", self.secret_arn)):
            if account_of(arn) is not None:
                return key, str(arn)
        return None

    @property
    def resource_id(self) -> str:
        return f"{self.cluster_identifier}/{self.database}/{self.user}"

    @property
    def token_identity(self) -> str:
        """What a ClientToken is derived from besides the statements: the user, and the stack."""
        return self.resource_id if self.stack is None else f"{self.stack}:{self.resource_id}"


KEYS: dict[str, str] = {f.name: f.metadata["key"] for f in fields(IamrUserProps)}
"""The state key of each field: `KEYS["cluster_identifier"] == "clusterIdentifier"`."""
INPUT_KEYS: tuple[str, ...] = tuple(f.metadata["key"] for f in fields(IamrUserProps))
# Changing any of these means a different database user: the new one is made, then the old goes.
REPLACE_KEYS: tuple[str, ...] = tuple(
    f.metadata["key"] for f in fields(IamrUserProps) if f.metadata["replaces"]
)
