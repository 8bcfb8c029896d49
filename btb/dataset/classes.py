"""Brick classes, relations and point types used by the building model.

The class tree is written to `classes.parquet` with every dataset, so each engine can materialise
the hierarchy its own way (SQL class table, Cypher multi-labels, RDF `rdfs:subClassOf*`) and
queries can ask at any level (Zone_Air_Temperature_Sensor ⊂ Air_Temperature_Sensor ⊂ ... ⊂ Point).
Names are Brick 1.3/1.4 class and relation names (namespace below), so the RDF export is a Brick
model that building-informatics tools can read.
"""

from __future__ import annotations

from dataclasses import dataclass

BRICK_NS = "https://brickschema.org/schema/Brick#"

# Relations (edges.parquet `rel`), Brick names; `hasTimeseries`/ArchiveDay exist only in exports.
RELATIONS = ("hasPart", "feeds", "hasLocation", "isPointOf", "meters", "hasSubMeter")

# child -> parent. Roots: Location, Equipment, Point.
_TREE: dict[str, str | None] = {
    "Location": None,
    "Site": "Location",
    "Building": "Location",
    "Floor": "Location",
    "Space": "Location",
    "Room": "Space",
    "Zone": "Location",
    "HVAC_Zone": "Zone",
    "Equipment": None,
    "HVAC_Equipment": "Equipment",
    "AHU": "HVAC_Equipment",
    "Terminal_Unit": "HVAC_Equipment",
    "VAV": "Terminal_Unit",
    "Fan": "HVAC_Equipment",
    "Supply_Fan": "Fan",
    "Coil": "HVAC_Equipment",
    "Cooling_Coil": "Coil",
    "Heating_Coil": "Coil",
    "Damper": "HVAC_Equipment",
    "Outside_Damper": "Damper",
    "Chiller": "HVAC_Equipment",
    "Boiler": "HVAC_Equipment",
    "Meter": "Equipment",
    "Electrical_Meter": "Meter",
    "Building_Electrical_Meter": "Electrical_Meter",
    "Gas_Meter": "Meter",
    "Building_Gas_Meter": "Gas_Meter",
    "Point": None,
    # sensors
    "Sensor": "Point",
    "Temperature_Sensor": "Sensor",
    "Air_Temperature_Sensor": "Temperature_Sensor",
    "Zone_Air_Temperature_Sensor": "Air_Temperature_Sensor",
    "Discharge_Air_Temperature_Sensor": "Air_Temperature_Sensor",
    "Supply_Air_Temperature_Sensor": "Air_Temperature_Sensor",
    "Return_Air_Temperature_Sensor": "Air_Temperature_Sensor",
    "Mixed_Air_Temperature_Sensor": "Air_Temperature_Sensor",
    "Outside_Air_Temperature_Sensor": "Air_Temperature_Sensor",
    "Water_Temperature_Sensor": "Temperature_Sensor",
    "Chilled_Water_Supply_Temperature_Sensor": "Water_Temperature_Sensor",
    "Chilled_Water_Return_Temperature_Sensor": "Water_Temperature_Sensor",
    "Hot_Water_Supply_Temperature_Sensor": "Water_Temperature_Sensor",
    "Hot_Water_Return_Temperature_Sensor": "Water_Temperature_Sensor",
    "Humidity_Sensor": "Sensor",
    "Relative_Humidity_Sensor": "Humidity_Sensor",
    "Zone_Air_Humidity_Sensor": "Relative_Humidity_Sensor",
    "Air_Quality_Sensor": "Sensor",
    "CO2_Sensor": "Air_Quality_Sensor",
    "CO2_Level_Sensor": "CO2_Sensor",
    "Flow_Sensor": "Sensor",
    "Air_Flow_Sensor": "Flow_Sensor",
    "Supply_Air_Flow_Sensor": "Air_Flow_Sensor",
    "Pressure_Sensor": "Sensor",
    "Static_Pressure_Sensor": "Pressure_Sensor",
    "Supply_Air_Static_Pressure_Sensor": "Static_Pressure_Sensor",
    "Velocity_Pressure_Sensor": "Pressure_Sensor",
    "Supply_Air_Velocity_Pressure_Sensor": "Velocity_Pressure_Sensor",
    "Position_Sensor": "Sensor",
    "Damper_Position_Sensor": "Position_Sensor",
    "Valve_Position_Sensor": "Position_Sensor",
    "Occupancy_Sensor": "Sensor",
    "Illuminance_Sensor": "Sensor",
    "Power_Sensor": "Sensor",
    "Electric_Power_Sensor": "Power_Sensor",
    "Thermal_Power_Sensor": "Power_Sensor",
    "Energy_Sensor": "Sensor",
    "Electric_Energy_Sensor": "Energy_Sensor",
    "Thermal_Energy_Sensor": "Energy_Sensor",
    # setpoints
    "Setpoint": "Point",
    "Temperature_Setpoint": "Setpoint",
    "Zone_Air_Temperature_Setpoint": "Temperature_Setpoint",
    "Zone_Air_Heating_Temperature_Setpoint": "Zone_Air_Temperature_Setpoint",
    "Zone_Air_Cooling_Temperature_Setpoint": "Zone_Air_Temperature_Setpoint",
    "Supply_Air_Temperature_Setpoint": "Temperature_Setpoint",
    "Chilled_Water_Supply_Temperature_Setpoint": "Temperature_Setpoint",
    "Hot_Water_Supply_Temperature_Setpoint": "Temperature_Setpoint",
    "Flow_Setpoint": "Setpoint",
    "Air_Flow_Setpoint": "Flow_Setpoint",
    "Supply_Air_Flow_Setpoint": "Air_Flow_Setpoint",
    "Max_Air_Flow_Setpoint": "Air_Flow_Setpoint",
    "Pressure_Setpoint": "Setpoint",
    "Supply_Air_Static_Pressure_Setpoint": "Pressure_Setpoint",
    "Position_Setpoint": "Setpoint",
    "Damper_Position_Setpoint": "Position_Setpoint",
    # commands
    "Command": "Point",
    "Position_Command": "Command",
    "Damper_Position_Command": "Position_Command",
    "Valve_Position_Command": "Position_Command",
    "Occupancy_Command": "Command",
    "Start_Stop_Command": "Command",
    "Speed_Command": "Command",
    "Fan_Speed_Command": "Speed_Command",
    # status
    "Status": "Point",
    "Mode_Status": "Status",
    "Occupied_Mode_Status": "Mode_Status",
    "Overridden_Status": "Status",
    "Fault_Status": "Status",
    "On_Off_Status": "Status",
    "Run_Status": "On_Off_Status",
    "Fan_Status": "On_Off_Status",
    "Filter_Status": "Status",
    # alarms
    "Alarm": "Point",
    "Temperature_Alarm": "Alarm",
    "Air_Temperature_Alarm": "Temperature_Alarm",
    "Supply_Air_Temperature_Alarm": "Air_Temperature_Alarm",
}

