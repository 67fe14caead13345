"""auditLogging = s3: the bucket is looked up at preview and must be in the cluster's Region, as
EnableLogging requires (botocore redshift EnableLogging BucketName: "Must be in the same region as
the cluster"); a bucket of another Region is refused before anything is created, naming the key,
both Regions and the source.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from model.aws_limits import audit_bucket_region_problem
from tests.stack_helpers import one, run_stack

S3 = {"auditLogging": "s3", "auditLogBucket": "audit-logs"}
LOOKUP = "aws:s3/getBucket:getBucket"


def bucket_in(region: str) -> dict[str, Any]:
    return {LOOKUP: lambda a: {"bucket": a["bucket"], "bucketRegion": region, "id": a["bucket"]}}


def test_a_bucket_of_the_stacks_region_is_the_logging_destination() -> None:
    run = run_stack(invokes=bucket_in("us-west-2"), **S3)
    assert [args for token, args in run.invokes if token == LOOKUP] == [{"bucket": "audit-logs"}]
    logging = one(run, "aws:redshift/logging:Logging")
    assert logging.inputs["bucketName"] == "audit-logs"


def test_a_bucket_of_another_region_is_refused_at_preview() -> None:
    with pytest.raises(pulumi.RunError) as err:
        run_stack(invokes=bucket_in("eu-west-1"), **S3)
    message = str(err.value)
    assert message.startswith("xpander-redshift:auditLogBucket = 'audit-logs': ")
    assert "eu-west-1" in message and "us-west-2" in message
    assert "Must be in the same region as the cluster" in message and "EnableLogging" in message


def test_no_lookup_without_s3_audit_logging() -> None:
    run = run_stack(auditLogging="cloudwatch")
    assert LOOKUP not in {token for token, _ in run.invokes}


def test_the_rule_compares_regions_exactly() -> None:
    assert audit_bucket_region_problem("b", "us-west-2", "us-west-2") is None
    assert audit_bucket_region_problem("b", "us-east-1", "us-west-2")
