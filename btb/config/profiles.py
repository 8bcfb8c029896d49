"""Dataset profiles: `<scale>-<duration>`, e.g. `tiny-1d`, `small-2d`, `medium-1m`, `large-1y`.

A scale fixes the building portfolio (how many buildings, how big), a duration fixes the number of
simulated days. Sizes follow DESIGN.md §3 (Brick reference buildings, BTS dataset): 1,000–10,000
points per building, ~1 VAV per ~50 m² zone, 15–50 VAVs per AHU, 17–19 points per VAV. `tiny` is
the exception on purpose: one small building whose every query still has a non-empty answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from btb.errors import BtbError, unknown_name


@dataclass(frozen=True)
class Scale:
    name: str
    buildings: int
    floors: tuple[int, int]  # inclusive range, drawn per building
    zones_per_floor: tuple[int, int]  # inclusive range, drawn per building
    buildings_per_site: int
    purpose: str


@dataclass(frozen=True)
class Duration:
    name: str
    days: int


@dataclass(frozen=True)
class Profile:
    scale: Scale
    duration: Duration

    @property
    def name(self) -> str:
        return f"{self.scale.name}-{self.duration.name}"

    @property
    def days(self) -> int:
        return self.duration.days

    def dates(self) -> list[dt.date]:
        return [START_DATE + dt.timedelta(days=i) for i in range(self.days)]


SCALES: dict[str, Scale] = {
    s.name: s
    for s in (
        Scale("tiny", 1, (2, 2), (4, 4), 1, "tests, CI, demo"),
        Scale("small", 1, (10, 10), (22, 22), 1, "laptop / smoke campaign"),
        Scale("medium", 10, (5, 15), (16, 28), 10, "campus"),
        Scale("large", 50, (5, 15), (16, 28), 10, "portfolio, stress (128 GB+ host)"),
    )
}

DURATIONS: dict[str, Duration] = {
    d.name: d
    for d in (
        Duration("1d", 1),
        Duration("2d", 2),
        Duration("1w", 7),
        Duration("1m", 30),
        Duration("6m", 182),
        Duration("1y", 365),
    )
}

# A Monday in winter, so that `1w` covers every weekday and the heating season shows in the physics.
START_DATE = dt.date(2025, 1, 6)

DEFAULT_SEED = 42


def profile_names() -> list[str]:
    return [f"{s}-{d}" for s in SCALES for d in DURATIONS]


def get_profile(name: str) -> Profile:
    """Parse `<scale>-<duration>`; errors name the valid scales, durations and profiles."""
    scale_name, sep, duration_name = name.partition("-")
    if not sep:
        raise BtbError(
            f"bad profile {name!r}: expected <scale>-<duration>, e.g. small-2d; "
            f"valid profiles: {', '.join(profile_names())}"
        )
    if scale_name not in SCALES:
        raise unknown_name("scale", scale_name, SCALES)
    if duration_name not in DURATIONS:
        raise unknown_name("duration", duration_name, DURATIONS)
    return Profile(SCALES[scale_name], DURATIONS[duration_name])


def check_seed(seed: int) -> int:
    if seed < 0 or seed >= 2**32:
        raise BtbError(f"bad seed {seed}: the seed must be an integer in [0, 2**32)")
    return seed
