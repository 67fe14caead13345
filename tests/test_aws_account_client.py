"""clients/aws_account.py: an answer of sts:GetCallerIdentity with no 12-digit Account is refused
in our words (nothing kept, the next call asks again), not a KeyError nor an account 'None'."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from clients.aws_account import AccountCheckError, CallerAccount, WrongAccountError

STACK_ARN = "arn:aws:redshift:us-west-2:123456789012:cluster:xpander"


class FakeSts:
    def __init__(self, answers: list[dict[str, Any]]) -> None:
        self.answers = answers
        self.calls = 0

    def get_caller_identity(self, **params: Any) -> dict[str, Any]:
        self.calls += 1
        return self.answers.pop(0)


@pytest.mark.parametrize(
    "answer",
    [
        {"Arn": "arn:aws:iam::123456789012:user/u"},
        {"Account": None, "Arn": "arn:aws:iam::123456789012:user/u"},
        {"Account": "", "Arn": "arn:aws:iam::123456789012:user/u"},
        {"Account": "12345678901", "Arn": "arn:aws:iam::12345678901:user/u"},
        {"Account": "\uff11" * 12, "Arn": "x"},  # FULLWIDTH DIGIT ONE, not ASCII
    ],
)
def test_an_answer_without_a_12_digit_account_is_refused_and_not_kept(
    answer: dict[str, Any],
) -> None:
    good = {"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/u"}
    sts = FakeSts([answer, good])
    caller = CallerAccount(client_factory=lambda region: sts)
    with pytest.raises(WrongAccountError) as refused:
        caller.require("clusterArn", STACK_ARN, "us-west-2", nothing_done="Nothing was done.")
    assert "sts:GetCallerIdentity in us-west-2 answered no 12-digit account" in str(refused.value)
    caller.require("clusterArn", STACK_ARN, "us-west-2", nothing_done="Nothing was done.")
    assert sts.calls == 2


def test_a_throttled_or_unreachable_sts_is_said_as_sts_and_not_kept() -> None:
    """Not botocore's exception (the Data API provider would say it as the Data API's)."""
    from botocore.exceptions import EndpointConnectionError  # noqa: PLC0415

    class Down:
        def get_caller_identity(self, **params: Any) -> dict[str, Any]:
            raise EndpointConnectionError(endpoint_url="https://sts.us-west-2.amazonaws.com/")

    sts = boto3.client(
        "sts", region_name="us-west-2", aws_access_key_id="t", aws_secret_access_key="t"
    )
    with Stubber(sts) as stub:
        stub.add_client_error("get_caller_identity", "Throttling", "Rate exceeded", 400)
        with pytest.raises(AccountCheckError) as refused:
            CallerAccount(lambda region: sts).of("us-west-2")
    assert str(refused.value) == (
        "STS GetCallerIdentity in us-west-2 was refused: Throttling: Rate exceeded. "
        "Nothing was called but STS. Run pulumi again."
    )
    with pytest.raises(AccountCheckError) as unanswered:
        CallerAccount(lambda region: Down()).of("us-west-2")
    assert str(unanswered.value).startswith(
        "No answer from STS GetCallerIdentity in us-west-2 (Could not connect to the endpoint URL"
    )
