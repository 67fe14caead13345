"""AWS partitions: a region's partition and DNS suffix, the way the AWS SDK derives them.

The data is botocore's own `botocore/data/partitions.json` (the file its endpoint resolver reads),
so the offline plan and the settings gate agree with the SDK the program deploys with. The SDK's
rule (botocore.endpoint_provider.RuleSetStandardLibrary.aws_partition): a region listed by a
partition belongs to it; otherwise the first partition whose `regionRegex` matches; otherwise
`aws`. A region no partition lists is refused by `region_problem`, naming the closest known ones.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass
from typing import Any

from botocore.loaders import create_loader

# botocore lists a pseudo-region per partition for its global endpoints (`aws-global`,
# `aws-cn-global`, ...): not a region a cluster can live in.
_GLOBAL_SUFFIX = "-global"
MAX_SUGGESTIONS = 3


@dataclass(frozen=True)
class Partition:
    """What an ARN and an endpoint host take from the region's partition."""

    name: str  # `aws`, `aws-us-gov`, `aws-cn`, ... (the second field of an ARN)
    dns_suffix: str  # `amazonaws.com`, `amazonaws.com.cn`, ...

    @property
    def reverse_dns_prefix(self) -> str:
        """`com.amazonaws` for `amazonaws.com` (what `aws.get_partition()` also answers)."""
        return ".".join(reversed(self.dns_suffix.split(".")))


@dataclass(frozen=True)
class _Entry:
    partition: Partition
    regex: re.Pattern[str]
    regions: frozenset[str]


@functools.cache
def _entries() -> tuple[_Entry, ...]:
    data: dict[str, Any] = create_loader().load_data("partitions")
    return tuple(
        _Entry(
            Partition(str(p["id"]), str(p["outputs"]["dnsSuffix"])),
            re.compile(str(p["regionRegex"])),
            frozenset(r for r in p["regions"] if not r.endswith(_GLOBAL_SUFFIX)),
        )
        for p in data["partitions"]
    )


def partition_of(region: str) -> Partition:
    """The region's partition, as the SDK resolves it (listed region, then regex, then `aws`)."""
    entries = _entries()
    for entry in entries:
        if region in entry.regions:
            return entry.partition
    for entry in entries:
        if entry.regex.match(region):
            return entry.partition
    return entries[0].partition


def known_regions() -> tuple[str, ...]:
    """Every region botocore's partition data lists, sorted."""
    return tuple(sorted(r for entry in _entries() for r in entry.regions))


def closest_regions(region: str, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """The known regions whose names are closest to `region`, closest first."""
    return difflib.get_close_matches(region, known_regions(), n=limit, cutoff=0.5)


def region_problem(region: str) -> str | None:
    """None for a region botocore lists; else the rule broken and the closest known regions.

    A region that only matches a partition's pattern (`us-west-9`) is refused: the SDK would
    resolve it to endpoints that do not exist, and the stack would fail mid-deploy.
    """
    if region in known_regions():
        return None
    written = region.strip().lower()
    if written in known_regions():  # `US-WEST-2`, ` us-west-2`: AWS spells regions one way
        return (
            f"is not a region any AWS partition lists (did you mean {written}? region names "
            "are lower case)"
        )
    close = closest_regions(written)
    hint = f"did you mean {', '.join(close)}?" if close else "see `aws ec2 describe-regions`"
    return f"is not a region any AWS partition lists ({hint})"


def partition_names() -> tuple[str, ...]:
    """Every partition's name (`aws`, `aws-cn`, `aws-us-gov`, ...), as ARNs spell them."""
    return tuple(entry.partition.name for entry in _entries())
