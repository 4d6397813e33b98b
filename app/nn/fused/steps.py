"""The trainer's step on the fused kernel: the same records as the eager step.

Everything random is drawn here by the very torch calls the eager step makes, in the same
order (input noise from the trainer's noise generator, then one `bernoulli_` per dropout
layer from the global generator, as nn.Dropout does), so both paths see the same numbers.
The kernel writes each parameter's gradient into its `.grad` (as backward would) and
keeps the optimizer's state in its own buffers (the torch optimizer object stays, unused,
as the holder of the live hyper-parameters)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from app.nn.choices.losses import resolve_loss
from app.nn.data.points import featurize
from app.nn.fused.plan import ACTIVATIONS, LOSSES, OPTIMIZERS

if TYPE_CHECKING:
    from types import ModuleType

    from app.nn.training.trainer import Record, Trainer

EMPTY = torch.empty(0)
CLIP_MODES = {"norm": 1, "value": 2}


class FusedSteps:
    def __init__(self, trainer: Trainer, module: ModuleType) -> None:
        self.trainer = trainer
        model = trainer.model
        blocks = model._blocks()
        gammas: list[torch.Tensor] = []
        betas: list[torch.Tensor] = []
        for block in blocks:
            norm = block.norm
            gammas.append(norm.weight.data if isinstance(norm, nn.LayerNorm) else EMPTY)
            betas.append(norm.bias.data if isinstance(norm, nn.LayerNorm) else EMPTY)
        # The kernel's slot order interleaves (gamma, beta) per layer, as model.parameters().
        order = [*trainer.weights, *trainer.biases]
        for g, b in zip(gammas, betas, strict=True):
            if g.numel():
                order += [g, b]
        assert [t.data_ptr() for t in order] == [p.data_ptr() for p in trainer.params]
        grads = [torch.zeros_like(p) for p in trainer.params]
        self.grads = grads  # each parameter's .grad from the first step on, as backward
        states = [torch.zeros_like(p) for p in trainer.params for _ in range(3)]
        spec = trainer.spec
        layers = spec.model.layers
        self.dropouts = [(layer.units, layer.dropout) for layer in layers if layer.dropout > 0]
        loss = resolve_loss(spec.train.loss, trainer.task)
        self.net = module.Net(
            [w.data for w in trainer.weights],
            [b.data for b in trainer.biases],
            [*gammas, EMPTY],
            [*betas, EMPTY],
            [ACTIVATIONS[layer.activation] for layer in layers] + [ACTIVATIONS["linear"]],
            [int(layer.residual) for layer in layers] + [0],
            [layer.dropout for layer in layers] + [0.0],
            grads,
            states,
            OPTIMIZERS[trainer.opt_name],
            LOSSES[(trainer.task, loss)],
            trainer.data.info.classes,
        )
        self.net.set_data(trainer.data.train.x, trainer.data.train.y)
        self.no_masks: list[torch.Tensor] = []
        self.n_params = len(trainer.params)
        self.n_layers = len(trainer.weights)
        self.configure()

    def configure(self) -> None:
        """Pass the current hyper-parameters (after a live change) to the kernel."""
        tr = self.trainer
        hp, group, t = tr.hp, tr.optimizer.param_groups[0], tr.spec.train
        beta1, beta2 = group.get("betas", (0.9, 0.999))
        clip = CLIP_MODES[t.grad_clip.mode] if t.grad_clip and hp["grad_clip"] else 0
        self.net.configure(
            float(group.get("momentum", 0.0)),
            float(group.get("dampening", 0.0)),
            bool(group.get("nesterov", False)),
            float(beta1),
            float(beta2),
            float(group.get("eps", 1e-8)),
            bool(group.get("amsgrad", False)),
            float(group.get("alpha", 0.99)),
            bool(group.get("centered", False)),
            float(hp["l1"] or 0.0),
            float(hp["l2"] or 0.0),
            float(hp["weight_decay"] or 0.0),
            clip,
            float(hp["grad_clip"] or 0.0),
            float(t.label_smoothing),
            float(t.huber_delta),
        )
        self.penalised = bool(hp["l1"] or hp["l2"])
        self.clipped = bool(clip)

    def epoch(self, order: torch.Tensor, batch_size: int) -> Iterator[tuple[Any, Any, Any]]:
        """The epoch's batches as (first row, end row, order): rows by position in the
        epoch's order (the kernel gathers them), no tensor per batch."""
        self.net.set_order(order)
        n = len(order)
        return ((i, min(i + batch_size, n), order) for i in range(0, n, batch_size))

    def train_step(self, start: int, stop: int, order: torch.Tensor) -> Record:
        tr = self.trainer
        lr = tr.hp["lr"] * tr.schedule.factor(tr.step)
        masks = self.no_masks
        if self.dropouts:
            masks = [torch.empty(stop - start, u).bernoulli_(1 - p) for u, p in self.dropouts]
        noise = tr.hp["input_noise"]
        if noise:  # the eager step's draw: randn of the batch's shape, then featurize
            rows, train = order[start:stop], tr.data.train
            raw = train.raw[rows]
            raw = raw + torch.randn(raw.shape, generator=tr.noise_gen) * noise
            out = self.net.step(featurize(raw, tr.data.features), train.y[rows], lr, masks)
        else:
            out = self.net.step_rows(start, stop - start, lr, masks)
        if tr.step == 0:
            for p, g in zip(tr.params, self.grads, strict=True):
                p.grad = g
        tr.step += 1
        np_, nl = self.n_params, self.n_layers
        loss = out[0]
        spe = tr.steps_per_epoch
        rec: dict[str, Any] = {
            "kind": "step",
            "step": tr.step,
            "epoch": tr.epoch + (tr.step - tr.epoch * spe) / spe,
            "loss": loss,
            "lr": lr,
            "grad_norm": out[3],
            "grad_w": out[4 : 4 + nl],
            "grad_b": out[4 + nl : 4 + 2 * nl],
            "update_ratio": out[4 + np_ : 4 + np_ + nl],
            "weight_norm": out[4 + np_ + nl :],
            "diverged": tr._divergence(loss),
        }
        if self.penalised:
            rec["penalty"] = out[1]
        if self.clipped:
            rec["grad_norm_clipped"] = out[2]
        return rec
