"""A fast seeded sample of the grokking lesson for the default suite (its full claims train
two runs of 400 epochs and are marked slow): the same specs, shorter or at init."""

from __future__ import annotations

import pytest
import torch

from app.lessons.claims.attention.grokking import mirrored_share, weight_norm
from app.lessons.claims.runner import lesson_specs
from app.nn.spec.experiment import Spec
from app.nn.training.transformer import TransformerTrainer

SEEDS = [1002, 1013]  # untuned


def shortened(spec: Spec, epochs: int) -> Spec:
    return spec.model_copy(update={"train": spec.train.model_copy(update={"epochs": epochs})})


def test_mirrored_share_counts_validation_pairs_whose_swap_is_a_training_pair() -> None:
    trainer = TransformerTrainer(lesson_specs("grokking", SEEDS[0])["no weight decay"])
    p = trainer.part.modulus
    seen = torch.zeros(p, p, dtype=torch.bool)  # the oracle: a table of the training pairs
    seen[trainer.data.train.x[:, 0], trainer.data.train.x[:, 2]] = True
    a, b = trainer.data.val.x[:, 0], trainer.data.val.x[:, 2]
    assert mirrored_share(trainer) == pytest.approx(float(seen[b, a].float().mean()))
    assert 0.4 < mirrored_share(trainer) < 0.6  # half the pairs trained, the diagonal never


@pytest.mark.parametrize("seed", SEEDS)
def test_without_positions_a_plus_b_and_b_plus_a_get_the_same_answer(seed: int) -> None:
    """Why memorising alone scores the mirrored share: the lesson's model cannot see order."""
    trainer = TransformerTrainer(lesson_specs("grokking", seed)["weight decay 1.0"])
    x = trainer.data.val.x[:64]
    swapped = x[:, [2, 1, 0, 3]]
    with torch.no_grad():
        out, out_swapped = trainer.net(x)[:, -1], trainer.net(swapped)[:, -1]
    torch.testing.assert_close(out, out_swapped, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
def test_memorising_first_scores_the_mirrored_pairs_and_decay_shrinks_the_weights(
    seed: int,
) -> None:
    """Sentences 0, 2 and 3 after 40 of the 400 epochs: both runs fit most training pairs,
    validation sits at the mirrored share, the decayed weights already shrink."""
    ends, norms = {}, {}
    for label, spec in lesson_specs("grokking", seed).items():
        trainer = TransformerTrainer(shortened(spec, 40))
        records = list(trainer.records())
        steps = [r for r in records if r["kind"] == "step"]
        ends[label] = [r for r in records if r["kind"] == "eval"][-1]
        norms[label] = (weight_norm(steps[0]), weight_norm(steps[-1]))
        share = mirrored_share(trainer)
        assert ends[label]["train"]["acc"] > 0.8, (label, ends[label]["train"]["acc"])
        assert abs(ends[label]["val"]["acc"] - share) < 0.1, (label, ends[label]["val"], share)
    assert norms["weight decay 1.0"][1] < 0.8 * norms["weight decay 1.0"][0], norms
    assert norms["no weight decay"][1] > norms["no weight decay"][0], norms
