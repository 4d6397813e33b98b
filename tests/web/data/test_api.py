"""Import through the API and the page: TF Playground links, CSV uploads, stored (drawn)
datasets and the page URL keys that carry them (pts=, tfp=)."""

from __future__ import annotations

import ast
import random
import re
from collections.abc import Iterator
from html import unescape
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from app.nn.spec.experiment import validate_spec
from app.nn.spec.tfp import import_tfp
from tests.nn.spec.test_tfp import DEFAULT_LINK, REGRESSION_LINK, SITE, SPIRAL_LINK
from tests.web.service import app_client, make_settings, wait_status

MAX_UPLOAD = 4000


def xor_csv(n: int = 40, seed: int = 0, header: bool = True) -> str:
    rng = random.Random(seed)
    rows = ["x1,x2,label"] if header else []
    for _ in range(n):
        x, y = rng.uniform(-5, 5), rng.uniform(-5, 5)
        rows.append(f"{x:.3f},{y:.3f},{int(x * y > 0)}")
    return "\n".join(rows) + "\n"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("import"), max_upload_bytes=MAX_UPLOAD)
    with app_client(settings) as c:
        yield c


# ---- TF Playground ------------------------------------------------------------------------
@pytest.mark.parametrize("link", [DEFAULT_LINK, SPIRAL_LINK, REGRESSION_LINK])
def test_tfp_links_become_specs(client: TestClient, link: str) -> None:
    response = client.post("/api/import/tfp", json={"url": link})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["spec"], body["notes"]) == import_tfp(link)
    assert any("seed" in note for note in body["notes"])  # what differs is said, not dropped


def test_an_imported_link_trains(client: TestClient) -> None:
    spec = client.post("/api/import/tfp", json={"url": SPIRAL_LINK, "epochs": 2}).json()["spec"]
    assert spec["data"]["dataset"] == "spiral" and spec["train"]["epochs"] == 2
    assert [layer["units"] for layer in spec["model"]["layers"]] == [8, 8, 5]
    run = client.post("/api/runs", json=spec).json()
    done = wait_status(client, run["id"], {"finished", "failed"})
    assert done["status"] == "finished" and done["spec"]["train"]["l2"] == 0.003


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"url": DEFAULT_LINK + "&foo=1"}, "unknown key(s) foo"),
        ({"url": "#learningRate=abc"}, "learningRate='abc': expected a number"),
        ({"url": "#activation=softmax"}, "activation='softmax'"),
        ({"url": SITE}, "no '#...' part"),
        ({"url": "#problem=regression&regDataset=reg-maximum"}, "regDataset=reg-maximum"),
        ({"url": 5}, '{"url": "<TF Playground link>"}'),
        ({"link": DEFAULT_LINK}, '{"url": "<TF Playground link>"}'),
        ({"url": DEFAULT_LINK, "epochs": 0}, "expected a whole number"),
    ],
)
def test_bad_links_are_422_naming_the_key(client: TestClient, body: object, fragment: str) -> None:
    response = client.post("/api/import/tfp", json=body)
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["field"] in ("url", "epochs") and fragment in error["message"]


# ---- CSV uploads and stored datasets -------------------------------------------------------
def test_csv_upload_multipart_and_raw_give_the_same_stored_dataset(client: TestClient) -> None:
    text = xor_csv()
    files = {"file": ("xor.csv", text.encode(), "text/csv")}
    up = client.post("/api/import/csv", files=files)
    assert up.status_code == 200, up.text
    body = up.json()
    assert body["task"] == "binary" and body["classes"] == 2 and body["rows"] == 40
    assert body["notes"] == []  # nothing to say about a clean 0/1 file
    assert body["spec"]["dataset"] == "custom" and len(body["spec"]["points"]) == 40
    raw = client.post("/api/import/csv", content=text, headers={"content-type": "text/csv"})
    assert raw.json()["pts"] == body["pts"]  # content-addressed
    stored = client.get(f"/api/datasets/{body['pts']}").json()
    assert stored["points"] == body["spec"]["points"] and stored["task"] == "binary"
    run = client.post("/api/runs", json={"data": body["spec"], "train": {"epochs": 3}}).json()
    done = wait_status(client, run["id"], {"finished", "failed"})
    assert done["status"] == "finished" and len(done["spec"]["data"]["points"]) == 40