CATEGORIES = ("sensor", "status", "setpoint", "command", "alarm")
_CATEGORY_ROOT = {"Sensor": "sensor", "Status": "status", "Setpoint": "setpoint",
                  "Command": "command", "Alarm": "alarm"}


def parent(cls: str) -> str | None:
    return _TREE[cls]


def ancestors(cls: str) -> list[str]:
    """The class itself, then its parents up to the root."""
    out = []
    c: str | None = cls
    while c is not None:
        out.append(c)
        c = _TREE[c]
    return out


def is_a(cls: str, other: str) -> bool:
    return other in ancestors(cls)


def category(cls: str) -> str | None:
    """sensor/status/setpoint/command/alarm for point classes, None otherwise."""
    for c in ancestors(cls):
        if c in _CATEGORY_ROOT:
            return _CATEGORY_ROOT[c]
    return None


def class_rows() -> list[dict]:
    """Rows of classes.parquet, parents before children (stable order)."""
    return [{"class": c, "parent": p, "category": category(c)} for c, p in _TREE.items()]


@dataclass(frozen=True)
class PointType:
    """How one kind of point is sampled and which simulated signal it reports.

    interval_s: sampling period in seconds; 0 = change-of-value (COV): a row at every change of
    the value quantised to `resolution`, plus one at 00:00 each day so that every day is
    self-contained (a BMS trend log re-sends the current value on subscription).
    noise: standard deviation of the measurement noise added to the signal (0 = exact).
    """

    cls: str
    signal: str  # name of the simulated signal (see simulation.physics)
    unit: str
    interval_s: int
    resolution: float
    noise: float = 0.0
    # How a periodic point reads a signal simulated on a finer grid: the value at the sample time
    # ("sample", e.g. a totalised energy counter) or the mean over the interval ("mean", power).
    aggregate: str = "sample"


