"""N-Triples export (btb.export.rdf) and SPARQL parameter binding (btb.engines.oxigraph), checked
against pyoxigraph's parser and serialiser; no server."""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from btb.export import rdf
from tests.conftest import need

pytestmark = pytest.mark.unit

try:
    import pyoxigraph as ox
except ImportError:  # pragma: no cover - the engines extra installs it
    ox = None

XSD = rdf.XSD


def _ox():
    need(ox is not None, "pyoxigraph not installed (pip install pyoxigraph, in the engines extra)")
    return ox


def _parse(data: bytes) -> list:
    return list(_ox().parse(data, format=ox.RdfFormat.N_TRIPLES))


def _by_subject_predicate(triples) -> dict:
    return {(t.subject.value, t.predicate.value): t.object for t in triples}


def test_stream_parses_and_counts(tiny2_dataset):
    counts: dict[str, int] = {}
    data = b"".join(rdf.stream(tiny2_dataset, archive=True, counts=counts))
    triples = _parse(data)
    expected = rdf.count_triples(tiny2_dataset, archive=True)
    assert counts == expected
    assert len(triples) == len(set(triples)) == sum(expected.values())
    o2 = rdf.count_triples(tiny2_dataset, archive=False)
    assert "archive" not in o2 and sum(o2.values()) == sum(expected.values()) - expected["archive"]
    sub = {(t.subject.value, t.object.value) for t in triples
           if t.predicate.value == rdf.RDFS + "subClassOf"}
    b = rdf.BRICK_NS
    assert (b + "Zone_Air_Temperature_Sensor", b + "Air_Temperature_Sensor") in sub


def test_entities_and_relations(tiny_dataset):
    so = _by_subject_predicate(_parse(b"".join(rdf.stream(tiny_dataset, archive=False))))
    node = pq.read_table(tiny_dataset / "nodes.parquet").to_pylist()
    site = next(n for n in node if n["class"] == "Site")
    floor = next(n for n in node if n["class"] == "Floor")
    s = f"urn:btb:{floor['id']}"
    assert so[(s, rdf.RDF + "type")].value == rdf.BRICK_NS + "Floor"
    assert so[(s, rdf.BTB_NS + "id")] == ox.Literal(str(floor["id"]),
                                                  datatype=ox.NamedNode(XSD + "integer"))
    assert so[(s, rdf.RDFS + "label")] == ox.Literal(floor["name"])
    assert int(so[(s, rdf.BTB_NS + "buildingId")].value) == floor["building_id"]
    assert float(so[(s, rdf.BTB_NS + "area")].value) == floor["area_m2"]
    assert int(so[(s, rdf.BTB_NS + "level")].value) == floor["level"]
    assert (f"urn:btb:{site['id']}", rdf.BTB_NS + "buildingId") not in so
    p = pq.read_table(tiny_dataset / "points.parquet").to_pylist()[0]
    s = f"urn:btb:{p['id']}"
    assert so[(s, rdf.BTB_NS + "unit")] == ox.Literal(p["unit"])
    assert int(so[(s, rdf.BTB_NS + "interval")].value) == p["interval_s"]
    assert so[(s, rdf.BRICK_NS + "isPointOf")] == ox.NamedNode(f"urn:btb:{p['parent_id']}")


