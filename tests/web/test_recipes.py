"""The recipe of docs/ARCHITECTURE.md holds: one registry entry is the whole edit.

A throwaway optimizer registered here (and nowhere else) is offered by the page's dropdown
and the spec endpoint, validated, carried by the URL form, accepted by the CLI, and exported
as a script that reproduces the app's numbers; its comparisons fall back to sequential."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from app.cli import cli
from app.nn.choices.optimizers import OPTIMIZERS, OptimizerInfo
from app.nn.choices.registry import Param
from app.nn.spec.experiment import validate_spec
from app.nn.spec.url import from_query, to_query
from app.nn.training.trainer import Trainer
from tests.nn.export.test_script import check_run, run_in_process, tiny
from tests.web.service import app_client, make_settings

KEY, LABEL = "heavy_ball_recipe", "Heavy ball (recipe test)"


@pytest.fixture(scope="module")
def recipe_optimizer() -> Iterator[str]:
    OPTIMIZERS.add(
        OptimizerInfo(
            KEY,
            LABEL,
            "SGD with a fixed heavy-ball momentum.",
            params=(Param("momentum", 0.5, 0.0, 0.99, help="fraction of the last update kept"),),
            default_lr=0.05,
            build=lambda g, lr, p, wd, f: torch.optim.SGD(g, lr=lr, momentum=p["momentum"]),
        )
    )
    yield KEY
    OPTIMIZERS.remove(KEY)


def test_the_page_and_the_spec_endpoint_offer_it(recipe_optimizer: str, tmp_path: Path) -> None:
    with app_client(make_settings(tmp_path)) as client:
        page = client.get("/").text
        assert f'value="{KEY}"' in page and LABEL in page
        offered = client.get("/api/spec/choices").json()["optimizers"]
        entry = next(e for e in offered if e["key"] == KEY)
        assert entry["label"] == LABEL and entry["params"][0]["max"] == 0.99


def test_validation_and_the_url_form_carry_it(recipe_optimizer: str) -> None:
    spec = validate_spec(tiny(train__optimizer={"name": KEY, "momentum": 0.7}))
    assert spec.train.optimizer.lr == 0.05  # the entry's own default lr
    query = to_query(spec)
    assert KEY in query.values()
    assert validate_spec(from_query(query)) == spec
    with pytest.raises(ValueError, match="momentum"):
        validate_spec(tiny(train__optimizer={"name": KEY, "momentum": 2.0}))


def test_the_cli_trains_with_it(recipe_optimizer: str) -> None:
    result = CliRunner().invoke(
        cli, ["train", "--optimizer", KEY, "--epochs", "2", "--samples", "60", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["status"] == "finished"


def test_the_export_reproduces_the_app(recipe_optimizer: str, tmp_path: Path) -> None:
    spec = validate_spec(tiny(train__optimizer={"name": KEY}))
    check_run(run_in_process(spec, tmp_path), Trainer(spec).run())
