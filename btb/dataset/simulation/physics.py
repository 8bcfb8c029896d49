"""One building, one day, on a 5-minute grid: zones, VAV loops, AHUs, plant, meters, alarms.

Zone temperature is a 1R1C heat balance (C dT/dt = UA (T_out − T) + gains + VAV supply air);
VAV boxes run a proportional cooling/heating loop between the heating and cooling setpoints;
AHUs mix outside and return air and hold their supply temperature with coils; the chiller and
boiler serve the coil and reheat loads; meters measure electric and gas power at the leaves and
parent meters are exact sums of their submeters. Alarms follow the BACnet out-of-range rule
(limit, deadband, time delay). The loop is over the 288 steps of the day, vectorised over zones.

State that crosses midnight (zone temperatures, alarm states, energy counters) lives in `State`,
so a day depends on the days before it only through that small object.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np

from btb.config.profiles import START_DATE
from btb.dataset.model import Building
from btb.dataset.simulation import rng
from btb.dataset.simulation.environment import DT_S, STEPS, occupancy, weather

RHO_CP = 1206.0  # J/(m³·K), air
C_PER_M2 = 60e3  # J/(m²·K): zone thermal capacity (light office construction)
UA_PER_M2 = 1.5  # W/(m²·K): envelope conductance share -> time constant ≈ 11 h
AIRFLOW_PER_M2 = 10.0  # m³/h per m²: design (maximum) VAV airflow
MIN_FLOW = 0.3  # minimum airflow fraction while the AHU runs
HEAT_FLOW = 0.6  # "dual maximum" VAV logic: airflow fraction at full heating demand
CONTROL_MARGIN = 0.5  # K: the VAV loop aims this far inside the band (P-only control droops)
REHEAT_RISE = 25.0  # K of discharge temperature rise at a fully open reheat valve
HEAT_OCC, COOL_OCC, HEAT_UNOCC, COOL_UNOCC = 20.0, 24.0, 12.0, 30.0  # zone setpoints (°C)
ALARM_LOW, ALARM_HIGH, ALARM_DEADBAND, ALARM_DELAY = 11.0, 28.0, 1.0, 3  # °C, °C, K, steps
AHU_ALARM_DEV = 3.0  # K from supply setpoint
ROGUE_GAIN = 90.0  # W/m²: a server rack in an office zone
STUCK_DAMPER = 25.0  # %
DRIFT_OFFSET, DRIFT_PER_DAY = 0.5, 0.15  # K, K/day of a drifting zone sensor
SIMHEAT_VALVE = 0.4  # heating valve leak of the simultaneous heating/cooling fault
FAN_W_PER_M3H = 0.56  # W per m³/h of design flow (SFP 2 kW/(m³/s))
STATIC_SP = 250.0  # Pa


def _clip(x, lo, hi):
    # np.clip costs ~8 µs per call on small arrays against ~1 µs per ufunc; this loop calls it
    # thousands of times per simulated day
    return np.minimum(np.maximum(x, lo), hi)


@dataclass
class State:
    zone_temp: np.ndarray
    zone_alarm: np.ndarray
    zone_pending: np.ndarray
    ahu_alarm: np.ndarray
    ahu_pending: np.ndarray
    energy: np.ndarray  # kWh counter per meter


def initial_state(seed: int, b: Building) -> State:
    nz, na, nm = b.n_zones, b.n_ahu, len(b.meters)
    energy = np.zeros(nm)
    leaves = np.array([m.source[0] != "sum" for m in b.meters])
    ids = np.array([m.id for m in b.meters])
    energy[leaves] = np.round(2e4 + 4.8e5 * rng.uniform(seed, rng.ENERGY0, ids[leaves]), 0)
    _sum_meters(b, energy)
    return State(zone_temp=np.full(nz, 19.0), zone_alarm=np.zeros(nz, bool),
                 zone_pending=np.zeros(nz, int), ahu_alarm=np.zeros(na, bool),
                 ahu_pending=np.zeros(na, int), energy=energy)


def _sum_meters(b: Building, values: np.ndarray) -> None:
    """Parents = sum of children, in place, along the first axis (one row per meter).

    Children always come after their parent in `b.meters`, so one backward pass suffices."""
    for m in range(len(b.meters) - 1, -1, -1):
        if b.meters[m].source[0] == "sum":
            values[m] = 0.0
    for m in range(len(b.meters) - 1, -1, -1):
        p = b.meters[m].parent
        if p >= 0:
            values[p] += values[m]


def simulate_day(seed: int, b: Building, date: dt.date, state: State):
    """Signals of `date` as {name: array (entities, 288)} and the state at the next midnight.

    Only what depends on the zone temperatures stays in the per-step loop; inputs (schedules,
    gains, setpoints) are computed for the whole day before it and derived signals after it.
    """
    zone_ids = np.arange(b.n_zones) + b.id  # stable keys for per-zone draws
    room_ids = np.arange(len(b.room_zone)) + b.id
    w = weather(seed, b.site_id, date)
    o = occupancy(seed, zone_ids, room_ids, date)
    nz, na = b.n_zones, b.n_ahu
    area, za = b.zone_area, b.zone_ahu
    vmax = AIRFLOW_PER_M2 * area
    ahu_vmax = np.bincount(za, vmax, na)
    col = np.s_[:, None]

    # inputs for the whole day (zones x steps)
    days = (date - START_DATE).days + np.arange(STEPS) / STEPS
    drift = np.zeros((nz, STEPS))
    drift[b.fault_drift] = DRIFT_OFFSET + DRIFT_PER_DAY * days
    stuck = np.zeros(nz, bool)
    stuck[b.fault_stuck] = True
    rogue = np.zeros(nz)
    rogue[b.fault_rogue] = ROGUE_GAIN
    simheat = np.zeros(na, bool)
    simheat[b.fault_simheat] = True
    occupied = o.schedule[None, :] | o.override
    hsp = np.where(occupied, HEAT_OCC, HEAT_UNOCC)
    csp = np.where(occupied, COOL_OCC, COOL_UNOCC)
    light = np.where(o.occ > 0.05, 8.0, 0.0)
    gains = area[col] * (o.occ * 12.0 + light + 2.0 + rogue[col]
                         + 25.0 * w.solar[None, :] * b.zone_solar[col])
    sat_sp = np.round(_clip(18.0 - w.t_out / 3.0, 13.0, 18.0) * 2) / 2
    heat_c = DT_S / (C_PER_M2 * area)

    rec = {k: np.empty((nz, STEPS)) for k in ("zone_temp", "airflow", "reheat", "t_dis")}
    rec.update({k: np.empty((na, STEPS)) for k in ("ahu_on", "t_sa", "t_ret", "t_mix", "oa",
                                                    "heat_valve", "cool_valve")})
    T = state.zone_temp.copy()
    for j in range(STEPS):
        t_out = w.t_out[j]
        # the AHU runs on schedule or override, and night-cycles when a zone leaves the setback
        need = occupied[:, j] | (T < HEAT_UNOCC + 0.5) | (T > COOL_UNOCC - 0.5)
        ahu_on = np.bincount(za, need, na) > 0
        on = ahu_on[za]
        cool = _clip((T - csp[:, j] + CONTROL_MARGIN) / 1.5, 0.0, 1.0)
        reheat = _clip((hsp[:, j] + CONTROL_MARGIN - T) / 1.0, 0.0, 1.0) * on
        damper = np.where(stuck, STUCK_DAMPER / 100.0,
                          MIN_FLOW + (1 - MIN_FLOW) * cool + (HEAT_FLOW - MIN_FLOW) * reheat)
        airflow = damper * vmax * on
        # AHU: mixing (economiser when outside air helps), heating then cooling coil
        t_ret = np.bincount(za, T * vmax, na) / ahu_vmax
        sp = sat_sp[j]
        econ = (t_out < sp) & (t_ret > sp)
        oa = np.where(econ, _clip((t_ret - sp) / np.maximum(t_ret - t_out, 0.1), 0.2, 1.0),
                      0.2) * ahu_on
        t_mix = oa * t_out + (1 - oa) * t_ret
        heat_valve = _clip((sp - t_mix) / 15.0, 0.0, 1.0)
        heat_valve = np.where(simheat, np.maximum(heat_valve, SIMHEAT_VALVE), heat_valve) * ahu_on
        after_heat = t_mix + 15.0 * heat_valve
        cool_valve = _clip((after_heat - sp) / 12.0, 0.0, 1.0) * ahu_on
        t_sa = np.where(ahu_on, after_heat - 12.0 * cool_valve, t_ret - 1.0)
        t_dis = np.where(on, t_sa[za] + REHEAT_RISE * reheat, T)
        for k, v in (("zone_temp", T), ("airflow", airflow), ("reheat", reheat),
                     ("t_dis", t_dis), ("ahu_on", ahu_on), ("t_sa", t_sa), ("t_ret", t_ret),
                     ("t_mix", t_mix), ("oa", oa), ("heat_valve", heat_valve),
                     ("cool_valve", cool_valve)):
            rec[k][:, j] = v
        T = T + heat_c * (UA_PER_M2 * area * (t_out - T) + gains[:, j]
                          + RHO_CP / 3600.0 * airflow * (t_dis - T))

    Tz, airflow, reheat = rec["zone_temp"], rec["airflow"], rec["reheat"]
    ahu_on, t_sa, t_mix = rec["ahu_on"].astype(bool), rec["t_sa"], rec["t_mix"]
    on = ahu_on[za]
    sensor = Tz + drift
    z_alarm, z_pend, zone_alarm = _alarm_series(sensor, ALARM_LOW, ALARM_HIGH,
                                                state.zone_alarm, state.zone_pending)
    dev = np.where(ahu_on, np.abs(t_sa - sat_sp[None, :]), 0.0)
    a_alarm, a_pend, ahu_alarm = _alarm_series(dev, -np.inf, AHU_ALARM_DEV, state.ahu_alarm,
                                               state.ahu_pending)
    cool = _clip((Tz - csp + CONTROL_MARGIN) / 1.5, 0.0, 1.0)
    flow_sp = vmax[col] * (MIN_FLOW + (1 - MIN_FLOW) * cool + (HEAT_FLOW - MIN_FLOW) * reheat) * on
    damper_cmd = 100.0 * flow_sp / vmax[col]
    # zones are numbered AHU by AHU (model.build), so per-AHU sums are contiguous slices; a
    # matrix product here made OpenBLAS spin a second thread per process for no gain
    first_zone = np.flatnonzero(np.r_[True, za[1:] != za[:-1]])
    ahu_flow = np.add.reduceat(airflow, first_zone, axis=0)
    after_heat = t_mix + 15.0 * rec["heat_valve"]
    flow_ratio = airflow / vmax[col]
    s = {
        "zone_temp": Tz, "zone_temp_sensor": sensor, "discharge_temp": rec["t_dis"],
        "airflow": airflow, "airflow_sp": flow_sp, "velocity_pressure": 250.0 * flow_ratio ** 2,
        "damper_pos": np.where(stuck[col], STUCK_DAMPER, damper_cmd),
        "damper_cmd": damper_cmd, "damper_sp": 100.0 * MIN_FLOW * occupied,
        "reheat_valve": 100 * reheat, "reheat_cmd": 100 * reheat,
        "zone_rh": w.rh_base + 10.0 * o.occ - 0.5 * (Tz - 21.0),
        "inlet_pressure": STATIC_SP * 0.8 * on,
        "zone_co2": 420.0 + 700.0 * o.occ * (1.0 - 0.6 * flow_ratio),
        "heat_sp": hsp, "cool_sp": csp, "occupied": occupied, "override": o.override,
        "vav_fault": stuck[col] & on & (np.abs(damper_cmd - STUCK_DAMPER) > 4.0),
        "zone_alarm": zone_alarm,
        "ahu_supply_temp": t_sa, "ahu_return_temp": rec["t_ret"],
        "ahu_mixed_temp": np.where(ahu_on, t_mix, rec["t_ret"]),
        "ahu_static": STATIC_SP * ahu_on, "ahu_supply_sp": np.broadcast_to(sat_sp, (na, STEPS)),
        "fan_on": ahu_on, "fan_speed": 100.0 * ahu_flow / ahu_vmax[col],
        "cool_valve": 100 * rec["cool_valve"], "heat_valve": 100 * rec["heat_valve"],
        "oa_damper": 100 * rec["oa"], "ahu_alarm": ahu_alarm,
        "outside_temp": np.broadcast_to(w.t_out, (na, STEPS)),
    }
    loads = {
        "light_w": area[col] * (o.occ * 10.0 + light + 2.0),
        "reheat_w": RHO_CP * airflow / 3600.0 * (rec["t_dis"] - t_sa[za]) * on,
        "cool_w": RHO_CP * ahu_flow / 3600.0 * (after_heat - t_sa),
        "heat_w": RHO_CP * ahu_flow / 3600.0 * (after_heat - t_mix),
        "fan_w": FAN_W_PER_M3H * ahu_vmax[col] * (ahu_flow / ahu_vmax[col]) ** 3,
    }
    _rooms(seed, b, o, w, s, date)
    new_energy = _plant_and_meters(b, w, s, loads, state.energy)
    new_state = replace(state, zone_temp=T, zone_alarm=z_alarm, zone_pending=z_pend,
                        ahu_alarm=a_alarm, ahu_pending=a_pend, energy=new_energy)
    return s, new_state


def _alarm_series(value, low, high, active, pending):
    """`_alarm` over the day's steps: returns the final state and the alarm value per step."""
    out = np.empty(value.shape, bool)
    for j in range(value.shape[1]):
        active, pending = _alarm(value[:, j], low, high, active, pending)
        out[:, j] = active
    return active, pending, out


