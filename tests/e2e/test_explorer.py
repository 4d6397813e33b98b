"""The backprop explorer in headless Chromium: step forward and back through a 2-3-1 net
with the keyboard; every number the page shows equals torch.autograd's on the same weights;
the step is in the URL, so a link reopens it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F

from app.nn.choices.losses import loss_function
from app.nn.explain import ExplainSpec
from app.nn.training.trainer import Trainer
from tests.e2e.conftest import wait_js
from tests.web.service import LiveServer

QUERY = "dataset=xor&hidden=3&activation=sigmoid&batch=2&point=4&seed=5&optimizer=adam&lr=0.1"
SPEC = ExplainSpec(dataset="xor", hidden=[3], activation="sigmoid", batch=2, point=4, seed=5)
VALUES = """[...document.querySelectorAll('#step-values tr')]
  .map(tr => [tr.dataset.name, parseFloat(tr.dataset.value)])"""
COUNTER = "document.getElementById('explore-counter').textContent"


def autograd_values() -> dict[str, float]:
    """Every number of the explorer's steps, from autograd on the playground's own weights."""
    trainer = Trainer(SPEC.experiment())
    lins = trainer.model.linears()
    w = [lin.weight.detach().double().clone().requires_grad_() for lin in lins]
    b = [lin.bias.detach().double().clone().requires_grad_() for lin in lins]
    x = trainer.data.train.x[4:6].double()
    y = trainer.data.train.y[4:6].double()
    z1 = F.linear(x, w[0], b[0])
    a1 = torch.sigmoid(z1)
    out = F.linear(a1, w[1], b[1])
    for t in (z1, a1, out):
        t.retain_grad()
    loss = loss_function("bce", "binary")(out, y, 0.0, 1.0)
    loss.backward()
    slope = a1 * (1 - a1)  # what autograd multiplied by going through the sigmoid
    v = {"loss": float(loss)}
    for name, t in (("z.1", z1), ("a.1", a1), ("z.2", out), ("da.1", a1.grad), ("dz.1", z1.grad)):
        for r, j in [(r, j) for r in range(t.shape[0]) for j in range(t.shape[1])]:
            v[f"{name}.{j}.{r}"] = float(t[r, j])
    for r, j in [(r, j) for r in range(2) for j in range(3)]:
        v[f"slope.1.{j}.{r}"] = float(slope[r, j])
    for r in range(2):
        v[f"dz.2.0.{r}"] = float(out.grad[r, 0])
    for layer, (ww, bb) in enumerate(zip(w, b, strict=True), 1):
        for j in range(ww.shape[0]):
            v[f"db.{layer}.{j}"] = float(bb.grad[j])
            for i in range(ww.shape[1]):
                v[f"dw.{layer}.{j}.{i}"] = float(ww.grad[j, i])
    return v


def check_step(page: Any, expected: dict[str, float], seen: set[str]) -> None:
    for name, value in page.evaluate(VALUES):
        if name.startswith("delta."):
            continue  # the update: checked against torch.optim in tests/nn/test_explain.py
        assert value == pytest.approx(expected[name], rel=1e-6, abs=1e-9), name
        seen.add(name)


def test_steps_forward_and_back_with_autograds_numbers(
    page: Any, server: LiveServer, artifacts: Path
) -> None:
    expected = autograd_values()
    page.goto(f"{server.http}/explore?{QUERY}")
    total = int(wait_js(page, COUNTER).split()[-1])
    # 2-3-1: two forward layers, the loss, 3 hidden units (node, 2 edges, bias), the output
    # unit (3 edges, bias), the update.
    assert total == 2 + 1 + 3 * 4 + 4 + 1
    seen: set[str] = set()
    for k in range(1, total + 1):
        assert page.evaluate(COUNTER) == f"step {k} of {total}"
        assert f"step={k}" in page.url
        check_step(page, expected, seen)
        page.keyboard.press("ArrowRight")
    assert seen == set(expected)  # every number of the pass was shown, and matched
    page.screenshot(path=str(artifacts / "explorer-update.png"), full_page=True)
    for k in range(total, total - 6, -1):
        assert page.evaluate(COUNTER) == f"step {k} of {total}"
        check_step(page, expected, seen)
        page.keyboard.press("ArrowLeft")
    # A link reopens the same step.
    page.goto(f"{server.http}/explore?{QUERY}&step=9")
    assert wait_js(page, COUNTER) == f"step 9 of {total}"
    assert page.evaluate("document.querySelector('.explorer').dataset.kind") in ("node", "edge")
    check_step(page, expected, seen)
