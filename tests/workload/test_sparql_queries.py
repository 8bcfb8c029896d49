"""The SPARQL query files (queries/Qnn/sparql.rq, sparql.hybrid.rq) against the reference, on a
real Oxigraph (and, for O2's federation, a real PostgreSQL), run the way the run loop runs them:

- O1: structure + ArchiveDays in Oxigraph; `execution.plan(q, languages, hybrid=False)` picks
  direct or dechunk from the file's first line, `execution.run` returns the final rows.
- O2: structure only in Oxigraph, timeseries in PostgreSQL ("TS" layout); Q1–Q6 direct, Q7–Q13
  federate (`sparql.hybrid.rq` feeds `ts.sql`; Q7/Q8 run `ts.sql` alone).

Every query and variant, on tiny-1d and tiny-2d (two days: windows crossing midnight), must
equal `Reference(dataset).answer(...)` in canonical form. A few extra windows not at midnight
check the O1 de-chunking queries' day selection (Q7, Q8, Q9) beyond what params.json holds.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from btb.engines.oxigraph import Oxigraph
from btb.runtime.launchers import oxigraph as ox_launcher
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


def _need_oxigraph() -> None:
    need(ox_launcher.find_binary() is not None,
         "oxigraph binary not found (pip install oxigraph)")


@pytest.fixture(scope="module")
def o1(dataset, tmp_path_factory):
    """Oxigraph with the dataset loaded as O1 (structure + ArchiveDays)."""
    _need_oxigraph()
    with loaded("oxigraph", Oxigraph, "O1", dataset, tmp_path_factory.mktemp("o1")) as e:
        yield e


@pytest.fixture(scope="module")
def o2(dataset, tmp_path_factory):
    """(Oxigraph with the O2 structure, PostgreSQL with the timeseries as "TS")."""
    _need_oxigraph()
    need_postgres()
    with loaded("oxigraph", Oxigraph, "O2", dataset, tmp_path_factory.mktemp("o2"),
                with_ts=True) as pair:
        yield pair


# -- O1: direct and dechunk ---------------------------------------------------------------------
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("qid", catalog.all_ids())
def test_o1_matches_reference(o1, reference, params, qid, variant):
    q = catalog.get(qid)
    p = execution.plan(q, o1.languages, hybrid=False)
    assert p.language == "sparql"
    # Q10/Q11 read the daily aggregates (direct); Q7-Q9, Q12, Q13 need the readings
    want_mode = "dechunk" if qid in ("Q7", "Q8", "Q9", "Q12", "Q13") else "direct"
    assert p.mode == want_mode
    bound = catalog.bind(q, params, variant)
    check(reference, qid, bound, execution.run(p, o1, bound, TIMEOUT_S).rows)


def test_o1_dechunk_queries_keep_meta_columns():
    """Dechunk files project point_id, date, minutes, values, then meta.yml's dechunk_keys."""
    for qid in catalog.all_ids():
        q = catalog.get(qid)
        text = q.path("sparql").read_text()
        if not text.startswith("# btb: dechunk"):
            continue
        projection = re.search(r"^SELECT(.*?)^WHERE", text, re.M | re.S).group(1)
        # `(?x AS ?name)` projects ?name
        projection = re.sub(r"\([^()]*\bAS\s+(\?\w+)\s*\)", r"\1", projection)
        names = re.findall(r"\?(\w+)", projection)
        assert names == ["point_id", "date", "minutes", "values", *q.dechunk_keys], qid


# Windows not on midnight, as offsets from the dataset's period (start + a, end - b): the day
# selection of the de-chunking queries must still be exact. On tiny-2d the Q7/Q8 window crosses
# midnight; Q9's ends fall before, on, and just after the first reading of a day.
_H, _M, _S = (dt.timedelta(hours=1), dt.timedelta(minutes=1), dt.timedelta(seconds=1))
_ODD_WINDOWS = [
    ("Q7", {"start": ("start", 13 * _H + 7 * _M), "end": ("end", -(2 * _H + 27 * _M))}),
    ("Q8", {"start": ("start", 13 * _H + 7 * _M), "end": ("end", -(2 * _H + 27 * _M))}),
    ("Q9", {"end": ("start", 24 * _H + 2 * _M)}),
    ("Q9", {"end": ("end", -(10 * _H + 57 * _M + 30 * _S))}),
    ("Q9", {"end": ("start", 30 * _S)}),  # only the first reading of the first day
    ("Q9", {"end": ("start", 0 * _S)}),  # before every reading: no rows
]


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize(("qid", "window"), _ODD_WINDOWS)
def test_o1_windows_off_midnight(o1, reference, params, qid, window, variant):
    q = catalog.get(qid)
    bound = bind_window(q, params, variant, window)
    p = execution.plan(q, o1.languages, hybrid=False)
    check(reference, qid, bound, execution.run(p, o1, bound, TIMEOUT_S).rows)


# -- O2: structure direct, hybrids federated (checks shared with the other languages) --
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("qid", catalog.all_ids())
def test_o2_matches_reference(o2, reference, params, qid, variant):
    hybrid_matches_reference(*o2, reference, params, qid, variant)


@pytest.mark.parametrize("qid", HYBRIDS)
def test_o2_graph_part_columns(o2, params, qid):
    hybrid_graph_part_columns(o2[0], params, qid)


def test_o2_federation_through_temp_table(o2, reference, params):
    hybrid_through_temp_table(*o2, reference, params)
