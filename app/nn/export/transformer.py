"""Export a transformer experiment as a runnable PyTorch script (torch + stdlib only).

The script carries the engine's own code verbatim where it can (the model module, the task
generator and its layout, read with `inspect`), so it builds the same data and the same
network from the same seeds, trains with the app's order of operations and prints the app's
final scores as one JSON line; the tests run it and compare.
"""

from __future__ import annotations

import inspect
import json
import textwrap
from pathlib import Path

from app.nn.data import tokens as tokens_module
from app.nn.data.points import split_sizes
from app.nn.data.tiny_text import TEXT
from app.nn.data.tokens import TASKS
from app.nn.export.code import loss_code, schedule_code
from app.nn.export.script import _optimizer
from app.nn.models import transformer as model_module
from app.nn.spec.experiment import Spec
from app.nn.training import transformer as trainer_module
from app.nn.training.basics import DIVERGE_FACTOR, derived_seeds
from app.nn.training.transformer import TransformerTrainer


def _source(obj: object) -> str:
    return textwrap.dedent(inspect.getsource(obj))  # type: ignore[arg-type]


def _model_source() -> str:
    """models/transformer.py from its first definition on (its imports are the script's)."""
    text = Path(inspect.getfile(model_module)).read_text()
    return text[text.index("Tensor = torch.Tensor") :]


def _data(spec: Spec, vocab: int) -> str:
    part = spec.transformer
    assert part is not None
    info = TASKS[part.dataset]
    assert info.make is not None
    makers = [tokens_module.TaskSize, info.make]
    if part.dataset in ("reverse", "sort", "copy", "max"):
        makers.insert(1, tokens_module._random)
    text = ""
    if part.dataset == "text":
        text = f"TEXT = {TEXT!r}\nCHARS = sorted(set(TEXT))\n\n\n" + _source(
            tokens_module.text_windows
        )
    functions = [_source(f) for f in makers] + [
        _source(tokens_module.layout),
        _source(tokens_module._answer_at_end),
        _source(split_sizes),
        _source(tokens_module.shuffle_split),
    ]
    reader = "a decoder" if part.causal else "an encoder"
    d = spec.data
    load = f'''def load_splits():
    """The {info.label.lower()} examples laid out for {reader}, shuffled and split."""
    g = torch.Generator().manual_seed(DATA_SEED)
    size = TaskSize({part.length}, {part.symbols}, {part.modulus}, {part.examples})
    x, y = {info.make.__name__}(size, g)
    tokens, targets = layout({info.kind!r}, x, y, VOCAB, CAUSAL)
    parts = shuffle_split(tokens, targets, g, {d.train_fraction!r}, {d.val_fraction!r})
    return dict(zip(("train", "val", "test"), parts, strict=True))
'''
    return text + "\n\n".join(functions) + "\n\n" + load


def _constants(spec: Spec, trainer: TransformerTrainer) -> str:
    part, t = spec.transformer, spec.train
    assert part is not None
    seeds = derived_seeds(spec.seed)
    cfg = trainer.net.cfg
    rows = {
        "DATA_SEED": seeds["data"],
        "INIT_SEED": seeds["init"],
        "ORDER_SEED": seeds["order"],
        "DROPOUT_SEED": seeds["dropout"],
        "VOCAB": cfg.vocab,
        "CAUSAL": part.causal,
        "ANSWER": trainer.tokens.answer_positions,
        "LR": t.optimizer.lr,
        "EPOCHS": t.epochs,
        "BATCH_SIZE": trainer.batch_size,
        "STEPS_PER_EPOCH": trainer.steps_per_epoch,
        "TOTAL_STEPS": trainer.total_steps,
        "WEIGHT_DECAY": t.weight_decay,
        "L1": t.l1,
        "L2": t.l2,
        "GRAD_CLIP": t.grad_clip.max if t.grad_clip else None,
        "DIVERGED": DIVERGE_FACTOR,
        "EVAL_CHUNK": trainer_module.EVAL_CHUNK,
    }
    return "".join(f"{k} = {v!r}\n" for k, v in rows.items())