def test_csv_notes_and_multiclass(client: TestClient) -> None:
    rows = [f"{10 * (i % 7 - 3)},{i % 5 - 2},{i % 3}" for i in range(30)]  # x reaches ±30
    body = client.post("/api/import/csv", content="\n".join(rows)).json()
    assert body["task"] == "multiclass" and body["classes"] == 3
    assert body["scale"] == pytest.approx(0.2)
    assert any("scaled" in note for note in body["notes"])


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("x1,x2,label\n1,2,0\n1,oops,1\n" + xor_csv(header=False), "line 3: x2: 'oops' is not"),
        ("1,2\n3,4\n", "line 1: expected 3 values"),
        (xor_csv(5), "found 5 data rows; at least 10"),
        ("1,2,inf\n" * 12, "not a finite number"),
        (b"\xff\xfe\x00garbage" * 3, "not UTF-8"),
        (xor_csv(400), f"the limit is {MAX_UPLOAD:,}"),
    ],
)
def test_bad_csv_files_are_422_with_the_line(
    client: TestClient, content: str | bytes, fragment: str
) -> None:
    data = content.encode() if isinstance(content, str) else content
    response = client.post("/api/import/csv", files={"file": ("d.csv", data, "text/csv")})
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["field"] == "file" and fragment in error["message"]


def test_oversized_and_empty_uploads(client: TestClient) -> None:
    huge = client.post("/api/import/csv", content="1,2,0\n" * 10_000)
    assert huge.status_code == 413
    empty = client.post("/api/import/csv", files={"other": ("x.txt", b"1,2,3", "text/plain")})
    assert empty.status_code == 422 and "named 'file'" in empty.json()["detail"][0]["message"]


def test_drawn_datasets(client: TestClient) -> None:
    points = [[i / 3 - 2, (i % 4) - 1.5, i % 2] for i in range(12)]
    first = client.post("/api/datasets", json={"points": points})
    assert first.status_code == 201
    assert first.json() == {"pts": first.json()["pts"], "count": 12, "task": "binary", "classes": 2}
    assert client.post("/api/datasets", json={"points": points}).json() == first.json()
    other = client.post("/api/datasets", json={"points": points[:-1]}).json()
    assert other["pts"] != first.json()["pts"]
    for bad, field in (
        ({"points": [[0, 0, 1], [1, 2]]}, "points.1"),
        ({"points": [[0, 7, 1]]}, "points.0"),
        ({"points": [[0, 0, True]]}, "points.0"),
        ({"points": []}, "points"),
        ({"pts": []}, "points"),
    ):
        response = client.post("/api/datasets", json=bad)
        assert response.status_code == 422 and response.json()["detail"][0]["field"] == field
    assert client.get("/api/datasets/0123456789abcdef").status_code == 404
    assert client.get("/api/datasets/not-a-key").status_code == 404


# ---- the page ---------------------------------------------------------------------------
def stored_key(client: TestClient, n: int = 24) -> tuple[str, list[list[float]]]:
    points = [[round(i / 5 - 2.3, 3), round((i * 7 % 11) / 2 - 2.5, 3), i % 2] for i in range(n)]
    return client.post("/api/datasets", json={"points": points}).json()["pts"], points


def test_page_urls_with_stored_points(client: TestClient) -> None:
    key, points = stored_key(client)
    page = client.get(f"/?d=custom&pts={key}").text
    assert "could not be opened" not in page
    assert f'id="data-pts" name="ui.pts" form="controls" value="{key}"' in page
    assert 'value="custom" checked' in page
    data = client.get(f"/ui/data?d=custom&pts={key}").json()
    shown = sum(len(split["x"]) for split in data["points"].values())
    assert shown == len(points) and data["notice"] == ""
    missing = client.get("/?d=custom&pts=0123456789abcdef").text
    assert "no such dataset is stored on this server" in unescape(missing)
    assert "showing the defaults" in missing
    # A stored key with a built-in dataset is remembered, not used.
    assert "could not be opened" not in client.get(f"/?d=xor&pts={key}").text


def test_controls_switch_to_stored_points_and_put_the_key_in_the_url(client: TestClient) -> None:
    key, _ = stored_key(client, 30)
    form = {"data.dataset": "circle", "ui.pts": key, "ui.use_pts": "1", "seed": "0"}
    response = client.post("/ui/controls", data=form)
    assert response.status_code == 200
    url = response.headers["hx-replace-url"]
    assert "d=custom" in url and f"pts={key}" in url
    assert 'value="custom" checked' in response.text
    # Without the switch, the chosen built-in dataset stays and the key stays out of the URL.
    plain = client.post("/ui/controls", data={**form, "ui.use_pts": ""})
    assert "pts=" not in plain.headers["hx-replace-url"]
    # Play with custom points trains on exactly them.
    panel = client.post("/ui/play", data={**form, "train.epochs": "2"})
    run_id = re.search(r'data-run="([0-9a-f]+)"', panel.text)
    assert run_id, panel.text
    run = client.get(f"/api/runs/{run_id.group(1)}").json()
    assert run["spec"]["data"]["dataset"] == "custom" and len(run["spec"]["data"]["points"]) == 30
    client.post(f"/api/runs/{run['id']}/stop")


