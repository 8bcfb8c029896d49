"""Helpers for the docker-runtime tests: a DockerRuntime on the local images
(docker/local/images.yml, built by scripts/docker.sh), or a skip/CI failure saying how to get
one (the `docker_runtime` fixture in conftest.py wraps `local_runtime`)."""

from __future__ import annotations

from pathlib import Path

from btb.config.images import load_images
from btb.errors import BtbError
from btb.runtime.docker import DockerRuntime
from tests.conftest import need

LOCAL_IMAGES = Path(__file__).resolve().parents[2] / "docker" / "local" / "images.yml"
MiB = 1 << 20


def local_runtime() -> DockerRuntime:
    try:
        return DockerRuntime(images=load_images(LOCAL_IMAGES))
    except BtbError as e:
        need(False, str(e))


def need_image(rt: DockerRuntime, engine: str) -> None:
    import docker

    ref = rt.images[engine].image
    try:
        rt.client.images.get(ref)
    except docker.errors.ImageNotFound:
        need(False, f"image {ref} for {engine} is missing: build it with bash scripts/docker.sh")


def btb_containers(rt: DockerRuntime) -> set[str]:
    """Ids of every container the docker runtime created (running or not)."""
    return {c.id for c in rt.client.containers.list(all=True,
                                                    filters={"label": "btb.runtime=docker"})}