# Sampling per DESIGN.md §3: analog 5 min, airflow/valve/damper 1 min, meters 15 min, others COV.
A5, A1, M15, COV = 300, 60, 900, 0

POINT_TYPES: dict[str, PointType] = {
    # VAV box (17-19 points depending on options)
    "vav.zat": PointType("Zone_Air_Temperature_Sensor", "zone_temp_sensor", "degC", A5, 0.01,
                         0.05),
    "vav.dat": PointType("Discharge_Air_Temperature_Sensor", "discharge_temp", "degC", A5, 0.01,
                         0.1),
    "vav.saf": PointType("Supply_Air_Flow_Sensor", "airflow", "m3/h", A1, 0.1, 5.0),
    "vav.svp": PointType("Supply_Air_Velocity_Pressure_Sensor", "velocity_pressure", "Pa", A1,
                         0.01, 0.5),
    "vav.dps": PointType("Damper_Position_Sensor", "damper_pos", "%", A1, 0.1, 0.3),
    "vav.vps": PointType("Valve_Position_Sensor", "reheat_valve", "%", A1, 0.1, 0.3),
    "vav.zah": PointType("Zone_Air_Humidity_Sensor", "zone_rh", "%RH", A5, 0.1, 0.5),
    "vav.sp": PointType("Supply_Air_Static_Pressure_Sensor", "inlet_pressure", "Pa", A5, 0.1, 2.0),
    "vav.co2": PointType("CO2_Level_Sensor", "zone_co2", "ppm", A5, 1.0, 10.0),
    "vav.hsp": PointType("Zone_Air_Heating_Temperature_Setpoint", "heat_sp", "degC", COV, 0.1),
    "vav.csp": PointType("Zone_Air_Cooling_Temperature_Setpoint", "cool_sp", "degC", COV, 0.1),
    "vav.fsp": PointType("Supply_Air_Flow_Setpoint", "airflow_sp", "m3/h", COV, 10.0),
    "vav.dsp": PointType("Damper_Position_Setpoint", "damper_sp", "%", COV, 5.0),
    "vav.mfsp": PointType("Max_Air_Flow_Setpoint", "max_airflow", "m3/h", COV, 10.0),
    "vav.dpc": PointType("Damper_Position_Command", "damper_cmd", "%", COV, 5.0),
    "vav.vpc": PointType("Valve_Position_Command", "reheat_cmd", "%", COV, 5.0),
    "vav.occ": PointType("Occupancy_Command", "occupied", "bool", COV, 1.0),
    "vav.oms": PointType("Occupied_Mode_Status", "occupied", "bool", COV, 1.0),
    "vav.ovr": PointType("Overridden_Status", "override", "bool", COV, 1.0),
    "vav.flt": PointType("Fault_Status", "vav_fault", "bool", COV, 1.0),
    "vav.alm": PointType("Air_Temperature_Alarm", "zone_alarm", "bool", COV, 1.0),
    # rooms
    "room.occ": PointType("Occupancy_Sensor", "room_occupied", "bool", COV, 1.0),
    "room.lux": PointType("Illuminance_Sensor", "room_lux", "lx", A5, 1.0, 5.0),
    "room.light": PointType("On_Off_Status", "room_light", "bool", COV, 1.0),
    # AHU and its parts
    "ahu.sat": PointType("Supply_Air_Temperature_Sensor", "ahu_supply_temp", "degC", A5, 0.01,
                         0.05),
    "ahu.rat": PointType("Return_Air_Temperature_Sensor", "ahu_return_temp", "degC", A5, 0.01,
                         0.05),
    "ahu.mat": PointType("Mixed_Air_Temperature_Sensor", "ahu_mixed_temp", "degC", A5, 0.01, 0.1),
    "ahu.oat": PointType("Outside_Air_Temperature_Sensor", "outside_temp", "degC", A5, 0.01, 0.1),
    "ahu.ssp": PointType("Supply_Air_Static_Pressure_Sensor", "ahu_static", "Pa", A5, 0.1, 3.0),
    "ahu.satsp": PointType("Supply_Air_Temperature_Setpoint", "ahu_supply_sp", "degC", COV, 0.1),
    "ahu.sspsp": PointType("Supply_Air_Static_Pressure_Setpoint", "ahu_static_sp", "Pa", COV,
                           10.0),
    "ahu.filter": PointType("Filter_Status", "ahu_filter", "bool", COV, 1.0),
    "ahu.alm": PointType("Supply_Air_Temperature_Alarm", "ahu_alarm", "bool", COV, 1.0),
    "fan.status": PointType("Fan_Status", "fan_on", "bool", COV, 1.0),
    "fan.speed": PointType("Fan_Speed_Command", "fan_speed", "%", COV, 5.0),
    "cc.cmd": PointType("Valve_Position_Command", "cool_valve", "%", COV, 5.0),
    "cc.pos": PointType("Valve_Position_Sensor", "cool_valve", "%", A1, 0.1, 0.3),
    "hc.cmd": PointType("Valve_Position_Command", "heat_valve", "%", COV, 5.0),
    "hc.pos": PointType("Valve_Position_Sensor", "heat_valve", "%", A1, 0.1, 0.3),
    "oad.cmd": PointType("Damper_Position_Command", "oa_damper", "%", COV, 5.0),
    "oad.pos": PointType("Damper_Position_Sensor", "oa_damper", "%", A1, 0.1, 0.3),
    # plant
    "chiller.chws": PointType("Chilled_Water_Supply_Temperature_Sensor", "chws", "degC", A5, 0.01,
                              0.05),
    "chiller.chwr": PointType("Chilled_Water_Return_Temperature_Sensor", "chwr", "degC", A5, 0.01,
                              0.05),
    "chiller.sp": PointType("Chilled_Water_Supply_Temperature_Setpoint", "chws_sp", "degC", COV,
                            0.1),
    "chiller.run": PointType("Run_Status", "chiller_on", "bool", COV, 1.0),
    "chiller.cmd": PointType("Start_Stop_Command", "chiller_on", "bool", COV, 1.0),
    "boiler.hws": PointType("Hot_Water_Supply_Temperature_Sensor", "hws", "degC", A5, 0.01, 0.1),
    "boiler.hwr": PointType("Hot_Water_Return_Temperature_Sensor", "hwr", "degC", A5, 0.01, 0.1),
    "boiler.sp": PointType("Hot_Water_Supply_Temperature_Setpoint", "hws_sp", "degC", COV, 0.1),
    "boiler.run": PointType("Run_Status", "boiler_on", "bool", COV, 1.0),
    "boiler.cmd": PointType("Start_Stop_Command", "boiler_on", "bool", COV, 1.0),
    # meters: power is the 15-min average, energy the totalised counter at the end of the interval
    "emeter.power": PointType("Electric_Power_Sensor", "meter_power", "kW", M15, 0.01,
                              aggregate="mean"),
    "emeter.energy": PointType("Electric_Energy_Sensor", "meter_energy", "kWh", M15, 0.01),
    "gmeter.power": PointType("Thermal_Power_Sensor", "meter_power", "kW", M15, 0.01,
                              aggregate="mean"),
    "gmeter.energy": PointType("Thermal_Energy_Sensor", "meter_energy", "kWh", M15, 0.01),
}

for _k, _t in POINT_TYPES.items():
    assert _t.cls in _TREE, f"point type {_k}: unknown class {_t.cls}"