def test_archive_day_exact(tiny2_dataset):
    triples = _parse(b"".join(rdf.archive_triples(tiny2_dataset)))
    so = _by_subject_predicate(triples)
    for day, path in rdf.partition_files(tiny2_dataset):
        t = pq.read_table(path)
        for pid in pc.unique(t.column("point_id")).to_pylist()[::37]:
            rows = t.filter(pc.equal(t.column("point_id"), pid))
            a = f"urn:btb:archive:{pid}:{day}"
            val = rows.column("value").to_numpy()
            minutes = (rows.column("time").cast("int64").to_numpy()
                       - (day - dt.date(1970, 1, 1)).days * 86_400_000) // 60_000
            assert so[(a, rdf.RDF + "type")].value == rdf.BTB_NS + "ArchiveDay"
            assert so[(a, rdf.BTB_NS + "point")] == ox.NamedNode(f"urn:btb:{pid}")
            assert so[(f"urn:btb:{pid}", rdf.BTB_NS + "hasTimeseries")] is not None
            assert so[(a, rdf.BTB_NS + "date")] == ox.Literal(
                day.isoformat(), datatype=ox.NamedNode(XSD + "date"))
            assert int(so[(a, rdf.BTB_NS + "weekday")].value) == day.isoweekday()
            assert [int(m) for m in so[(a, rdf.BTB_NS + "minutes")].value.split()] == \
                minutes.tolist()
            assert [float(v) for v in so[(a, rdf.BTB_NS + "values")].value.split()] == \
                val.tolist()
            assert int(so[(a, rdf.BTB_NS + "n")].value) == len(val)
            assert float(so[(a, rdf.BTB_NS + "min")].value) == val.min()
            assert float(so[(a, rdf.BTB_NS + "max")].value) == val.max()
            assert float(so[(a, rdf.BTB_NS + "mean")].value) == pytest.approx(val.mean(),
                                                                              rel=1e-12)


def test_escaping_equals_oxigraph():
    o = _ox()
    samples = [chr(c) for c in range(0x80)] + [
        'He said "hi"\\n', "a\\b", "line1\nline2\r\n", "tab\there", "é ü 中文 😀 \u2028",
        '"\\\n\r\t\b\f\x00\x1f\x7f']
    for s in samples:
        assert rdf.string_literal(s) == str(o.Literal(s)), repr(s)
    assert rdf.int_literal(-42) == str(o.Literal(-42))
    assert rdf.date_literal(dt.date(2025, 1, 6)) == str(
        o.Literal("2025-01-06", datatype=o.NamedNode(XSD + "date")))


def test_weird_names_survive(tiny_dataset, tmp_path):
    ds = tmp_path / "weird"
    shutil.copytree(tiny_dataset, ds)
    nodes = pq.read_table(ds / "nodes.parquet")
    weird = ['room "A"\\B\nsecond line', "tab\tand\rcr", "ünï 😀", 'x"', "\\", "\x01\x7f"]
    names = nodes.column("name").to_pylist()
    names[:len(weird)] = weird
    nodes = nodes.set_column(nodes.column_names.index("name"), "name",
                             pa.array(names, pa.string()))
    pq.write_table(nodes, ds / "nodes.parquet")
    triples = _parse(rdf.node_triples(ds))
    labels = {t.subject.value: t.object.value for t in triples
              if t.predicate.value == rdf.RDFS + "label"}
    ids = nodes.column("id").to_pylist()
    assert [labels[f"urn:btb:{i}"] for i in ids[:len(weird)]] == weird


def test_doubles_round_trip_and_parse_as_oxigraph_does():
    o = _ox()
    r = np.random.default_rng(7)
    v = np.concatenate([r.normal(0, 1e3, 2000), r.standard_normal(2000) * 10.0 ** r.integers(
        -300, 300, 2000), np.round(r.normal(20, 5, 2000), 2),
        [0.0, -0.0, 1e-5, 1e20, 1e16, 5e-324, 1.7976931348623157e308, 123456789.0, 0.1]])
    lex = rdf._double_strings(v).to_pylist()
    assert [float(s) for s in lex] == v.tolist()
    # Oxigraph's own parser agrees: our literal and pyoxigraph's are the same double
    store = o.Store()
    p, q = o.NamedNode("urn:p"), o.NamedNode("urn:q")
    lits = [o.Literal(s, datatype=o.NamedNode(XSD + "double")) for s in lex]
    for i, (mine, x) in enumerate(zip(lits, v.tolist())):
        s = o.NamedNode(f"urn:s{i}")
        store.add(o.Quad(s, p, mine))
        store.add(o.Quad(s, q, o.Literal(x)))
    bad = list(store.query("SELECT ?s { ?s <urn:p> ?a ; <urn:q> ?b FILTER(!(?a = ?b)) }"))
    assert bad == []
    specials = rdf._double_strings(np.array([np.nan, np.inf, -np.inf])).to_pylist()
    assert specials == ["NaN", "INF", "-INF"]
    assert rdf.double_literal(float("inf")) == str(o.Literal(float("inf")))