def _alarm(value, low, high, active, pending):
    """BACnet out-of-range: raise after `ALARM_DELAY` steps beyond a limit, clear inside the
    limits by the deadband."""
    beyond = (value > high) | (value < low)
    pending = np.where(beyond, pending + 1, 0)
    inside = (value < high - ALARM_DEADBAND) & (value > low + ALARM_DEADBAND)
    active = np.where(active, ~inside, pending >= ALARM_DELAY)
    return active, pending


def _rooms(seed: int, b: Building, o, w, s: dict, date: dt.date) -> None:
    rz = b.room_zone
    present = (o.occ[rz] > 0.05) & o.room_used[:, None]
    s["room_occupied"] = present
    s["room_light"] = present
    s["room_lux"] = present * 450.0 + w.solar[None, :] * 300.0 * b.zone_solar[rz][:, None]
    filt = rng.uniform(seed, rng.FILTER, np.arange(b.n_ahu) + b.id, date.toordinal()) < 0.03
    s["ahu_filter"] = np.broadcast_to(filt[:, None], (b.n_ahu, STEPS))
    s["ahu_static_sp"] = np.full((b.n_ahu, STEPS), STATIC_SP)
    s["max_airflow"] = np.broadcast_to((AIRFLOW_PER_M2 * b.zone_area)[:, None],
                                       (b.n_zones, STEPS))


