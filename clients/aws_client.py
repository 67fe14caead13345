"""One home for the boto3 clients the providers and tools make: a Region, bounded timeouts (so a
dead network cannot hang a deployment) and the retry policy each caller states.

boto3 is imported on first use, which keeps importing the modules that call this cheap in the
Pulumi program's own process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
C = TypeVar("C")


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


class ClientCache(Generic[K, C]):
    """One client per key (a Region, or a Region and a time limit) for the process: a provider
    host keeps its provider for the whole deployment. boto3 builds clients thread-unsafely (hence
    the lock); using one from several threads is safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._made: dict[K, C] = {}

    def get(self, key: K, make: Callable[[], C]) -> C:
        """The client made for `key`, made by `make` the first time."""
        with self._lock:
            if key not in self._made:
                self._made[key] = make()
            return self._made[key]
