"""Sequence-length sweeps through the real app (issue 18): the compare page's recurrent
presets (RNN vs GRU vs LSTM, the T sweep) under the server's max T, and a sweep trained by
the workers whose GET names each model's score at every T and the first T it fails at,
checked against the member runs themselves."""

from __future__ import annotations

import html
import math
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from app.nn.compare.sweep import SWEEP_LENGTHS, sweep_members
from app.nn.data.sequences import SEQ_TASKS
from app.nn.spec.experiment import validate_spec
from tests.web.compare.test_api import comparison_events, wait_comparison
from tests.web.compare.test_architectures import _form, post_form
from tests.web.service import TERMINAL, app_client, make_settings

BASE = {
    "family": "rnn",
    "seed": 4,
    "rnn": {"dataset": "adding", "samples": 60, "hidden": 4},
    "train": {"epochs": 2},
}
LINK = "fam=rnn&rnn=dataset:adding,samples:60,hidden:4&ep=2&s=4"


def presets(page: str) -> list[str]:
    return re.findall(r'data-preset="([^"]+)"', page)


def test_recurrent_presets_fill_the_members_under_the_servers_max_t(tmp_path: Path) -> None:
    with app_client(make_settings(tmp_path, max_seq_len=60)) as client:
        page = client.get(f"/compare?{LINK}&m=-&m=-").text
        assert presets(page)[:2] == ["cells", "length-sweep"]
        assert "cells" not in presets(client.get("/compare?d=xor&m=-&m=-").text)
        items = [(k, v) for k, v in _form(page) if k != "ui.action"]
        posted = post_form(client, [*items, ("ui.action", "preset:length-sweep")])
        assert posted.status_code == 200, posted.text
        query = parse_qsl(urlsplit(posted.headers["hx-replace-url"]).query)
        link = [v for k, v in query if k == "m"]
        allowed = [t for t in SWEEP_LENGTHS if t <= 60]
        assert len(link) == 2 * len(allowed)
        for text, (cell, t) in zip(
            link, [(c, t) for c in ("RNN", "LSTM") for t in allowed], strict=True
        ):
            assert f"label~{cell}" in text and text.endswith(f"T={t}"), text
        # The page reopened from that link: every card keeps its cell and its length.
        again = client.get(posted.headers["hx-replace-url"]).text
        assert again.count('class="member"') == len(link)
        # Each card: its cell in the Model select (the base's LSTM: "(base model)"), its T
        # in its own field, nothing left over ("also: ...").
        chosen = [dict(_form(again))[f"members.{i}.model"] for i in range(len(link))]
        assert chosen == ["cell:rnn_tanh"] * len(allowed) + [""] * len(allowed)
        lengths = [dict(_form(again))[f"members.{i}.rnn.length"] for i in range(len(link))]
        assert lengths == [str(t) for t in allowed] * 2
        assert 'class="kept"' not in again
        # A card's T is editable: member 2 at T=40 (a link keeps it; 422s name the field).
        items2 = [(k, v) for k, v in _form(again) if k not in ("ui.action", "members.1.rnn.length")]
        edited = post_form(client, [*items2, ("members.1.rnn.length", "40")])
        assert "length:40" in edited.headers["hx-replace-url"]
        items3 = [(k, v) for k, v in _form(again) if k not in ("ui.action", "members.1.rnn.length")]
        bad = post_form(client, [*items3, ("members.1.rnn.length", "61")])
        assert "Member 2: Length T must be between 1 and 60 (it is 61)" in bad.text
        cells = post_form(client, [*items, ("ui.action", "preset:cells")])
        trio = [
            v for k, v in parse_qsl(urlsplit(cells.headers["hx-replace-url"]).query) if k == "m"
        ]
        assert [re.search(r"label~([^!]+)", m).group(1) for m in trio] == [  # type: ignore[union-attr]
            "RNN (tanh)",
            "GRU",
            "LSTM",
        ]


def test_a_member_beyond_the_max_t_is_422_naming_its_length(tmp_path: Path) -> None:
    with app_client(make_settings(tmp_path, max_seq_len=60)) as client:
        body = {"base": BASE, "members": [{}, {"overrides": {"rnn": {"length": 61}}}]}
        response = client.post("/api/comparisons", json=body)
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["detail"]] == ["members.1.rnn.length"]