def test_write_ntriples(tiny_dataset, tmp_path):
    out = tmp_path / "o2.nt"
    counts = rdf.write_ntriples(tiny_dataset, out, archive=False)
    assert counts == rdf.count_triples(tiny_dataset, archive=False)
    assert len(out.read_bytes().splitlines()) == sum(counts.values())
    assert not list(tmp_path.glob(".*.tmp"))


def test_unknown_relation_refused(tiny_dataset, tmp_path):
    ds = tmp_path / "bad"
    shutil.copytree(tiny_dataset, ds)
    e = pq.read_table(ds / "edges.parquet")
    rel = e.column("rel").to_pylist()
    rel[0] = "bogus"
    pq.write_table(e.set_column(1, "rel", pa.array(rel)), ds / "edges.parquet")
    with pytest.raises(ValueError, match="bogus"):
        rdf.count_triples(ds, archive=False)


# -- parameter binding (pure functions of btb.engines.oxigraph) ---------------------------------
def _bind():
    _ox()
    from btb.engines.oxigraph import bind_values
    return bind_values


def test_values_after_outer_where_brace():
    bind = _bind()
    q = ('PREFIX brick: <https://brickschema.org/schema/Brick#>\n'
         '# a comment with { and ?equipment\n'
         'SELECT ?p (CONCAT("{", "?x") AS ?s) WHERE {\n'
         '  ?e <urn:btb:vocab#id> ?equipment . { SELECT ?p WHERE { ?p ?q ?e } }\n'
         '} ORDER BY ?p')
    out = bind(q, {"equipment": 5, "unused": 1, "x": 2})
    at = out.index("WHERE {") + len("WHERE {")
    assert out[at:].startswith(f'\nVALUES ?equipment {{ "5"^^<{XSD}integer> }}\n')
    assert "?unused" not in out and "VALUES ?x" not in out  # ?x only inside a string
    assert out.replace(out[at:out.index("\n", at + 1) + 1], "") == q


def test_values_lists_dicts_strings_and_marker():
    bind = _bind()
    q = "SELECT * { ?s ?p ?points . ?s ?q ?day_start . ?s ?r ?name }"
    out = bind(q, {"points": [1, 2], "day": {"start": dt.datetime(2025, 1, 6)},
                   "name": 'a "q" \\ \n'})
    assert f'VALUES ?points {{ "1"^^<{XSD}integer> "2"^^<{XSD}integer> }}' in out
    assert f'VALUES ?day_start {{ "2025-01-06T00:00:00"^^<{XSD}dateTime> }}' in out
    assert 'VALUES ?name { "a \\"q\\" \\\\ \\n" }' in out
    assert "VALUES ?points {  }" in bind(q, {"points": []})
    marked = "SELECT * WHERE {\n  { SELECT ?s WHERE {\n    # btb:params\n    ?s ?p ?x } }\n}"
    out = bind(marked, {"x": 1.5})
    assert out.index("VALUES ?x") > out.index("# btb:params") > out.index("SELECT ?s")
    c = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
    assert bind(c, {"o": 1}).startswith("CONSTRUCT { ?s ?p ?o } WHERE {\nVALUES ?o")
    assert bind(q, {}) == q


def test_values_are_valid_sparql():
    bind = _bind()
    store = _ox().Store()
    q = 'SELECT ?a ?b ?c ?d WHERE { }'
    out = bind(q, {"a": [1, 2], "b": "x\"y", "c": dt.date(2025, 1, 6), "d": None})
    assert len(list(store.query(out))) == 2
