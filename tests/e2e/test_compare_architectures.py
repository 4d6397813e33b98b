"""An architecture comparison on the Compare page in headless Chromium: a member's model
choice (MLP on a CNN base), Play, and the summary table's parameter counts side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.nn.compare.plan import validate_plan
from app.nn.families.registry import trainer_for
from tests.e2e.conftest import wait_js
from tests.web.service import LiveServer

# The digits, one epoch over a fifth of them.
BASE = "fam=cnn&tr=0.2&va=0.1&ep=1&s=4"


def test_a_member_model_choice_trains_and_the_table_shows_parameter_counts(
    page: Any, server: LiveServer, artifacts: Path
) -> None:
    page.goto(f"{server.http}/compare?{BASE}&m=-&m=-")
    options = page.eval_on_selector_all(
        "select[name='members.1.model'] option", "os => os.map(o => o.value)"
    )
    assert options[:2] == ["", "mlp"]
    page.select_option("select[name='members.1.model']", "mlp")
    wait_js(
        page,
        "location.search.includes('cnn.conv~%5B%5D') || location.search.includes('cnn.conv~[]')",
    )
    wait_js(
        page,
        "document.querySelector(\"input[name='members.1.label']\").placeholder === 'MLP 32x32'",
    )
    page.click("#cmp-play")
    wait_js(
        page,
        "['finished','stopped','diverged','failed'].includes(document.getElementById('cmp-status').dataset.status)",
        120_000,
    )
    wait_js(
        page,
        "[...document.querySelectorAll('#cmp-summary td.params')]"
        ".every(td => /\\d/.test(td.textContent))",
    )
    cells = page.eval_on_selector_all(
        "#cmp-summary td.params", "tds => tds.map(t => t.textContent)"
    )
    # The oracle: the networks these two members' specs build.
    plan = validate_plan(
        {
            "base": {
                "family": "cnn",
                "seed": 4,
                "data": {"train_fraction": 0.2, "val_fraction": 0.1},
                "train": {"epochs": 1},
            },
            "members": [{}, {"overrides": {"family": "mlp"}}],
        }
    )
    want = [sum(p.numel() for p in trainer_for(s).model.parameters()) for s in plan.specs]
    assert cells == [f"{want[0]:,}", f"{want[1]:,} (own init)"]
    # Images have no input square to paint: no card of empty decision-boundary axes.
    assert page.locator("#cmp-boundaries").is_hidden()
    page.screenshot(path=str(artifacts / "compare-architectures.png"), full_page=True)
