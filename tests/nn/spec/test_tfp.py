"""TensorFlow Playground links become equivalent specs; what has no equivalent is reported;
unknown keys and malformed values are rejected naming the key."""

from __future__ import annotations

import pytest
import torch

from app.nn.spec.base import Limits
from app.nn.spec.experiment import validate_spec
from app.nn.spec.tfp import import_tfp
from app.nn.training.trainer import Trainer

torch.set_num_threads(1)

SITE = "https://playground.tensorflow.org/"
DEFAULT_LINK = (
    SITE + "#activation=tanh&batchSize=10&dataset=circle&regDataset=reg-plane&learningRate=0.03"
    "&regularizationRate=0&noise=0&networkShape=4,2&seed=0.80&showTestData=false"
    "&discretize=false&percTrainData=50&x=true&y=true&xTimesY=false&xSquared=false"
    "&ySquared=false&cosX=false&sinX=false&cosY=false&sinY=false&collectStats=false"
    "&problem=classification&initZero=false&hideText=false"
)
SPIRAL_LINK = (
    SITE + "#activation=relu&regularization=L2&batchSize=30&dataset=spiral&regDataset=reg-plane"
    "&learningRate=0.01&regularizationRate=0.003&noise=35&networkShape=8,8,5&seed=0.12345"
    "&showTestData=true&discretize=true&percTrainData=70&x=true&y=true&xTimesY=true"
    "&xSquared=true&ySquared=true&cosX=false&sinX=true&cosY=false&sinY=true"
    "&collectStats=false&problem=classification&initZero=false&hideText=false"
)
REGRESSION_LINK = (
    "#activation=linear&regularization=L1&batchSize=5&dataset=xor&regDataset=reg-gauss"
    "&learningRate=0.1&regularizationRate=0.001&noise=10&networkShape=&seed=0.51234"
    "&showTestData=false&discretize=false&percTrainData=80&x=true&y=false&xTimesY=false"
    "&xSquared=false&ySquared=false&cosX=false&sinX=false&cosY=false&sinY=false"
    "&collectStats=false&problem=regression&initZero=true&hideText=true"
)


def joined(notes: list[str]) -> str:
    return "\n".join(notes)


def test_the_default_link() -> None:
    spec, notes = import_tfp(DEFAULT_LINK)
    assert spec["data"] == {
        "dataset": "circle",
        "samples": 500,
        "noise": 0.0,
        "train_fraction": 0.5,
        "val_fraction": 0.0,
        "features": ["x1", "x2"],
    }
    assert spec["model"]["layers"] == [
        {"units": 4, "activation": "tanh"},
        {"units": 2, "activation": "tanh"},
    ]
    assert spec["train"]["optimizer"] == {"name": "sgd", "lr": 0.03}
    assert spec["train"]["batch_size"] == 10 and "l1" not in spec["train"]
    assert spec["seed"] == 80000
    valid = validate_spec(spec)
    assert valid.loss_name == "bce"
    text = joined(notes)
    for fragment in (
        "seed=0.80",
        "squared error",
        "showTestData=false",
        "hideText=false",
        "collectStats=false",
        "discretize=false",
        "noise=0",
        "epochs",
    ):
        assert fragment in text, fragment


def test_tfp_init_is_reproduced() -> None:
    spec, _ = import_tfp(DEFAULT_LINK)
    model = Trainer(validate_spec(spec)).model
    weights = torch.cat([lin.weight.detach().flatten() for lin in model.linears()])
    assert float(weights.abs().max()) <= 0.5
    assert len(set(weights.tolist())) == len(weights)  # drawn, not constant
    assert 0.15 < float(weights.std()) < 0.45  # U(-0.5, 0.5) has std 0.29
    for linear in model.linears():
        assert torch.all(linear.bias == 0.1)