def test_page_import_of_a_tfp_link(client: TestClient) -> None:
    page = client.get(f"/?tfp={quote(SPIRAL_LINK, safe='')}").text
    assert "could not be opened" not in page
    assert "Imported from TensorFlow Playground" in page
    canonical = unescape(re.search(r'data-canonical="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    assert canonical.startswith("/?") and "d=spiral" in canonical and "tfp" not in canonical
    reopened = client.get(canonical).text
    assert "could not be opened" not in reopened and 'value="spiral" checked' in reopened
    bad = client.get(f"/?tfp={quote(DEFAULT_LINK + '&foo=1', safe='')}").text
    assert "unknown key(s) foo" in unescape(bad) and "showing the defaults" in bad


def test_page_import_and_upload_endpoints(client: TestClient) -> None:
    ok = client.post("/ui/import/tfp", data={"tfp": DEFAULT_LINK})
    assert ok.status_code == 200
    assert ok.headers["hx-redirect"] == f"/?tfp={quote(DEFAULT_LINK, safe='')}"
    bad = client.post("/ui/import/tfp", data={"tfp": "#learningRate=abc"})
    assert bad.status_code == 422 and "learningRate=&#39;abc&#39;" in bad.text
    up = client.post("/ui/import/csv", files={"file": ("xor.csv", xor_csv().encode(), "text/csv")})
    assert up.status_code == 200 and "40 points uploaded" in up.text
    key = re.search(r'data-pts-ready="([0-9a-f]+)"', up.text)
    assert key and client.get(f"/api/datasets/{key.group(1)}").status_code == 200
    broken = client.post("/ui/import/csv", files={"file": ("x.csv", b"1,2\n", "text/csv")})
    assert broken.status_code == 422 and "expected 3 values" in broken.text


def test_export_of_the_experiment_in_the_url(client: TestClient) -> None:
    key, _ = stored_key(client)
    script = client.get(f"/ui/export.py?d=custom&pts={key}&l=5:relu")
    assert script.status_code == 200 and "attachment" in script.headers["content-disposition"]
    ast.parse(script.text)  # valid Python
    assert "nn.ReLU" in script.text or "relu" in script.text
    bad = client.get("/ui/export.py?lr=100")
    assert bad.status_code == 422 and "train.optimizer.lr" in bad.text
    assert validate_spec({"data": {"dataset": "custom", "points": _}}).data.samples == 24


def test_a_run_page_with_custom_points_keeps_them(client: TestClient) -> None:
    # Points sent straight to the API were never stored as a dataset: the run holds them.
    points = [[i / 4 - 3, (i * 5 % 13) / 3 - 2, float(i % 2)] for i in range(24)]
    spec = {"data": {"dataset": "custom", "points": points}, "train": {"epochs": 1}}
    run_id = client.post("/api/runs", json=spec).json()["id"]
    wait_status(client, run_id, {"finished"})
    form = {"data.dataset": "custom", "ui.run": run_id, "ui.pts": "", "train.epochs": "2"}
    response = client.post("/ui/controls", data=form)
    key = re.search(r"pts=([0-9a-f]+)", response.headers.get("hx-replace-url", ""))
    assert key, response.text
    assert client.get(f"/api/datasets/{key.group(1)}").json()["points"] == points


def test_comparison_members_say_why_they_have_no_weights(client: TestClient) -> None:
    base = {"data": {"samples": 100}, "train": {"epochs": 10000}}
    body = {
        "base": base,
        "members": [{"optimizer": {"name": "sgd"}}, {"optimizer": {"name": "adam"}}],
    }
    created = client.post("/api/comparisons", params={"paused": "true"}, json=body).json()
    member = created["members"][0]
    wait_status(client, member, {"paused", "running"})
    refused = client.get(f"/api/runs/{member}/weights.pt")
    assert refused.status_code == 409 and "member of a comparison" in refused.json()["detail"]
    client.post(f"/api/comparisons/{created['id']}/stop")
