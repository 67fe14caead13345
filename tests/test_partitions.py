"""model.partitions: a region's partition and DNS suffix as the AWS SDK derives them.

Expected values are AWS's own documentation, not botocore's file read back:
- ARN partitions `aws`, `aws-cn`, `aws-us-gov` (IAM User Guide, "IAM identifiers", ARN format:
  "partition ... aws-cn for China Regions, aws-us-gov for AWS GovCloud (US) Regions").
- China endpoints end in `amazonaws.com.cn` (AWS General Reference, "Amazon Web Services in
  China": e.g. `redshift.cn-north-1.amazonaws.com.cn`); GovCloud's in `amazonaws.com`
  (`redshift.us-gov-west-1.amazonaws.com`).
"""

from __future__ import annotations

import pytest

from model.partitions import (
    Partition,
    closest_regions,
    known_regions,
    partition_names,
    partition_of,
    region_problem,
)


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("us-west-2", Partition("aws", "amazonaws.com")),
        ("eu-central-1", Partition("aws", "amazonaws.com")),
        ("us-gov-west-1", Partition("aws-us-gov", "amazonaws.com")),
        ("us-gov-east-1", Partition("aws-us-gov", "amazonaws.com")),
        ("cn-north-1", Partition("aws-cn", "amazonaws.com.cn")),
        ("cn-northwest-1", Partition("aws-cn", "amazonaws.com.cn")),
    ],
)
def test_a_region_has_its_partition_and_dns_suffix(region, expected):
    assert partition_of(region) == expected
    assert region_problem(region) is None


def test_an_unlisted_region_follows_the_sdks_patterns_but_is_refused():
    """The SDK maps `us-gov-west-9` to GovCloud by pattern; nothing runs there, so the gate
    refuses it and names the closest regions that exist."""
    assert partition_of("us-gov-west-9").name == "aws-us-gov"
    problem = region_problem("us-west-9")
    assert problem is not None
    assert "did you mean us-west-2, us-west-1" in problem


def test_a_region_no_partition_resembles_is_refused_without_a_guess():
    assert region_problem("xx") == (
        "is not a region any AWS partition lists (see `aws ec2 describe-regions`)"
    )
    assert closest_regions("xx") == []


def test_reverse_dns_prefix_is_the_suffix_reversed():
    assert partition_of("cn-north-1").reverse_dns_prefix == "cn.com.amazonaws"


def test_the_lists_hold_regions_and_partitions_only():
    regions = known_regions()
    assert {"us-east-1", "us-gov-west-1", "cn-north-1"} <= set(regions)
    assert not [r for r in regions if r.endswith("-global")]  # botocore's pseudo-regions
    assert {"aws", "aws-cn", "aws-us-gov"} <= set(partition_names())
