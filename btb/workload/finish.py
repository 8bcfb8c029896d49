"""Client-side finishing of de-chunked readings (O1): the final rows of Q7, Q8, Q9, Q12, Q13.

SPARQL cannot iterate the values of an ArchiveDay literal, so for these queries O1 returns the
chunks and the client computes what PostgreSQL or Cypher compute server-side. Each function
takes readings `(point_id, time, value, *keys)` (already restricted to the query's window) and
the bound parameters, and follows the definition in queries/README.md.
"""

from __future__ import annotations

from collections import defaultdict


def q7(readings, params):
    return [(t, v) for _, t, v in readings]


def q8(readings, params):
    groups = defaultdict(list)
    for pid, t, v in readings:
        groups[(pid, t.replace(minute=0, second=0, microsecond=0))].append(v)
    return [(pid, hour, min(vs), sum(vs) / len(vs), max(vs)) for (pid, hour), vs in groups.items()]


def q9(readings, params):
    latest = {}
    for pid, t, v in readings:
        if pid not in latest or t > latest[pid][0]:
            latest[pid] = (t, v)
    return [(pid, t, v) for pid, (t, v) in latest.items()]


def q12(readings, params):
    lo, hi = {}, {}
    temps = []
    for _pid, t, v, zone, vav, role in readings:
        key = (vav, t.date())
        if role == "heat_sp":
            lo[key] = max(lo.get(key, v), v)
        elif role == "cool_sp":
            hi[key] = min(hi.get(key, v), v)
        else:
            temps.append((zone, vav, t, v))
    minutes = defaultdict(int)
    for zone, vav, t, v in temps:
        key = (vav, t.date())
        if t.isoweekday() > 5 or not 6 <= t.hour < 19 or key not in lo or key not in hi:
            continue
        if v < lo[key] or v > hi[key]:
            minutes[zone] += 5
    return list(minutes.items())


def q13(readings, params):
    sums = defaultdict(lambda: [0.0, 0])
    for _, t, v in readings:
        s = sums[(t.isoweekday(), t.hour)]
        s[0] += v
        s[1] += 1
    return [(dow, hour, s / n) for (dow, hour), (s, n) in sums.items()]


FINISH = {"Q7": q7, "Q8": q8, "Q9": q9, "Q12": q12, "Q13": q13}
