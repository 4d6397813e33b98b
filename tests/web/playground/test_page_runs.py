"""A page's runs (web/playground/page_runs.py): idle runs stop outside demo mode too, the reattach
offer and its "stop" belong to the visitor who started the run, and the tables are bounded."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.settings import Settings
from app.web.playground import page_runs
from app.web.playground.page_runs import PageRuns
from tests.web.service import app_client, make_settings, wait_for


def test_unwatched_runs_stop_outside_demo_mode_too(tmp_path: Path) -> None:
    normal = Settings(data_dir=tmp_path)
    assert not normal.demo and normal.idle_run_seconds == 600
    assert Settings(data_dir=tmp_path, demo=True).idle_run_seconds == 300
    assert Settings(data_dir=tmp_path, idle_run_seconds=0).idle_run_seconds == 0  # opt out
    with app_client(make_settings(tmp_path)) as client:
        manager = client.app.state.service  # type: ignore[attr-defined]
        assert manager.control._reaper is not None  # the idle loop runs with the default settings


def _play(client: object, token: str) -> str:
    form = {"ui.page": token, "data.samples": "100", "train.epochs": "5000"}
    html = client.post("/ui/play", data=form).text  # type: ignore[attr-defined]
    found = re.search(r'data-run="([0-9a-f]+)"', html)
    assert found, html
    return found.group(1)


def test_reattach_offer_and_its_stop_are_the_visitors_own(tmp_path: Path) -> None:
    with app_client(make_settings(tmp_path)) as client:
        manager = client.app.state.service  # type: ignore[attr-defined]
        client.get("/healthz")
        alice = dict(client.cookies)
        run_id = _play(client, "tab1")
        page = client.get("/").text
        assert f'data-run="{run_id}"' in page and "is still" in page  # no socket watches it

        client.cookies.clear()  # another visitor sees no offer and cannot stop it
        assert f'data-run="{run_id}"' not in client.get("/").text
        assert client.post(f"/ui/reattach/{run_id}/stop").status_code == 404
        assert manager.runs[run_id].active

        client.cookies.update(alice)
        answer = client.post(f"/ui/reattach/{run_id}/stop")
        assert answer.status_code == 200 and f"Stopped run {run_id[:4]}" in answer.text
        wait_for(lambda: manager.runs[run_id].terminal, what="the run to stop")
        assert f'data-run="{run_id}"' not in client.get("/").text


def test_a_second_play_of_the_same_page_stops_the_first(tmp_path: Path) -> None:
    with app_client(make_settings(tmp_path)) as client:
        manager = client.app.state.service  # type: ignore[attr-defined]
        first = _play(client, "tab1")
        other_tab = _play(client, "tab2")  # another page of the same visitor: left alone
        second = _play(client, "tab1")  # posted without ui.run, as a quick second click is
        wait_for(lambda: manager.runs[first].terminal, what="the first run to stop")
        assert "newer Play or Reset" in manager.runs[first].reason
        assert manager.runs[second].active and manager.runs[other_tab].active
        client.post("/ui/reset", data={"ui.page": "tab1"})
        wait_for(lambda: manager.runs[second].terminal, what="Reset to stop the page's run")
        assert manager.runs[other_tab].active
        client.post(f"/api/runs/{other_tab}/stop")


def test_tables_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(page_runs, "MAX_PAGES", 8)
    monkeypatch.setattr(page_runs, "MAX_VISITORS", 8)
    runs = PageRuns()
    for i in range(100):
        runs.lock(f"v/{i}")
        for j in range(40):
            runs.add(f"v/{i}", f"v{i}", f"r{i}-{j}")
    assert len(runs.locks) == len(runs.pages) == len(runs.visitors) == 8
    assert runs.started("v/99") == [f"r99-{j}" for j in range(40 - page_runs.RUNS_PER_KEY, 40)]
    assert runs.started("v/0") == []
