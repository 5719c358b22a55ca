"""Where tasks run: in local processes, or on a Ray cluster. One small interface for both."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any, Protocol, TypeVar

from agent.errors import UsageError

Item = TypeVar("Item")


class Executor(Protocol):
    """Runs ``function`` on every item and yields ``(item, result)`` as each one finishes."""

    def map(
        self, function: Callable[[Item], dict[str, Any]], items: Sequence[Item]
    ) -> Iterator[tuple[Item, dict[str, Any]]]: ...


class LocalExecutor:
    """``jobs`` worker processes; with one job, in this process (Ctrl-C stops it at once)."""

    def __init__(self, jobs: int = 1) -> None:
        self.jobs = jobs

    def map(
        self, function: Callable[[Item], dict[str, Any]], items: Sequence[Item]
    ) -> Iterator[tuple[Item, dict[str, Any]]]:
        if self.jobs == 1:
            for item in items:
                yield item, function(item)
            return
        # spawn, not fork: the parent has threads (progress display), and a forked child
        # would inherit their locks mid-use.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(self.jobs, mp_context=context) as pool:
            pending: dict[Future[dict[str, Any]], Item] = {
                pool.submit(function, item): item for item in items
            }
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        yield pending.pop(future), future.result()
            finally:
                for future in pending:
                    future.cancel()


class RayExecutor:
    """Tasks as Ray remote functions: on the cluster at ``address``, or on a local instance
    started for the run (``address=None``) with ``jobs`` CPUs. Each task takes one CPU."""

    def __init__(self, address: str | None = None, jobs: int = 1) -> None:
        self.address = address
        self.jobs = jobs

    def map(
        self, function: Callable[[Item], dict[str, Any]], items: Sequence[Item]
    ) -> Iterator[tuple[Item, dict[str, Any]]]:
        try:
            import ray
        except ImportError:
            raise UsageError("--executor ray needs Ray: pip install 'evolver[ray]'") from None
        started = not ray.is_initialized()
        if started:
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
            if self.address:
                ray.init(address=self.address, **options)
            else:
                ray.init(num_cpus=self.jobs, **options)
        try:
            remote: Any = ray.remote(num_cpus=1, max_retries=0)(_apply)
            pending = {remote.remote(function, item): item for item in items}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    yield pending.pop(ref), ray.get(ref)
        finally:
            if started:
                ray.shutdown()


def _apply(function: Callable[[Item], dict[str, Any]], item: Item) -> dict[str, Any]:
    return function(item)  # Ray wants a plain function; ``function`` may be a partial


def make_executor(kind: str, jobs: int, address: str | None) -> Executor:
    if kind == "local":
        if address:
            raise UsageError("--ray-address needs --executor ray")
        return LocalExecutor(jobs)
    if kind == "ray":
        return RayExecutor(address, jobs)
    raise UsageError(f"--executor {kind!r}: choose local or ray")
