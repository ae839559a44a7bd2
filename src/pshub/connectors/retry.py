"""Retry transient connector errors with capped exponential backoff, honouring Retry-After.

Only :class:`TransientError` (and its subclasses) is retried; rejections and auth failures
surface at once. Used inside DBOS steps, where sleeping is allowed.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pshub.connectors.errors import RateLimitedError, TransientError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 0.2
    max_delay: float = 5.0
    max_elapsed: float = 60.0  # give up after this long, then the workflow decides
    jitter: float = 0.1

    def delay(self, attempt: int, error: TransientError) -> float:
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            return min(float(error.retry_after), self.max_delay * 4)
        backoff: float = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return backoff * (1 + random.uniform(0, self.jitter))


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy | None = None,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_retry: Callable[[int, TransientError, float], None] | None = None,
) -> T:
    """Call ``fn``; on a transient error wait and call again, within the policy's bounds."""
    policy = policy or RetryPolicy()
    started = clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            return fn()
        except TransientError as error:
            wait = policy.delay(attempt, error)
            out_of_time = clock() - started + wait > policy.max_elapsed
            if attempt >= policy.max_attempts or out_of_time:
                raise
            if on_retry is not None:
                on_retry(attempt, error, wait)
            sleep(wait)
