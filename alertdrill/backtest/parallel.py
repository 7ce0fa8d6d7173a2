"""Work side by side on threads, with the first error raised in the caller's thread.

The backtest replays the two configs side by side, and each config's episodes on several
Alertmanager clusters at once: each piece starts processes of its own, and those are tied to
the thread that started them (PR_SET_PDEATHSIG, :mod:`alertdrill.backends.process`), so each
piece finishes with its processes before its thread ends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


def side_by_side(work: Callable[[int], None], count: int, name: str) -> None:
    """Run ``work(0)`` … ``work(count - 1)`` at once, each on its own thread; wait for all,
    then raise the first exception any of them raised (KeyboardInterrupt included)."""
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            work(index)
        except BaseException as exc:  # re-raised below, in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,), name=f"{name}-{i}") for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