TRAIN = '''
def named_layers(net):
    """(weight, bias) of every weight matrix, in the app's order (the embedding has no bias)."""
    out = [(net.embed.weight, None)]
    for block in net.blocks:
        attn = block.attn
        out += [(attn.qkv.weight, attn.qkv.bias), (attn.out.weight, attn.out.bias)]
        out += [(block.ffn1.weight, block.ffn1.bias), (block.ffn2.weight, block.ffn2.bias)]
    return out + [(net.head.weight, net.head.bias)]


def answer_loss(logits, targets):
    """The loss over the answer positions only."""
    return loss_fn(logits[:, ANSWER].reshape(-1, VOCAB), targets[:, ANSWER].reshape(-1))


def penalty(weights):
    terms = []
    if L1:
        terms.append(L1 * sum(w.abs().sum() for w in weights))
    if L2:
        terms.append(0.5 * L2 * sum((w * w).sum() for w in weights))
    return torch.stack(terms).sum() if terms else None


@torch.no_grad()
def evaluate(model, split):
    """Loss, token accuracy and whole-sequence accuracy at the answer positions (eval mode)."""
    x_all, y_all = split
    n = len(x_all)
    if n == 0:
        return None
    model.eval()
    loss_sum, right, whole = 0.0, torch.zeros(len(ANSWER)), 0
    for a in range(0, n, EVAL_CHUNK):
        x, y = x_all[a : a + EVAL_CHUNK], y_all[a : a + EVAL_CHUNK]
        full = model(x)
        hit = full[:, ANSWER].argmax(-1) == y[:, ANSWER]
        loss_sum += float(answer_loss(full, y)) * x.shape[0]
        right += hit.sum(0)
        whole += int(hit.all(1).sum())
    model.train()
    acc = float(right.sum()) / (n * len(ANSWER))
    return {"loss": loss_sum / n, "acc": acc, "seq_acc": whole / n}


def train(model, splits):
    layers = named_layers(model)
    weights = [w for w, _ in layers]
    biases = [b for _, b in layers if b is not None]
    ids = {id(p) for p in weights + biases}
    norms = [p for p in model.parameters() if id(p) not in ids]  # LayerNorms, learned positions
    params = weights + biases + norms
    optimizer = __OPTIMIZER__
    order_gen = torch.Generator().manual_seed(ORDER_SEED)
    torch.manual_seed(DROPOUT_SEED)  # dropout masks use the global generator
    train_x, train_y = splits["train"]
    initial_loss = evaluate(model, splits["train"])["loss"]
    step = 0__SETUP__
    for epoch in range(1, EPOCHS + 1):
        perm = torch.randperm(len(train_x), generator=order_gen)
        for x, y in zip(train_x[perm].split(BATCH_SIZE), train_y[perm].split(BATCH_SIZE)):
            lr = __LR__
            for group in optimizer.param_groups:
                group["lr"] = lr
            loss = answer_loss(model(x), y)
            pen = penalty(weights)
            for p in params:
                p.grad = None
            (loss + pen if pen is not None else loss).backward()
            if GRAD_CLIP:
                __CLIP__
            if __MANUAL_DECAY__ and WEIGHT_DECAY:
                with torch.no_grad():
                    torch._foreach_mul_(weights, 1 - lr * WEIGHT_DECAY)
            optimizer.step()
            step += 1
            if not math.isfinite(loss.item()) or loss.item() > DIVERGED * max(1.0, initial_loss):
                print(f"diverged at step {step}: the loss reached {loss.item():.4g}")
                return__EPOCH_END__
        if epoch % max(1, EPOCHS // 10) == 0 or epoch == EPOCHS:
            loss = evaluate(model, splits["train"])["loss"]
            print(f"epoch {epoch:>5}/{EPOCHS}  train loss {loss:.5f}")__RESTORE__


def main():
    splits = load_splits()
    with torch.random.fork_rng():
        torch.manual_seed(INIT_SEED)
        model = Transformer(__CONFIG__)
    train(model, splits)
    final = {}
    for name in ("train", "val", "test"):
        result = evaluate(model, splits[name])
        for key in ("loss", "acc"):
            value = result[key] if result else None
            final[f"{name}_{key}"] = value if value is None or math.isfinite(value) else None
    for name in ("train", "val", "test"):
        result = evaluate(model, splits[name])
        final[f"{name}_seq_acc"] = result["seq_acc"] if result else None
    print(json.dumps(final, allow_nan=False))


if __name__ == "__main__":
    main()
'''


# The Trainer's epoch end (app/nn/training/trainer.py `_epoch_end`): the monitored loss is
# the validation split's (else the training split's); plateau first, then early stopping,
# whose best weights come back when training ends (not after a divergence).
EPOCH_END_PLATEAU = """
        val = evaluate(model, splits["val"])
        plateau.epoch_end(val["loss"] if val else evaluate(model, splits["train"])["loss"])"""
