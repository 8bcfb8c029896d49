"""`molecule test` for each role, against the session's SSH test host (default driver,
unmanaged host): syntax, prepare, converge, idempotence (second converge: changed=0), verify."""

from __future__ import annotations

import subprocess

import pytest

from tests.ansible.conftest import REPO, VENV_BIN, ansible_env
from tests.conftest import need

pytestmark = [pytest.mark.ansible, pytest.mark.slow]


@pytest.mark.parametrize("role", ["btb_host", "btb_deploy", "btb_campaign"])
def test_molecule_scenario(test_host, role):
    molecule = VENV_BIN / "molecule"
    need(molecule.exists(), "molecule is missing: it is in the `ansible` extra (scripts/setup.sh)")
    env = ansible_env()
    env.update(BTB_TEST_SSH_ADDRESS=test_host.address, BTB_TEST_SSH_PORT=str(test_host.port),
               BTB_TEST_SSH_KEY=str(test_host.key), BTB_TEST_BENCH_USER=test_host.bench_user,
               NO_COLOR="1", PY_COLORS="0")
    env.pop("MOLECULE_EPHEMERAL_DIRECTORY", None)
    done = subprocess.run([str(molecule), "test"], cwd=REPO / "roles" / role, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=900, check=False)
    assert done.returncode == 0, f"molecule test in roles/{role}:\n{done.stdout[-6000:]}"
    summary = done.stdout.replace("➜ ", "")
    for action in ("converge", "idempotence", "verify"):
        assert f"{action}: Executed: Successful" in summary, done.stdout[-3000:]