def test_a_length_sweep_trains_and_names_where_each_model_fails(tmp_path: Path) -> None:
    resolved = validate_spec(BASE).model_dump(mode="json")
    members = sweep_members(resolved, 200)[::2]  # T = 10 and 50 for each cell: 4 members
    with app_client(make_settings(tmp_path)) as client:
        created = client.post("/api/comparisons", json={"base": BASE, "members": members})
        assert created.status_code == 201, created.text
        view = wait_comparison(client, created.json()["id"], TERMINAL)
        assert view["status"] == "finished", view
        assert "own data (another rnn.length)" in view["mode_reason"]
        sweep = view["sweep"]
        assert sweep["lengths"] == [10, 50] and sweep["metric"] == "mse"
        chance = SEQ_TASKS["adding"].chance
        assert sweep["chance"] == chance
        # The oracle: each member run's own final test MSE and the rule (closer to chance
        # than to perfect), and the length its data really has (its start event).
        runs = [client.get(f"/api/runs/{m['run_id']}").json() for m in view["members"]]
        starts = {
            e["member"]: e["sequence"]["length"]
            for e in comparison_events(client, view["id"])
            if e["type"] == "start"
        }
        assert [s["label"] for s in sweep["outcome"]] == ["RNN (tanh)", "LSTM"]
        for series in sweep["outcome"]:
            first = None
            for point in series["points"]:
                i, t = point["member"], point["length"]
                assert runs[i]["spec"]["rnn"]["length"] == t == starts[i]
                mse = runs[i]["summary"]["final"]["test_rmse"] ** 2
                assert math.isclose(point["score"], mse, rel_tol=1e-9)
                assert point["fails"] == (mse > chance / 2)
                if point["fails"] and first is None:
                    first = t
            assert series["fails_at"] == first
        # A comparison over one length has no sweep.
        other = client.post(
            "/api/comparisons",
            json={"base": BASE, "members": [{}, {"overrides": {"rnn": {"cell": "gru"}}}]},
            params={"paused": True},
        ).json()
        assert client.get(f"/api/comparisons/{other['id']}").json()["sweep"] is None
        client.post(f"/api/comparisons/{other['id']}/stop")


def test_an_experiment_query_with_a_preset_opens_as_that_comparison(tmp_path: Path) -> None:
    """The playground's compare links: /compare?<the experiment>&preset=<key> answers with
    the comparison's own link (base = the experiment, members = the preset's)."""
    query = "fam=rnn&rnn=dataset:parity,length:6,samples:40&ep=1&s=3"
    with app_client(make_settings(tmp_path)) as client:
        response = client.get(f"/compare?{query}&preset=length-sweep", follow_redirects=False)
        assert response.status_code == 307
        link = response.headers["location"]
        items = parse_qsl(urlsplit(link).query)
        assert "preset" not in dict(items) and dict(items)["s"] == "3"
        assert "dataset:parity" in dict(items)["rnn"]
        members = [v for k, v in items if k == "m"]
        assert len(members) == 2 * len(SWEEP_LENGTHS)
        page = client.get(link).text
        assert page.count('class="member"') == len(members) and "could not be opened" not in page
        # A preset the experiment does not offer: the default comparison and why.
        page = html.unescape(client.get("/compare?d=xor&preset=cells").text)
        assert "could not be opened (unknown preset 'cells'; this experiment offers" in page


def test_a_sweep_of_a_base_that_trains_until_paused_gets_a_budget(tmp_path: Path) -> None:
    """The sweep's 'fails at' is read at the end of a budget: the preset turns a base that
    trains until paused (the compare page's default) into the family's default epochs."""
    with app_client(make_settings(tmp_path, max_seq_len=60)) as client:
        page = client.get(f"/compare?{LINK.replace('&ep=2', '&up=1')}&m=-&m=-").text
        items = [(k, v) for k, v in _form(page) if k != "ui.action"]
        assert ("train.until_paused", "on") in items
        posted = post_form(client, [*items, ("ui.action", "preset:length-sweep")])
        query = dict(parse_qsl(urlsplit(posted.headers["hx-replace-url"]).query))
        default = validate_spec({"family": "rnn"}).train.epochs
        # (a link leaves out what equals the spec's default: epochs, until_paused off)
        assert "up" not in query and query.get("ep", str(default)) == str(default), query
        # The other presets leave the base alone.
        posted = post_form(client, [*items, ("ui.action", "preset:cells")])
        assert dict(parse_qsl(urlsplit(posted.headers["hx-replace-url"]).query))["up"] == "1"
