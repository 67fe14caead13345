"""The account of the credentials a dynamic provider calls AWS with, checked before any call.

A dynamic provider calls AWS with boto3's default credential chain of the process running pulumi,
not with the aws provider's `aws:profile` or assume-role (model/aws_account.py). The account those
credentials belong to is what sts:GetCallerIdentity answers ("Returns details about the IAM user
or role whose credentials are used to call the operation"; "No permissions are required to
perform this operation. If an administrator attaches a policy to your identity that explicitly
denies access to the sts:GetCallerIdentity action, you can still perform this operation":
botocore's sts model, GetCallerIdentity). It is asked once per Region per process: the
credentials of a process do not change while the provider host runs one deployment.
`client_factory` is a test seam.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from clients.aws_client import aws_client
from model.aws_account import account_of, wrong_caller
from model.validators import ACCOUNT_ID  # GetCallerIdentity's Account: 12 ASCII digits


class StsClient(Protocol):
    """The part of boto3's `sts` client this module uses (boto3 clients are untyped)."""

    def get_caller_identity(self, **params: Any) -> dict[str, Any]: ...


class WrongAccountError(RuntimeError):
    """The credentials are of another account than the stack's: nothing was called but STS."""


class AccountCheckError(WrongAccountError):
    """sts:GetCallerIdentity failed or gave no answer: the account is not known, and nothing
    else was called."""


def make_client(region: str) -> StsClient:
    """An `sts` client of `region` (its regional endpoint), with timeouts and botocore's retries."""
    client: StsClient = aws_client(
        "sts",
        region,
        connect_timeout=10.0,
        read_timeout=30.0,
        retries={"mode": "standard", "max_attempts": 3},
    )
    return client


class CallerAccount:
    """The account of the credentials this process calls AWS with, asked once per Region: the
    provider keeps one for its process (the host keeps the provider for the whole deployment),
    and a failed call is not kept, so the next one asks again."""

    def __init__(self, client_factory: Callable[[str], StsClient] | None = None) -> None:
        self._client_factory = client_factory or make_client
        self._lock = threading.Lock()
        self._callers: dict[str, tuple[str, str]] = {}  # region: (account, ARN)

    def of(self, region: str) -> tuple[str, str]:
        """(account, ARN) of the credentials, as sts:GetCallerIdentity in `region` answers."""
        with self._lock:
            if region not in self._callers:
                answer = self._identity(region)
                account = answer.get("Account")
                if not (isinstance(account, str) and ACCOUNT_ID.fullmatch(account)):
                    raise AccountCheckError(
                        f"sts:GetCallerIdentity in {region} answered no 12-digit account "
                        f"(Account {account!r}), so the credentials' account is not known: "
                        "nothing was called but STS. Run pulumi again; if it answers the same, "
                        "check the AWS endpoint settings of the process running pulumi."
                    )
                self._callers[region] = (account, str(answer.get("Arn", "")))
            return self._callers[region]

    def _identity(self, region: str) -> dict[str, Any]:
        """GetCallerIdentity's answer; its failure said as STS's, not as the caller's service."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        after = "Nothing was called but STS. Run pulumi again."
        try:
            return self._client_factory(region).get_caller_identity()
        except ClientError as err:
            error = err.response.get("Error", {})
            raise AccountCheckError(
                f"STS GetCallerIdentity in {region} was refused: {error.get('Code')}: "
                f"{str(error.get('Message')).rstrip('.')}. {after}"
            ) from None
        except BotoCoreError as err:
            raise AccountCheckError(
                f"No answer from STS GetCallerIdentity in {region} ({err}). {after}"
            ) from None

    def require(self, key: str, expected_arn: str, region: str, *, nothing_done: str) -> None:
        """Fail, saying both accounts and how to run with the right one, unless the credentials
        are of the account `expected_arn` (the stack's input `key`) names, which it must name."""
        expected = account_of(expected_arn)
        if expected is None:
            raise ValueError(f"{key} {expected_arn!r} names no account")
        account, arn = self.of(region)
        if account != expected:
            raise WrongAccountError(wrong_caller(arn, account, key, expected_arn, nothing_done))
