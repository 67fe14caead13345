"""One home for the boto3 clients the providers and tools make: a Region, bounded timeouts (so a
dead network cannot hang a deployment) and the retry policy each caller states.

boto3 is imported on first use, which keeps importing the modules that call this cheap in the
Pulumi program's own process.
"""

from __future__ import annotations

from typing import Any


def aws_client(
    service: str,
    region: str,
    *,
    connect_timeout: float,
    read_timeout: float,
    retries: dict[str, Any],
) -> Any:
    """A boto3 `service` client of `region` (its regional endpoint) with these timeouts and
    botocore `retries` (botocore/config.py: `total_max_attempts` counts the first send,
    `max_attempts` does not)."""
    import boto3  # noqa: PLC0415 - only when AWS is asked
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        region_name=region,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries=retries,
    )
    return boto3.client(service, region_name=region, config=config)
