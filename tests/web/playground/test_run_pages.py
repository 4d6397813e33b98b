"""The run list and a run's page: past runs reopen with their experiment and their stream."""

from __future__ import annotations

import re
from pathlib import Path

from tests.web.service import QUICK, TERMINAL, app_client, make_settings, wait_status


def test_run_list_and_run_page(tmp_path: Path) -> None:
    with app_client(make_settings(tmp_path)) as client:
        spec = {**QUICK, "data": {**QUICK["data"], "dataset": "moons"}}
        run_id = client.post("/api/runs", json=spec).json()["id"]
        wait_status(client, run_id, TERMINAL)
        listing = client.get("/runs").text
        assert f'href="/runs/{run_id}"' in listing and "moons" in listing
        page = client.get(f"/runs/{run_id}").text
        assert f'hx-ws:connect="/ws/runs/{run_id}?after=0"' in page
        assert re.search(r'value="moons"\s+checked', page)
        missing = client.get("/runs/doesnotexist").text
        assert "There is no run" in missing
