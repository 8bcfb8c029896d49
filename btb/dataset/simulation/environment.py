"""Exogenous inputs of one day: weather per site, occupancy and schedules per building.

All draws are addressed by (seed, entity, day) through `rng`, so any day is reproducible alone.
Weather is continuous across midnight: the day-to-day anomaly is interpolated between noons.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from btb.dataset.simulation import rng

STEPS = 288  # 5-minute steps per day: the physics grid
DT_S = 300.0
MINUTES = np.arange(STEPS) * 5
HOURS = MINUTES / 60.0
OCCUPIED_FROM, OCCUPIED_TO = 6.0, 19.0  # BMS schedule, weekdays (DESIGN.md §3)


@dataclass
class Weather:
    t_out: np.ndarray  # °C, per step
    solar: np.ndarray  # 0..1, per step
    rh_base: float  # %RH indoor baseline for the season


def _season(date: dt.date) -> float:
    """+1 at midsummer, -1 at midwinter."""
    return float(np.cos(2 * np.pi * (date.timetuple().tm_yday - 196) / 365.25))


def weather(seed: int, site_id: int, date: dt.date) -> Weather:
    day = date.toordinal()
    season = _season(date)
    # daily anomalies at noon of d-1, d, d+1, linearly interpolated -> continuous at midnight
    anomalies = 3.0 * rng.normal(seed, rng.WEATHER, site_id, 0, np.array([day - 1, day, day + 1]))
    anomaly = np.interp(HOURS, [-12.0, 12.0, 36.0], anomalies)
    minutes = day * 1440 + MINUTES
    fast = 0.3 * rng.normal(seed, rng.WEATHER, site_id, 1, minutes)
    t_out = 11.0 + 8.0 * season + anomaly + 4.0 * np.cos(2 * np.pi * (HOURS - 15.0) / 24) + fast

    day_length = 12.0 + 4.0 * season
    sunrise = 12.5 - day_length / 2
    sun = np.clip(np.sin(np.pi * (HOURS - sunrise) / day_length), 0.0, None)
    sun[HOURS < sunrise] = 0.0
    cloud = 0.3 + 0.7 * float(rng.uniform(seed, rng.WEATHER, site_id, 2, day))
    solar = sun * (0.6 + 0.4 * season) * cloud
    return Weather(t_out, solar, 42.5 + 12.5 * season)


@dataclass
class Occupancy:
    schedule: np.ndarray  # bool per step: BMS occupied mode (weekday 06–19)
    override: np.ndarray  # bool (zones, steps): occupant override after hours
    occ: np.ndarray  # 0..1 (zones, steps): occupant density relative to design
    room_used: np.ndarray  # bool per room: the room is used at all that day


def occupancy(seed: int, zone_ids: np.ndarray, room_ids: np.ndarray, date: dt.date) -> Occupancy:
    day = date.toordinal()
    weekday = date.weekday() < 5
    schedule = weekday & (HOURS >= OCCUPIED_FROM) & (HOURS < OCCUPIED_TO)
    z = zone_ids[:, None]
    u = [rng.uniform(seed, rng.OCCUPANCY, zone_ids, k, day)[:, None] for k in range(4)]
    arrive = 7.5 + 1.5 * u[0]
    leave = 16.5 + 2.0 * u[1]
    peak = 0.4 + 0.6 * u[2]
    override_on = weekday & (u[3] < 0.05)
    override = override_on & (HOURS >= OCCUPIED_TO) & (HOURS < 21.0)
    present = ((HOURS >= arrive) & (HOURS < leave)) | (override & (HOURS < 20.5))
    lunch = np.where((HOURS >= 12.0) & (HOURS < 13.0), 0.6, 1.0)
    jitter = 0.85 + 0.15 * rng.uniform(seed, rng.OCCUPANCY, z, 10, day * 1440 + MINUTES)
    occ = np.where(weekday & present, peak * lunch * jitter, 0.0)
    room_used = rng.uniform(seed, rng.OCCUPANCY, room_ids, 20, day) >= 0.15
    return Occupancy(schedule, override, occ, room_used)