EPOCH_END_EARLY = """
        if val is not None:
            if best is None or val["loss"] < best["loss"] - MIN_DELTA:
                state = copy.deepcopy(model.state_dict())
                best = {"loss": val["loss"], "epoch": epoch, "state": state}
            elif epoch - best["epoch"] >= PATIENCE:
                print(f"early stop after epoch {epoch}: best at epoch {best['epoch']}")
                break"""
RESTORE = """
    if best is not None:
        model.load_state_dict(best["state"])  # the weights of the best validation epoch"""


def epoch_setup(plateau: bool, early: bool) -> str:
    lines = ["plateau = Plateau()"] if plateau else []
    if early:
        lines.append("best = None  # early stopping: the best validation loss and its weights")
    return "".join("\n    " + line for line in lines)


def epoch_end(plateau: bool, early: bool) -> str:
    if not (plateau or early):
        return ""
    head = EPOCH_END_PLATEAU if plateau else '\n        val = evaluate(model, splits["val"])'
    return head + (EPOCH_END_EARLY if early else "")


def export_transformer(spec: Spec) -> str:
    """A runnable script that trains this transformer experiment as the app does."""
    t, part = spec.train, spec.transformer
    assert part is not None
    trainer = TransformerTrainer(spec)
    vocab = trainer.net.cfg.vocab
    sched_consts, sched_code = schedule_code(t.schedule.name, t.schedule.params())
    plateau = t.schedule.name == "reduce_on_plateau"
    if not sched_code:
        sched_code = 'def lr_at(step):\n    """A constant learning rate."""\n    return LR\n'
    es = t.early_stopping
    if es is not None:
        sched_consts += f"PATIENCE, MIN_DELTA = {es.patience}, {es.min_delta!r}  # early stopping\n"
    clip = (
        "torch.nn.utils.clip_grad_norm_(params, GRAD_CLIP, foreach=True)"
        if t.grad_clip is None or t.grad_clip.mode == "norm"
        else "torch.nn.utils.clip_grad_value_(params, GRAD_CLIP, foreach=True)"
    )
    train = (
        TRAIN.replace("__OPTIMIZER__", _optimizer(trainer).replace("\n", "\n    "))
        .replace("__CLIP__", clip)
        .replace("__MANUAL_DECAY__", str(trainer.manual_decay))
        .replace("__CONFIG__", repr(trainer.net.cfg))
        .replace("__LR__", "LR * plateau.multiplier" if plateau else "lr_at(step)")
        .replace("__SETUP__", epoch_setup(plateau, es is not None))
        .replace("__EPOCH_END__", epoch_end(plateau, es is not None))
        .replace("__RESTORE__", RESTORE if es is not None else "")
    )
    header = (
        f'"""A transformer ({part.blocks} blocks, {part.heads} heads, d_model {part.d_model}, '
        f"{part.positions} positions, {part.norm}-LN, "
        f"{'causal' if part.causal else 'bidirectional'}) on the {part.dataset!r} task,\n"
        "exported from Backprop Playground.\n\n"
        f"Spec: {json.dumps(spec.model_dump(mode='json'), separators=(',', ':'))}\n\n"
        'Run it with `python this_file.py`; it prints the final scores as JSON."""\n\n'
    )
    return "".join(
        [
            header,
            "from __future__ import annotations\n\n",
            "import copy\n" if es is not None else "",
            "import json\nimport math\nfrom dataclasses import dataclass\n",
            "from itertools import pairwise\n\n",
            "import torch\nimport torch.nn.functional as F\nfrom torch import nn\n\n",
            "torch.set_num_threads(1)  # as the app: one thread, the same summation order\n",
            f"IGNORE = {tokens_module.IGNORE}\n",
            _constants(spec, trainer),
            sched_consts,
            "\n\n# ---- data " + "-" * 70 + "\n\n\n",
            _data(spec, vocab),
            "\n\n# ---- model " + "-" * 69 + "\n\n\n",
            _model_source(),
            "\n\n# ---- training " + "-" * 66 + "\n\n\n",
            loss_code(spec.loss_name, "multiclass", vocab, t.label_smoothing, t.huber_delta),
            "\n\n" + sched_code,
            "\n" + train,
        ]
    )
