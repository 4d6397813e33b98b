"""The recurrent net: torch's modules, the hand-stepped top layer agrees with them, and the
init (per-gate blocks, the forget / update gate's bias) is what the spec says."""

from __future__ import annotations

import pytest
import torch

from app.nn.choices.cells import CELLS
from app.nn.models.rnn import build_seqnet, head_over_time, unroll
from app.nn.spec.experiment import validate_spec


def net_for(cell: str, **part: object):
    spec = validate_spec({"family": "rnn", "rnn": {"cell": cell, "hidden": 6, **part}})
    assert spec.rnn is not None
    return build_seqnet(3, 2, spec.rnn, spec.model, seed=5), spec


@pytest.mark.parametrize("cell", CELLS.keys())
@pytest.mark.parametrize("layers", [1, 3])
def test_the_unrolled_top_layer_gives_the_modules_numbers(cell: str, layers: int) -> None:
    net, _ = net_for(cell, layers=layers, layer_norm=layers > 1, dropout=0.3)
    net.eval()
    x = torch.randn(4, 9, 3, generator=torch.Generator().manual_seed(0))
    run = unroll(net, x)
    top = net.rnns[-1]
    below = net.states(x)[-2] if layers > 1 else x
    module_hs = top(below)[0]  # torch's own fused module, the oracle
    assert torch.allclose(torch.stack(run.hs, 1), module_hs, atol=1e-6)
    assert torch.allclose(run.out, net(x), atol=1e-6)
    assert set(run.gates) == set(CELLS[cell].gates)
    for g in run.gates.values():
        assert g.shape == (4, 9, 6) and bool(((g > 0) & (g < 1)).all())
    over = head_over_time(net, run.hs)
    assert torch.allclose(over[:, -1], run.out, atol=1e-6)


def test_lstm_gates_match_torchs_cell_equations_and_the_forget_bias() -> None:
    net, _spec = net_for("lstm", forget_bias=1.0)
    rnn = net.rnns[0]
    h = net.hidden
    bias = rnn.bias_ih_l0 + rnn.bias_hh_l0
    assert torch.equal(bias[h : 2 * h], torch.ones(h)) and torch.equal(bias[:h], torch.zeros(h))
    x = torch.randn(2, 1, 3)
    gates = x[:, 0] @ rnn.weight_ih_l0.T + bias  # h_0 = 0: one step's pre-activations
    f = torch.sigmoid(gates[:, h : 2 * h])
    assert torch.allclose(unroll(net.eval(), x).gates["f"][:, 0], f, atol=1e-6)
    zero, _ = net_for("lstm", forget_bias=0.0)
    assert torch.equal(zero.rnns[0].bias_ih_l0[h : 2 * h], torch.zeros(h))
    gru, _ = net_for("gru", forget_bias=1.0)
    assert torch.equal(gru.rnns[0].bias_ih_l0[h : 2 * h], torch.ones(h))  # the update gate z


def test_init_is_seeded_per_gate_and_the_default_scheme_is_torchs_range() -> None:
    a, spec = net_for("gru")
    b, _ = net_for("gru")
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    w = a.rnns[0].weight_hh_l0.detach()  # xavier_uniform with gain 1 per (6 x 6) gate block
    assert float(w.abs().max()) <= (6 / 12) ** 0.5 + 1e-6
    spec = validate_spec(
        {"family": "rnn", "rnn": {"cell": "rnn_tanh"}, "model": {"init": "default"}}
    )
    assert spec.rnn is not None
    torch_like = build_seqnet(3, 1, spec.rnn, spec.model, seed=1)
    k = 1 / 32**0.5
    for name in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"):
        p = getattr(torch_like.rnns[0], name).detach()
        assert float(p.abs().max()) <= k and float(p.abs().max()) > 0.5 * k
