"""Progress bars for long steps: rows (or bytes), rate and ETA, on stderr.

Thin wrappers over tqdm so that library code only sees plain callables: `bar.add(n)` for
increments, `bar.at(done, total)` for the store's (done, total) callbacks.
"""

from __future__ import annotations

import sys

from tqdm import tqdm


class Bar:
    def __init__(self, desc: str, total: float | None = None, unit: str = "rows",
                 enabled: bool | None = None):
        self._t = tqdm(total=total, desc=desc, unit=unit, unit_scale=True, dynamic_ncols=True,
                       disable=(not sys.stderr.isatty()) if enabled is None else not enabled,
                       file=sys.stderr, smoothing=0.1)

    def add(self, n: int) -> None:
        self._t.update(n)

    def at(self, done: int, total: int) -> None:
        if self._t.total != total:
            self._t.total = total
        self._t.update(done - self._t.n)

    def close(self) -> None:
        self._t.close()

    def __enter__(self) -> Bar:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