def test_a_spiral_link_with_every_feature_and_l2() -> None:
    spec, notes = import_tfp(SPIRAL_LINK)
    data = spec["data"]
    assert data["dataset"] == "spiral" and data["noise"] == pytest.approx(0.35)
    assert data["train_fraction"] == pytest.approx(0.7)
    assert data["features"] == ["x1", "x2", "x1sq", "x2sq", "x1x2", "sin_x1", "sin_x2"]
    assert [layer["units"] for layer in spec["model"]["layers"]] == [8, 8, 5]
    assert {layer["activation"] for layer in spec["model"]["layers"]} == {"relu"}
    assert spec["train"]["l2"] == pytest.approx(0.003) and "l1" not in spec["train"]
    assert spec["train"]["batch_size"] == 30
    assert "L2 rate 0.003" in joined(notes)
    end = Trainer(validate_spec({**spec, "train": {**spec["train"], "epochs": 2}})).run()
    assert end["status"] == "finished"


def test_a_regression_link_without_hidden_layers() -> None:
    spec, notes = import_tfp(REGRESSION_LINK)
    assert spec["data"]["dataset"] == "multigauss" and spec["data"]["samples"] == 1200
    assert spec["data"]["features"] == ["x1"]
    assert spec["model"]["layers"] == []
    assert spec["model"]["init"] == "zeros" and spec["model"]["bias_init"] == 0.0
    assert spec["train"]["l1"] == pytest.approx(0.001)
    assert validate_spec(spec).loss_name == "mse"
    text = joined(notes)
    assert "twice" in text  # ½(o − t)² vs (o − t)²
    assert "freezes" in text  # TFP's L1 clamp at zero
    assert "initZero" in text and "hideText=true" in text


def test_minimal_and_odd_but_valid_links() -> None:
    spec, notes = import_tfp("#dataset=xor&networkShape=3&problem_hide=true&dataset_hide=true")
    assert spec["data"]["dataset"] == "xor"
    assert spec["model"]["layers"] == [{"units": 3, "activation": "tanh"}]
    assert spec["seed"] == 0 and "no seed" in joined(notes)
    assert "problem_hide" in joined(notes)
    encoded, _ = import_tfp("activation=sigmoid&networkShape=5%2C3&seed=abc")
    assert [layer["units"] for layer in encoded["model"]["layers"]] == [5, 3]
    assert encoded["seed"] == import_tfp("seed=abc")[0]["seed"]  # stable for any string
    none_on, notes = import_tfp("x=false&y=false")
    assert none_on["data"]["features"] == ["x1", "x2"] and "every input off" in joined(notes)
    smaller, notes = import_tfp(REGRESSION_LINK, Limits(max_samples=800))
    assert smaller["data"]["samples"] == 800 and "limit" in joined(notes)


