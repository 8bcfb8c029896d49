"""Building structure (Brick-aligned): sites, buildings, floors, rooms, zones, HVAC, meters, points.

A building is a pure function of (seed, scale, building index): generating 3 buildings or 50 gives
the same building 1, which is what lets a `medium` dataset be cut from a `large` one, and lets any
building be regenerated alone. Ids are `building_index * 1_000_000 + local index` (sites use
1..n_sites), int32 everywhere.

Topology (DESIGN.md §3):
  Site -hasPart-> Building -hasPart-> Floor -hasPart-> Room;  HVAC_Zone -hasPart-> Room
  Chiller/Boiler -feeds-> AHU -feeds-> VAV -feeds-> HVAC_Zone;  AHU -hasPart-> fan, coils, damper
  Equipment -hasLocation-> Room|Floor;  Point -isPointOf-> Equipment|Room
  Meter -meters-> Building|Floor|Equipment;  Meter -hasSubMeter-> Meter
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from btb.config.profiles import Scale
from btb.dataset.classes import POINT_TYPES
from btb.dataset.simulation import rng

ID_STRIDE = 1_000_000
VAVS_PER_AHU = 30  # target; the split gives 15–50 per AHU as in Brick reference buildings
GROSS_TO_ZONE_AREA = 1 / 0.75  # corridors, cores and plant rooms are not VAV zones


@dataclass
class Meter:
    id: int
    name: str
    cls: str
    parent: int  # index of the parent meter in Building.meters, -1 for a top-level meter
    source: tuple  # what it measures at the leaves: ("floor", i), ("ahu", i), ("chiller",), ...
    metered: int  # node id of the Building/Floor/Equipment it `meters`


@dataclass
class Building:
    """One building: its rows for the Parquet tables, plus what the simulation needs."""

    index: int
    id: int
    site_id: int
    # table rows (column lists)
    nodes: dict = field(default_factory=lambda: {k: [] for k in
                        ("id", "class", "name", "building_id", "area_m2", "level")})
    points: dict = field(default_factory=lambda: {k: [] for k in
                         ("id", "class", "name", "building_id", "parent_id", "type", "unit",
                          "interval_s", "entity")})
    edges: dict = field(default_factory=lambda: {"src": [], "rel": [], "dst": []})
    # simulation topology
    zone_floor: np.ndarray = None
    zone_area: np.ndarray = None
    zone_ahu: np.ndarray = None
    zone_solar: np.ndarray = None  # orientation factor of the solar gain
    room_zone: np.ndarray = None
    room_area: np.ndarray = None
    n_floors: int = 0
    n_ahu: int = 0
    meters: list = field(default_factory=list)
    # injected faults (zone or AHU indices)
    fault_rogue: np.ndarray = None
    fault_stuck: np.ndarray = None
    fault_drift: np.ndarray = None
    fault_simheat: np.ndarray = None
    _next: int = 0

    @property
    def n_zones(self) -> int:
        return len(self.zone_area)

    def new_id(self) -> int:
        i = self.id + self._next
        self._next += 1
        return i

    def add_node(self, cls: str, name: str, area: float | None = None,
                 level: int | None = None) -> int:
        nid = self.new_id()
        for k, v in zip(self.nodes, (nid, cls, name, self.id, area, level)):
            self.nodes[k].append(v)
        return nid

    def edge(self, src: int, rel: str, dst: int) -> None:
        self.edges["src"].append(src)
        self.edges["rel"].append(rel)
        self.edges["dst"].append(dst)


def site_count(scale: Scale) -> int:
    return -(-scale.buildings // scale.buildings_per_site)


def site_of(scale: Scale, building_index: int) -> int:
    return (building_index - 1) // scale.buildings_per_site + 1


def build(seed: int, scale: Scale, index: int) -> Building:
    """The structure of building `index` (1-based) of `scale`."""
    r = np.random.default_rng([seed, rng.STRUCTURE, index])
    b = Building(index=index, id=index * ID_STRIDE, site_id=site_of(scale, index))
    bname = f"B{index:02d}"
    b.new_id()  # local 0 is the building itself; its row is added once its area is known

    n_floors = int(r.integers(scale.floors[0], scale.floors[1] + 1))
    zones_per_floor = int(r.integers(scale.zones_per_floor[0], scale.zones_per_floor[1] + 1))
    b.n_floors = n_floors
    n_zones = n_floors * zones_per_floor
    b.zone_floor = np.repeat(np.arange(n_floors), zones_per_floor)
    b.zone_area = np.round(r.uniform(35.0, 65.0, n_zones), 1)
    b.zone_solar = r.uniform(0.3, 1.2, n_zones)
    rooms_per_zone = r.integers(1, 3, n_zones)  # 1 or 2 rooms per zone
    b.room_zone = np.repeat(np.arange(n_zones), rooms_per_zone)
    split = r.uniform(0.4, 0.6, n_zones)
    b.room_area = np.round(np.where(
        rooms_per_zone[b.room_zone] == 1, b.zone_area[b.room_zone],
        np.where(_first_room_mask(b.room_zone), split[b.room_zone], 1 - split[b.room_zone])
        * b.zone_area[b.room_zone]), 1)

    b.n_ahu = max(1, round(n_zones / VAVS_PER_AHU))
    b.zone_ahu = np.concatenate([np.full(len(c), i) for i, c in
                                 enumerate(np.array_split(np.arange(n_zones), b.n_ahu))])

    _faults(b, r)
    ids = _spaces(b, bname)
    equip = _hvac(b, bname, ids)
    _meters(b, bname, ids, equip)
    _points(b, r, ids, equip)
    return b


def _first_room_mask(room_zone: np.ndarray) -> np.ndarray:
    first = np.ones(len(room_zone), dtype=bool)
    first[1:] = room_zone[1:] != room_zone[:-1]
    return first


def _faults(b: Building, r: np.random.Generator) -> None:
    """About 1 % of zones per fault kind, at least one of each, so hybrid queries have answers."""
    k = max(1, b.n_zones // 100)
    picks = r.permutation(b.n_zones)
    b.fault_rogue, b.fault_stuck, b.fault_drift = picks[:k], picks[k:2 * k], picks[2 * k:3 * k]
    b.fault_simheat = r.permutation(b.n_ahu)[:max(1, b.n_ahu // 5)]


def _spaces(b: Building, bname: str) -> dict:
    gross = float(b.zone_area.sum() * GROSS_TO_ZONE_AREA)
    for k, v in zip(b.nodes, (b.id, "Building", bname, b.id, round(gross, 1), None)):
        b.nodes[k].append(v)
    b.edge(b.site_id, "hasPart", b.id)
    floors = []
    for f in range(b.n_floors):
        area = float(b.zone_area[b.zone_floor == f].sum() * GROSS_TO_ZONE_AREA)
        fid = b.add_node("Floor", f"{bname}.F{f + 1:02d}", round(area, 1), f + 1)
        b.edge(b.id, "hasPart", fid)
        floors.append(fid)
    zones = [b.add_node("HVAC_Zone", f"{bname}.Z{z + 1:03d}", float(b.zone_area[z]))
             for z in range(b.n_zones)]
    rooms = []
    for i, z in enumerate(b.room_zone):
        f = int(b.zone_floor[z])
        rid = b.add_node("Room", f"{bname}.F{f + 1:02d}.R{i + 1:03d}", float(b.room_area[i]))
        b.edge(floors[f], "hasPart", rid)
        b.edge(zones[z], "hasPart", rid)
        rooms.append(rid)
    first_room = np.flatnonzero(_first_room_mask(b.room_zone))
    return {"floors": floors, "zones": zones, "rooms": rooms, "zone_room": first_room}


def _hvac(b: Building, bname: str, ids: dict) -> dict:
    # Plant lives on the lowest floor; AHUs on the floor of their first zone (a plant room there).
    chiller = b.add_node("Chiller", f"{bname}.CH1")
    boiler = b.add_node("Boiler", f"{bname}.BLR1")
    b.edge(chiller, "hasLocation", ids["floors"][0])
    b.edge(boiler, "hasLocation", ids["floors"][0])
    ahus, parts = [], []
    for a in range(b.n_ahu):
        name = f"{bname}.AHU{a + 1:02d}"
        aid = b.add_node("AHU", name)
        first_zone = int(np.flatnonzero(b.zone_ahu == a)[0])
        b.edge(aid, "hasLocation", ids["floors"][int(b.zone_floor[first_zone])])
        b.edge(chiller, "feeds", aid)
        b.edge(boiler, "feeds", aid)
        p = {}
        for key, cls, suffix in (("fan", "Supply_Fan", "SF"), ("cc", "Cooling_Coil", "CC"),
                                 ("hc", "Heating_Coil", "HC"), ("oad", "Outside_Damper", "OAD")):
            p[key] = b.add_node(cls, f"{name}.{suffix}")
            b.edge(aid, "hasPart", p[key])
        ahus.append(aid)
        parts.append(p)
    vavs = []
    for z in range(b.n_zones):
        vid = b.add_node("VAV", f"{bname}.VAV{z + 1:03d}")
        b.edge(ahus[int(b.zone_ahu[z])], "feeds", vid)
        b.edge(vid, "feeds", ids["zones"][z])
        b.edge(vid, "hasLocation", ids["rooms"][int(ids["zone_room"][z])])
        vavs.append(vid)
    return {"chiller": chiller, "boiler": boiler, "ahus": ahus, "parts": parts, "vavs": vavs}


def _meters(b: Building, bname: str, ids: dict, equip: dict) -> None:
    """Electric: main -> floors + HVAC -> (chiller, AHUs); gas: main -> boiler.

    Parent meters carry no signal of their own: the simulation sums their children."""
    def meter(cls, suffix, parent, source, metered):
        mid = b.add_node(cls, f"{bname}.M.{suffix}")
        b.edge(mid, "meters", metered)
        if parent >= 0:
            b.edge(b.meters[parent].id, "hasSubMeter", mid)
        b.meters.append(Meter(mid, f"{bname}.M.{suffix}", cls, parent, source, metered))
        return len(b.meters) - 1

    main = meter("Building_Electrical_Meter", "ELEC", -1, ("sum",), b.id)
    for f, fid in enumerate(ids["floors"]):
        meter("Electrical_Meter", f"ELEC.F{f + 1:02d}", main, ("floor", f), fid)
    hvac = meter("Electrical_Meter", "ELEC.HVAC", main, ("sum",), b.id)
    meter("Electrical_Meter", "ELEC.CH1", hvac, ("chiller",), equip["chiller"])
    for a, aid in enumerate(equip["ahus"]):
        meter("Electrical_Meter", f"ELEC.AHU{a + 1:02d}", hvac, ("ahu", a), aid)
    gas = meter("Building_Gas_Meter", "GAS", -1, ("sum",), b.id)
    meter("Gas_Meter", "GAS.BLR1", gas, ("boiler",), equip["boiler"])


def _vav_point_keys(r: np.random.Generator, n: int) -> list[list[str]]:
    """17–19 points per VAV: pressure-dependent boxes (~15 %) have no airflow sensor/setpoint."""
    pressure_dependent = r.random(n) < 0.15
    has_co2 = r.random(n) < 0.4
    has_max_flow = r.random(n) < 0.3
    out = []
    for z in range(n):
        keys = ["vav.zat", "vav.dat", "vav.dps", "vav.vps", "vav.zah", "vav.sp"]
        keys += ["vav.svp", "vav.dsp"] if pressure_dependent[z] else ["vav.saf", "vav.fsp"]
        keys += ["vav.hsp", "vav.csp", "vav.dpc", "vav.vpc", "vav.occ", "vav.oms", "vav.ovr",
                 "vav.flt", "vav.alm"]
        if has_co2[z]:
            keys.append("vav.co2")
        if has_max_flow[z]:
            keys.append("vav.mfsp")
        out.append(keys)
    return out


def _points(b: Building, r: np.random.Generator, ids: dict, equip: dict) -> None:
    """Collect (type, parent node, entity index) per point, then number them grouped by type.

    Numbering points type by type makes every type's rows contiguous in point-id order, so the
    simulation's per-type blocks concatenate into rows already sorted by (point_id, time).
    """
    wanted: list[tuple[str, int, int]] = []  # (type key, parent node id, entity index)
    name_of = dict(zip(b.nodes["id"], b.nodes["name"]))
    for z, keys in enumerate(_vav_point_keys(r, b.n_zones)):
        wanted += [(k, equip["vavs"][z], z) for k in keys]
    for i, rid in enumerate(ids["rooms"]):
        wanted += [(k, rid, i) for k in ("room.occ", "room.lux", "room.light")]
    for a, aid in enumerate(equip["ahus"]):
        wanted += [(k, aid, a) for k in ("ahu.sat", "ahu.rat", "ahu.mat", "ahu.oat",
                                              "ahu.ssp", "ahu.satsp", "ahu.sspsp", "ahu.filter",
                                              "ahu.alm")]
        for part in ("fan", "cc", "hc", "oad"):
            keys = ("fan.status", "fan.speed") if part == "fan" else (f"{part}.cmd", f"{part}.pos")
            wanted += [(k, equip["parts"][a][part], a) for k in keys]
    for plant in ("chiller", "boiler"):
        wanted += [(f"{plant}.{s}", equip[plant], 0) for s in
                   (("chws", "chwr", "sp", "run", "cmd") if plant == "chiller"
                    else ("hws", "hwr", "sp", "run", "cmd"))]
    for m, meter in enumerate(b.meters):
        kind = "emeter" if "Electrical" in meter.cls else "gmeter"
        wanted += [(f"{kind}.power", meter.id, m), (f"{kind}.energy", meter.id, m)]

    order = {k: i for i, k in enumerate(POINT_TYPES)}
    wanted.sort(key=lambda w: order[w[0]])  # stable: keeps the entity order within a type
    for key, parent, entity in wanted:
        pt = POINT_TYPES[key]
        pid = b.new_id()
        suffix = key.split(".", 1)[1].upper()
        cols = (pid, pt.cls, f"{name_of[parent]}.{suffix}", b.id, parent, key, pt.unit,
                pt.interval_s, entity)
        for k, v in zip(b.points, cols):
            b.points[k].append(v)
        b.edge(pid, "isPointOf", parent)
