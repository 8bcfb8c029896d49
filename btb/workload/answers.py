"""Canonical answers: one comparable form for rows from any engine or the reference.

Rows are sorted; ints and strings compare exactly; floats with a relative tolerance (sums and
means are computed in different orders by different engines); datetimes/dates as ISO strings;
None sorts first. A mismatch report names the first differing row.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

REL_TOL = 1e-6
ABS_TOL = 1e-9


def _value(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None).isoformat(timespec="seconds")
    if isinstance(v, dt.date):
        return dt.datetime.combine(v, dt.time()).isoformat(timespec="seconds")
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return v  # keep float; comparison handles int/float equality
    return v


def _key(v):
    # None first, then numbers, then strings; a total order across mixed columns
    if v is None:
        return (0, 0)
    if isinstance(v, (int, float)):
        return (1, v)
    return (2, str(v))


def canonical(rows) -> list[tuple]:
    out = [tuple(_value(v) for v in row) for row in rows]
    out.sort(key=lambda r: tuple(_key(v) for v in r))
    return out


def _equal(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return a == b


def compare(expected: list[tuple], actual: list[tuple]) -> str | None:
    """None when equal (both canonical), else a short description of the first difference."""
    if len(expected) != len(actual):
        extra = set(actual) - set(expected)
        missing = set(expected) - set(actual)
        return (f"{len(actual)} rows instead of {len(expected)}; e.g. missing "
                f"{sorted(missing, key=str)[:2]}, unexpected {sorted(extra, key=str)[:2]}")
    for i, (e, a) in enumerate(zip(expected, actual)):
        if len(e) != len(a) or not all(_equal(x, y) for x, y in zip(e, a)):
            return f"row {i}: expected {e}, got {a}"
    return None