@pytest.mark.parametrize(
    ("link", "fragment"),
    [
        (DEFAULT_LINK + "&foo=1", "unknown key(s) foo"),
        ("#activation=softmax", "activation='softmax': expected one of relu"),
        ("#networkShape=4,x", "networkShape='4,x'"),
        ("#networkShape=4,0", "networkShape='4,0'"),
        ("#x=yes", "x='yes': expected true or false"),
        ("#learningRate=abc", "learningRate='abc': expected a number"),
        ("#noise=abc", "noise='abc': expected a number"),
        ("#batchSize=2.5", "batchSize='2.5': expected a whole number"),
        ("#problem=clustering", "problem="),
        ("#dataset=moons", "dataset='moons'"),
        ("#dataset=xor&dataset=circle", "dataset appears twice"),
        ("#activation", "'activation' is not key=value"),
        ("#problem_hide=maybe", "problem_hide='maybe'"),
        (SITE, "no '#...' part"),
        ("#problem=regression&regDataset=reg-maximum", "regDataset=reg-maximum has no equivalent"),
        ("#learningRate=100", "train.optimizer.lr"),
        ("#networkShape=4,500", "model.layers.1.units"),
    ],
)
def test_bad_links_name_the_key(link: str, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        import_tfp(link)
    assert fragment in str(info.value)
    assert str(info.value).startswith("TF Playground link")


def test_noise_follows_tfp_page_rules() -> None:
    wide, notes = import_tfp("#dataset=gauss&noise=80")
    assert wide["data"]["noise"] == pytest.approx(0.8) and "resets" not in joined(notes)
    for raw in ("81", "100", "250"):
        reset, notes = import_tfp(f"#dataset=gauss&noise={raw}")
        assert reset["data"]["noise"] == pytest.approx(0.5), raw
        assert "resets it to 50" in joined(notes)
    assert import_tfp("#noise=-5")[0]["data"]["noise"] == 0.0


def test_gauss_variance_follows_tfp_beyond_half_noise() -> None:
    # TFP: variance = linear([0, .5] -> [.5, 4])(noise), unclamped: 0.5 + 7·noise.
    for noise in (0.3, 0.7):
        spec = validate_spec({"data": {"dataset": "gauss", "samples": 5000, "noise": noise}})
        data = Trainer(spec).data
        points = torch.cat([s.raw for s in data.splits().values()])
        labels = torch.cat([s.y.flatten() for s in data.splits().values()])
        centres = torch.where(labels[:, None] > 0.5, 2.0, -2.0)
        std = float((points - centres).std())
        assert std == pytest.approx((0.5 + 7 * noise) ** 0.5, rel=0.03), noise


def test_reg_plane_targets_are_not_clamped() -> None:
    # TFP: label = linear([-10, 10] -> [-1, 1])(x + y), no clamp: up to ±1.2 at noise 0.
    spec = validate_spec({"data": {"dataset": "plane", "samples": 2000, "noise": 0.0}})
    for split in Trainer(spec).data.splits().values():
        x = split.raw
        assert torch.allclose(split.y.flatten(), (x[:, 0] + x[:, 1]) / 10, atol=1e-6)
    labels = torch.cat([s.y.flatten() for s in Trainer(spec).data.splits().values()])
    assert float(labels.abs().max()) > 1.1


def test_partial_batches_are_listed_among_the_differences() -> None:
    _, notes = import_tfp("#batchSize=30&percTrainData=50")  # 250 points: 10 left over
    assert "leave 10 over each epoch" in joined(notes)
    assert "averages 40 points" in joined(notes)
    _, notes = import_tfp("#batchSize=10&percTrainData=50")
    assert "left over" not in joined(notes) and "over each epoch" not in joined(notes)


def test_regression_with_l2_names_the_change_that_reproduces_tfp() -> None:
    link = "#problem=regression&networkShape=&learningRate=0.1&regularization=L2"
    link += "&regularizationRate=0.3&batchSize=10&percTrainData=10&initZero=false"
    spec, notes = import_tfp(link)
    assert "lr 0.05 and train.l2 0.6 reproduce TFP's steps exactly" in joined(notes)
    # Oracle: one full-batch step of TFP's update, written out from its nn.ts:
    # w -= lr·mean((o − t)·x) + lr·rate·w; b -= lr·mean(o − t) (biases are not regularised).
    n_train = round(1200 * 0.1)
    changed = {**spec["train"], "optimizer": {"name": "sgd", "lr": 0.05}, "l2": 0.6}
    changed.update(batch_size=n_train, epochs=1)
    trainer = Trainer(validate_spec({**spec, "train": changed}))
    (linear,) = trainer.model.linears()
    w0, b0 = linear.weight.detach().clone(), linear.bias.detach().clone()
    x, t = trainer.data.train.raw.float(), trainer.data.train.y.flatten().float()
    out = x @ w0.T.flatten().to(x.dtype) + b0.to(x.dtype)
    w_tfp = w0.flatten() - 0.1 * ((out - t)[:, None] * x).mean(0) - 0.1 * 0.3 * w0.flatten()
    b_tfp = b0 - 0.1 * (out - t).mean()
    trainer.run()
    assert torch.allclose(linear.weight.detach().flatten().float(), w_tfp.float(), atol=1e-5)
    assert torch.allclose(linear.bias.detach().float(), b_tfp.float(), atol=1e-5)