def _plant_and_meters(b: Building, w, s: dict, loads: dict, energy0: np.ndarray) -> np.ndarray:
    cool = loads["cool_w"].sum(axis=0)
    heat = loads["heat_w"].sum(axis=0) + loads["reheat_w"].sum(axis=0)
    cap_c = max(float(cool.max()), 1.0)
    cap_h = max(float(heat.max()), 1.0)
    ch_on, bl_on = cool > 1000.0, heat > 1000.0
    s["chiller_on"] = ch_on[None, :]
    s["chws_sp"] = np.full((1, STEPS), 7.0)
    s["chws"] = np.where(ch_on, 7.0, 15.0)[None, :]
    s["chwr"] = np.where(ch_on, 7.0 + 5.0 * cool / cap_c, 15.0)[None, :]
    hws_sp = np.round(_clip(70.0 - 0.8 * w.t_out, 45.0, 75.0))
    s["boiler_on"] = bl_on[None, :]
    s["hws_sp"] = hws_sp[None, :]
    s["hws"] = np.where(bl_on, hws_sp, 30.0)[None, :]
    s["hwr"] = np.where(bl_on, hws_sp - 15.0 * heat / cap_h, 30.0)[None, :]

    cop = _clip(5.5 - 0.08 * (w.t_out - 10.0), 2.5, 6.0)
    power = np.zeros((len(b.meters), STEPS))  # kW
    for m, meter in enumerate(b.meters):
        kind = meter.source[0]
        if kind == "floor":
            power[m] = loads["light_w"][b.zone_floor == meter.source[1]].sum(axis=0) / 1000.0
        elif kind == "ahu":
            power[m] = loads["fan_w"][meter.source[1]] / 1000.0
        elif kind == "chiller":
            power[m] = cool / cop / 1000.0
        elif kind == "boiler":
            power[m] = heat / 0.9 / 1000.0
    _sum_meters(b, power)
    s["meter_power"] = power
    steps_kwh = power * (DT_S / 3600.0)
    # counter value at the start of each step: reading at t covers everything before t
    s["meter_energy"] = energy0[:, None] + np.cumsum(steps_kwh, axis=1) - steps_kwh
    return energy0 + steps_kwh.sum(axis=1)
