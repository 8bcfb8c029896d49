"""The Cypher query files (queries/Qnn/cypher.cypher, cypher.hybrid.cypher) against the
reference, on a real FalkorDB (and, for F2's federation, a real PostgreSQL), run the way the run
loop runs them. Memgraph reads the same files (no memgraph.cypher override exists) but cannot run
here; FalkorDB stands in for both dialects.

- F1: structure + ArchiveDays in FalkorDB; every query direct (`cypher.cypher`), de-chunking the
  ArchiveDay lists server-side.
- F2: structure only in FalkorDB, timeseries in PostgreSQL ("TS" layout); Q1–Q6 direct, Q7–Q13
  federate (`cypher.hybrid.cypher` feeds `ts.sql`; Q7/Q8 run `ts.sql` alone).

Every query and variant, on tiny-1d and tiny-2d (two days: windows crossing midnight), must
equal `Reference(dataset).answer(...)` in canonical form (timestamps come back as
'YYYY-MM-DDTHH:MM:SS' strings, which the canonical form compares with the reference's
datetimes). Extra windows not at midnight check the de-chunking queries' day and time-of-day
selection beyond what params.json holds.
"""

from __future__ import annotations

import datetime as dt

import pytest

from btb.engines import falkordb as fk
from btb.runtime.launchers import falkordb as fk_launcher
from btb.workload import catalog, execution
from tests.conftest import need
from tests.workload.conftest import (
    HYBRIDS,
    TIMEOUT_S,
    VARIANTS,
    bind_window,
    check,
    hybrid_graph_part_columns,
    hybrid_matches_reference,
    hybrid_through_temp_table,
    loaded,
    need_postgres,
)

pytestmark = pytest.mark.engines


def _need_falkordb() -> None:
    need(fk_launcher.find_files() is not None and fk._falkordb is not None,
         "falkordblite not installed (pip install falkordblite, Python >= 3.12)")


@pytest.fixture(scope="module")
def f1(dataset, tmp_path_factory):
    """FalkorDB with the dataset loaded as F1 (structure + ArchiveDays)."""
    _need_falkordb()
    with loaded("falkordb", fk.FalkorDB, "F1", dataset, tmp_path_factory.mktemp("f1")) as e:
        yield e


@pytest.fixture(scope="module")
def f2(dataset, tmp_path_factory):
    """(FalkorDB with the F2 structure, PostgreSQL with the timeseries as "TS")."""
    _need_falkordb()
    need_postgres()
    with loaded("falkordb", fk.FalkorDB, "F2", dataset, tmp_path_factory.mktemp("f2"),
                with_ts=True) as pair:
        yield pair


# -- F1: every query direct ---------------------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("qid", catalog.all_ids())
def test_f1_matches_reference(f1, reference, params, qid, variant):
    q = catalog.get(qid)
    p = execution.plan(q, f1.languages, hybrid=False)
    assert (p.mode, p.language) == ("direct", "cypher")
    bound = catalog.bind(q, params, variant)
    check(reference, qid, bound, execution.run(p, f1, bound, TIMEOUT_S).rows)


def test_f1_rows_have_meta_columns(f1, params):
    """One value per meta.yml column; ids as integers, timestamps as ISO strings (Q13's `hour`
    is an hour of day, an integer)."""
    for qid in catalog.all_ids():
        q = catalog.get(qid)
        p = execution.plan(q, f1.languages, hybrid=False)
        rows = execution.run(p, f1, catalog.bind(q, params, "large"), TIMEOUT_S).rows
        assert rows, qid
        for row in rows:
            assert len(row) == len(q.columns), qid
            for col, v in zip(q.columns, row):
                if col.endswith("_id") and v is not None:
                    assert isinstance(v, int), (qid, col, v)
                if col in ("time", "day") or (col == "hour" and qid == "Q8"):
                    assert isinstance(v, str) and dt.datetime.fromisoformat(v), (qid, col, v)
                    assert len(v) == 19, (qid, col, v)


# Windows not on midnight, as offsets from the dataset's period (start + a, end - b): the day and
# time-of-day selection of the de-chunking queries must still be exact. On tiny-2d the windows
# cross midnight; Q9's ends fall before, on, and just after the first reading of a day.
_H, _M, _S = (dt.timedelta(hours=1), dt.timedelta(minutes=1), dt.timedelta(seconds=1))
_CUT = {"start": ("start", 13 * _H + 7 * _M), "end": ("end", -(2 * _H + 27 * _M))}
_ODD_WINDOWS = [
    ("Q7", _CUT),
    ("Q8", _CUT),
    ("Q10", _CUT),
    ("Q11", _CUT),
    ("Q12", _CUT),
    ("Q12", {"start": ("start", 6 * _H + 30 * _S), "end": ("end", -(5 * _H + 59 * _M))}),
    ("Q9", {"end": ("start", 24 * _H + 2 * _M)}),
    ("Q9", {"end": ("end", -(10 * _H + 57 * _M + 30 * _S))}),
    ("Q9", {"end": ("start", 30 * _S)}),  # only the first reading of the first day
    ("Q9", {"end": ("start", 0 * _S)}),  # before every reading: no rows
]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(("qid", "window"), _ODD_WINDOWS)
def test_f1_windows_off_midnight(f1, reference, params, qid, window, variant):
    q = catalog.get(qid)
    bound = bind_window(q, params, variant, window)
    p = execution.plan(q, f1.languages, hybrid=False)
    check(reference, qid, bound, execution.run(p, f1, bound, TIMEOUT_S).rows)


# -- F2: structure direct, hybrids federated (checks shared with the other languages) --
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("qid", catalog.all_ids())
def test_f2_matches_reference(f2, reference, params, qid, variant):
    hybrid_matches_reference(*f2, reference, params, qid, variant)


@pytest.mark.parametrize("qid", HYBRIDS)
def test_f2_graph_part_columns(f2, params, qid):
    hybrid_graph_part_columns(f2[0], params, qid)


def test_f2_federation_through_temp_table(f2, reference, params):
    hybrid_through_temp_table(*f2, reference, params)
