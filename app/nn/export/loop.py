"""The exported script's training loop, evaluation and entry point, with only the pieces a
spec uses (penalties, clipping, decay, input noise, dropout seeding, plateau, early stopping).

The order of operations inside a step is the Trainer's: lr, batch, loss + penalty, backward,
clip, decoupled decay, optimizer step."""

from __future__ import annotations

import re

from app.nn.choices.optimizers import OPTIMIZERS
from app.nn.spec.experiment import Spec


def _indent(text: str, spaces: int) -> str:
    pad = " " * spaces
    return "\n".join(pad + line if line.strip() else "" for line in text.strip("\n").split("\n"))


def loop_code(
    spec: Spec,
    optimizer_expr: str,
    has_norms: bool,
    *,
    dropout: bool | None = None,
    batchnorm: bool | None = None,
    setup_lines: list[str] | None = None,
    input_lines: list[str] | None = None,
) -> str:
    """Another family's exporter says whether its net has dropout or batch norm, and may
    add setup lines (its generators) and replace the lines that make a batch's input x."""
    t = spec.train
    if dropout is None:
        dropout = any(layer.dropout > 0 for layer in spec.model.layers)
    if batchnorm is None:
        batchnorm = any(layer.norm == "batch" for layer in spec.model.layers)
    schedule = t.schedule.name
    plateau = schedule == "reduce_on_plateau"
    manual_decay = bool(t.weight_decay) and not OPTIMIZERS[t.optimizer.name].decoupled_decay_builtin
    keys = ("r2", "rmse") if spec.task == "regression" else ("acc",)
    out: list[str] = []

    if t.l1 or t.l2:
        terms = []
        if t.l1:
            terms.append("L1 * sum(w.abs().sum() for w in weights)")
        if t.l2:
            terms.append("0.5 * L2 * sum((w * w).sum() for w in weights)")
        out.append(f'''def penalty(weights):
    """L1·Σ|w| + L2/2·Σw² over the Linear weights (never biases or norm parameters)."""
    terms = [
{_indent(chr(10).join(t + "," for t in terms), 8)}
    ]
    return torch.stack(terms).sum()


''')

    modes = ["no dropout"] if dropout else []
    modes += ["BatchNorm's running stats"] if batchnorm else []
    mode = f" ({', '.join(modes)})" if modes else ""
    out.append(f'''@torch.no_grad()
def evaluate(model, split):
    """Loss and scores on one split, in eval mode{mode}."""
    raw, x, y = split
    if len(y) == 0:
        return None
    model.eval()
    out = model(x)
    model.train()
    return {{"loss": float(loss_fn(out, y)), **scores(out, y)}}


''')

    setup = [
        "linears = [block.linear for block in model.blocks] + [model.head]",
        "weights = [linear.weight for linear in linears]",
        "biases = [linear.bias for linear in linears]",
    ]
    if has_norms:
        setup.append("norms = [p for block in model.blocks for p in block.norm.parameters()]")
    everything = "weights + biases + norms" if has_norms else "weights + biases"
    if not has_norms:
        optimizer_expr = optimizer_expr.replace("biases + norms", "biases")
    if t.grad_clip or re.search(r'(?<!")\bparams\b', optimizer_expr):
        why = "the app's order: the clipping norm sums in it" if t.grad_clip else "all of them"
        setup.append(f"params = {everything}  # {why}")
    if "fused=" in optimizer_expr or "foreach=" in optimizer_expr:
        setup.append("# The app's kernel choice: fused/foreach kernels round slightly differently.")
    setup.append(f"optimizer = {optimizer_expr}")
    if plateau:
        setup.append("plateau = Plateau()")
    setup.append("order_gen = torch.Generator().manual_seed(ORDER_SEED)  # batch order")
    if t.input_noise:
        setup.append("noise_gen = torch.Generator().manual_seed(NOISE_SEED)  # input noise")
    if dropout:
        setup.append("torch.manual_seed(DROPOUT_SEED)  # dropout masks use the global generator")
    setup += setup_lines or []
    setup += [
        'train_raw, train_x, train_y = splits["train"]',
        'initial_loss = evaluate(model, splits["train"])["loss"]',
    ]
    if t.early_stopping:
        setup.append("best = None  # early stopping: the best validation loss and its weights")
    setup += ["step = 0", "print_every = max(1, EPOCHS // 10)"]

    step: list[str] = ["idx = perm[i * BATCH_SIZE : (i + 1) * BATCH_SIZE]"]
    if schedule != "constant" or manual_decay:
        lr = {"constant": "LR", "reduce_on_plateau": "LR * plateau.multiplier"}.get(
            schedule, "lr_at(step)"
        )
        step.append(f"lr = {lr}")
    if schedule != "constant":
        step += ["for group in optimizer.param_groups:", '    group["lr"] = lr']
    step.append("x, y = train_x[idx], train_y[idx]")
    if input_lines is not None:
        step += input_lines
    elif t.input_noise:
        step += [
            "raw = train_raw[idx]",
            "raw = raw + torch.randn(raw.shape, generator=noise_gen) * INPUT_NOISE",
            "x = featurize(raw)  # features of the jittered points",
        ]
    step.append("loss = loss_fn(model(x), y)")
    total = "(loss + penalty(weights))" if t.l1 or t.l2 else "loss"
    step += ["optimizer.zero_grad(set_to_none=True)", f"{total}.backward()"]
    if t.grad_clip:
        fn = "clip_grad_norm_" if t.grad_clip.mode == "norm" else "clip_grad_value_"
        step.append(f"torch.nn.utils.{fn}(params, GRAD_CLIP, foreach=True)")
    if manual_decay:
        step += [
            "with torch.no_grad():  # decoupled weight decay, before the step",
            "    for w in weights:",
            "        w.mul_(1 - lr * WEIGHT_DECAY)",
        ]
    step += [
        "optimizer.step()",
        "step += 1",
        "if not math.isfinite(loss.item()) or loss.item() > DIVERGED * max(1.0, initial_loss):",
        '    print(f"diverged at step {step}: the loss reached {loss.item():.4g}")',
        "    return",
    ]

    epoch_end: list[str] = []
    if plateau or t.early_stopping:
        epoch_end.append('val = evaluate(model, splits["val"])')
    if plateau:
        epoch_end += [
            'monitor = val["loss"] if val else evaluate(model, splits["train"])["loss"]',
            "plateau.epoch_end(monitor)",
        ]
    if t.early_stopping:
        epoch_end += [
            'if best is None or val["loss"] < best["loss"] - MIN_DELTA:',
            '    best = {"loss": val["loss"], "epoch": epoch, '
            '"state": copy.deepcopy(model.state_dict())}',
            'elif epoch - best["epoch"] >= PATIENCE:',
            '    print(f"early stop after epoch {epoch}: best validation loss at epoch '
            "{best['epoch']}\")",
            "    break",
        ]
    epoch_end += [
        "if epoch % print_every == 0 or epoch == EPOCHS:",
        '    train_loss = evaluate(model, splits["train"])["loss"]',
        '    print(f"epoch {epoch:>5}/{EPOCHS}  train loss {train_loss:.5f}")',
    ]
    restore = ""
    if t.early_stopping:
        restore = """
    if best is not None:
        model.load_state_dict(best["state"])  # the weights of the best validation epoch"""
    out.append(f"""def train(model, splits):
{_indent(chr(10).join(setup), 4)}
    for epoch in range(1, EPOCHS + 1):
        perm = torch.randperm(N_TRAIN, generator=order_gen)  # a fresh order every epoch
        for i in range(STEPS_PER_EPOCH):
{_indent(chr(10).join(step), 12)}
{_indent(chr(10).join(epoch_end), 8)}{restore}


def main():
    splits = load_splits()
    model = build_model()
    train(model, splits)
    final = {{}}
    for name in ("train", "val", "test"):
        result = evaluate(model, splits[name])
        for key in ("loss", {", ".join(f'"{k}"' for k in keys)}):
            value = result[key] if result else None
            # Strict JSON, as `backprop train --json`: a diverged run's inf/nan is null.
            final[f"{{name}}_{{key}}"] = value if value is None or math.isfinite(value) else None
    print(json.dumps(final, allow_nan=False))


if __name__ == "__main__":
    main()
""")
    return "".join(out)
