"""btb campaign remote: variables for the playbook and ansible-runner events → progress lines."""

from __future__ import annotations

import json

import pytest

from btb.errors import BtbError
from btb.workflows import remote

pytestmark = pytest.mark.unit


def test_extravars_use_the_playbook_names():
    assert remote.extravars("tiny-1d", [0.5, 1.0], ["P1"], ["Q1-Q3"], "c1",
                            ["btb_campaign_poll_delay=5"]) == {
        "profile": "tiny-1d", "ram_levels": [0.5, 1.0], "scenarios": ["P1"],
        "queries": ["Q1-Q3"], "btb_campaign_name": "c1", "btb_campaign_poll_delay": "5"}
    assert remote.extravars(None, None, None, None, None, []) == {}


def test_extravars_refuse_a_malformed_pair():
    with pytest.raises(BtbError, match="KEY=VALUE"):
        remote.extravars("tiny-1d", None, None, None, None, ["novalue"])


def _retry(status: dict) -> dict:
    return {"event": "runner_retry",
            "event_data": {"host": "bench1", "res": {"stdout": json.dumps(status)}}}


def test_poll_retries_become_progress_lines():
    line = remote.progress_line(_retry({
        "btb_poll": 1, "phase": "run", "alive": True, "rc": None, "log_tail": [],
        "progress": {"done": 12, "total": 40, "current": "P1/4g/Q3-small", "eta_s": 250.0}}))
    assert line == "[btb] bench1: run 12/40 cells, current P1/4g/Q3-small, ETA 4m10s"
    line = remote.progress_line(_retry({"btb_poll": 1, "phase": "dataset", "progress": None,
                                        "log_tail": ["generating day 3/30"]}))
    assert line == "[btb] bench1: dataset: generating day 3/30"


def test_other_events():
    assert remote.progress_line({"event": "playbook_on_task_start", "event_data": {
        "play": "Provision btb hosts", "task": "Install the packages btb needs"}}) == \
        "[task] Provision btb hosts / Install the packages btb needs"
    assert remote.progress_line({"event": "runner_on_failed", "event_data": {
        "host": "bench1", "task": "Check", "res": {"msg": "boom"}}}) == \
        "[failed] bench1: Check: boom"
    # retries of other tasks, ok results and verbose noise are not shown
    assert remote.progress_line({"event": "runner_retry", "event_data": {
        "res": {"stdout": "not json"}}}) is None
    assert remote.progress_line({"event": "runner_on_ok", "event_data": {}}) is None


def test_unknown_playbook_and_missing_repo(tmp_path):
    with pytest.raises(BtbError, match="valid playbooks: campaign, deploy, fetch"):
        remote.run_playbook("nope", tmp_path / "hosts.yml", {})
    with pytest.raises(BtbError, match="not a btb checkout"):
        remote.check_repo(tmp_path)
