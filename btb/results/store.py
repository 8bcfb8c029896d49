"""Per-cell result files: `<results>/<campaign>/<scenario>/<ram>/<query>-<variant>.json`.

Each file is written atomically (temp file in the same directory, fsync, rename), so a killed
run never leaves a truncated result. Every file is validated against `schema.json` on write.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from functools import cache
from pathlib import Path

import jsonschema

SCHEMA_VERSION = 1
STATUSES = ("ok", "timeout", "oom", "load_failed", "crashed", "wrong_answer", "skipped")
SCHEMA_PATH = Path(__file__).with_name("schema.json")


@cache
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


@cache
def _validator() -> jsonschema.protocols.Validator:
    # jsonschema.validate() checks the schema itself and builds a validator on every call
    # (~0.1 s each); a report reads thousands of cells, so check once and keep the validator
    cls = jsonschema.validators.validator_for(schema())
    cls.check_schema(schema())
    return cls(schema())


def validate(result: dict) -> None:
    """Raise the most relevant jsonschema.ValidationError (as jsonschema.validate does)."""
    error = jsonschema.exceptions.best_match(_validator().iter_errors(result))
    if error is not None:
        raise error


def cell_path(results: Path, campaign: str, scenario: str, ram: str, query: str,
              variant: str) -> Path:
    return Path(results) / campaign / scenario / ram / f"{query}-{variant}.json"


def write(path: Path, result: dict) -> None:
    validate(result)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(result, f, indent=2, sort_keys=True, default=str)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


CELL_NAME = re.compile(r"^Q[0-9]+-(small|large)\.json$")


def cell_files(results: Path) -> list[Path]:
    """Every cell file under `results` (campaign files such as manifest.json are not cells)."""
    return [p for p in sorted(Path(results).rglob("*.json")) if CELL_NAME.match(p.name)]


def read(path: Path) -> dict:
    return json.loads(Path(path).read_text())


def read_all(results: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in cell_files(results)]
