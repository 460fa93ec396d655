"""Chapter 08: the articles' TensorFlow/Keras examples rebuilt in PyTorch (001 §4.3, 004 §5(1)-(2)), and the device helper."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from dlcore.articles import article_001_regression as regression
from dlcore.articles import article_004_keras_xor as keras_xor
from dlcore.training.device import mlp_step_flops, pick_device, to_device


pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tests/conftest.py


# ---------------------------------------------------------------- 001 §4.3

@pytest.fixture(scope="module")
def data():
    return regression.load_article_split()


def test_split_is_the_articles_first_80_percent(data):
    assert data.x_train.shape == (353, 10) and data.x_test.shape == (89, 10)
    assert data.y_train.shape == (353, 1) and data.x_train.dtype == torch.float32
    from dlcore.data import load_diabetes

    X, y = load_diabetes()
    np.testing.assert_allclose(data.x_train.numpy(), X[:353], rtol=1e-6)  # unshuffled
    np.testing.assert_allclose(data.y_test.numpy()[:, 0], y[353:] / regression.TARGET_SCALE, rtol=1e-6)


def test_standardize_uses_training_statistics():
    d = regression.load_article_split(shuffle=True, standardize=True, seed=3)
    np.testing.assert_allclose(d.x_train.numpy().mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(d.x_train.numpy().std(axis=0), 1, atol=1e-4)
    assert abs(float(d.x_test.mean())) > 1e-4  # the test set is not re-centred on its own statistics


def test_article_variables_are_the_two_hidden_layers():
    model = regression.article_model(10)
    assert [tuple(v.shape) for v in regression.article_variables(model)] == [(64, 10), (64,), (64, 64), (64,)]
    assert all(v is p for v, p in zip(regression.article_variables(model),
                                      [model.first.weight, model.first.bias, model.second.weight, model.second.bias]))


def test_step_as_given_never_moves_the_output_layer(data):
    model = regression.article_model(10, seed=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    output = [p.detach().clone() for p in model.output.parameters()]
    first = model.first.weight.detach().clone()
    metric = regression.RunningMSE()
    for _ in range(3):
        regression.train_step_as_given(model, optimizer, data.x_train[:32], data.y_train[:32], metric)
    assert all(torch.equal(p, q) for p, q in zip(model.output.parameters(), output))
    assert not torch.equal(model.first.weight, first)
    regression.train_step_fixed(model, optimizer, data.x_train[:32], data.y_train[:32], metric)
    assert not torch.equal(model.output.weight, output[0])


def test_running_metric_is_a_mean_over_everything_seen():
    metric = regression.RunningMSE()
    metric.update_state(torch.zeros(2, 1), torch.ones(2, 1))  # squared errors 1, 1
    metric.update_state(torch.zeros(1, 1), torch.full((1, 1), 3.0))  # 9
    assert metric.result() == pytest.approx(11 / 3)
    metric.reset_state()
    assert metric.result() == 0.0


def test_fit_as_given_and_fixed(data):
    as_given = regression.fit_article(data, fixed=False, epochs=6)
    fixed = regression.fit_article(data, fixed=True, epochs=6)
    assert as_given.output_layer_change == 0.0 and fixed.output_layer_change > 1e-3
    assert as_given.hidden_layer_change > 1e-3
    assert as_given.train_mse.shape == (6,) and np.all(np.isfinite(as_given.test_mse))
    # the never-reset metric lags the true training error: it averages over the earlier, worse epochs
    assert as_given.reported_mse[-1] > as_given.train_mse[-1]
    baseline = float(((data.y_test - data.y_train.mean()) ** 2).mean())
    assert fixed.test_mse[-1] < baseline


# ---------------------------------------------------------------- 004 §5(1)-(2)

def test_half_cross_entropy_ignores_negatives_and_its_gradient():
    p = torch.tensor([[0.3], [0.6]], requires_grad=True)
    y = torch.tensor([[0.0], [1.0]])
    loss = keras_xor.half_cross_entropy(p, y)
    assert loss.item() == pytest.approx(-math.log(0.6))
    loss.backward()
    assert p.grad[0, 0] == 0.0  # the y = 0 row gets nothing


def test_keras_clip_passes_no_gradient_outside_the_unit_interval():
    out = torch.tensor([[-0.5], [0.3], [1.7]], requires_grad=True)
    y = torch.tensor([[1.0], [1.0], [0.0]])
    loss = keras_xor.keras_binary_crossentropy(out, y)
    loss.backward()
    assert out.grad[0, 0] == 0.0 and out.grad[2, 0] == 0.0 and out.grad[1, 0] < 0
    expected = -(math.log(1e-7) + math.log(0.3) + math.log(1e-7)) / 3  # both clipped rows are confidently wrong
    assert loss.item() == pytest.approx(expected, rel=0.02)  # float32: 1 - (1 - 1e-7) is 1.19e-7


def test_keras_evaluate_without_metrics_is_a_float():
    score = keras_xor.keras_evaluate_as_given(0.5)
    with pytest.raises(TypeError):
        score[0]
    assert len(keras_xor.keras_evaluate_as_given(0.5, ("accuracy",))) == 2
    model = keras_xor.keras_model()
    assert sum(p.numel() for p in model.parameters()) == 9  # 2*2 + 2 + 2*1 + 1


def test_tf1_as_given_predicts_one_everywhere_and_the_fix_solves_xor():
    as_given = keras_xor.train_xor("tf1_as_given", num_runs=8, seed=0)
    assert as_given.outputs.shape == (8, 4) and as_given.losses.shape == (1000, 8)
    assert as_given.success_rate == 0.0
    assert bool((as_given.predictions == 1).all())
    assert keras_xor.train_xor("tf1_fixed", num_runs=8, seed=0).success_rate == 1.0


def test_keras_as_given_fails_and_the_fix_solves_xor():
    assert keras_xor.train_xor("keras_as_given", num_runs=8, seed=0).success_rate <= 0.25
    assert keras_xor.train_xor("keras_fixed", num_runs=8, seed=0).success_rate == 1.0


def test_runs_are_independent_and_deterministic():
    short = keras_xor.Recipe("short, with dropout", init="glorot", loss="bce", dropout=0.5, optimizer="adam", steps=50)
    together = keras_xor.train_xor(short, num_runs=3, seed=4)
    again = keras_xor.train_xor(short, num_runs=3, seed=4)
    assert torch.equal(together.outputs, again.outputs)
    recipe = keras_xor.Recipe("short", loss="bce", steps=5)
    run = keras_xor.train_xor(recipe, num_runs=2, seed=0)
    assert run.losses.shape == (5, 2)
    with pytest.raises(ValueError, match="num_runs"):
        keras_xor.train_xor("tf1_fixed", num_runs=0)


# ---------------------------------------------------------------- device helper

def test_device_helpers():
    assert pick_device("cpu").type == "cpu"
    assert pick_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(ValueError, match="prefer"):
        pick_device("tpu")
    x, y = to_device((torch.zeros(2), torch.ones(1)), "cpu")
    assert x.device.type == "cpu" and y.device.type == "cpu"
    with pytest.raises(TypeError):
        to_device(np.zeros(2), "cpu")
    assert mlp_step_flops([2, 16, 16, 2], 32) == 6 * 32 * (32 + 256 + 32)
    with pytest.raises(ValueError):
        mlp_step_flops([2], 4)


def test_outputs_per_step_record_what_each_step_changed():
    recipe = keras_xor.Recipe("short", steps=7)
    run = keras_xor.train_xor(recipe, num_runs=3, seed=2, dtype=torch.float64)
    assert run.outputs_per_step.shape == (7, 3, 4) and run.outputs_per_step.dtype == torch.float64
    # the outputs before step t + 1 are the outputs after step t: the last recorded pass is one step before the end
    assert not torch.equal(run.outputs_per_step[-1], run.outputs)
    first = keras_xor.train_xor(keras_xor.Recipe("one step", steps=1), num_runs=3, seed=2, dtype=torch.float64)
    assert torch.allclose(first.outputs_per_step[0], run.outputs_per_step[0])
    assert torch.allclose(first.outputs, run.outputs_per_step[1])


def test_half_loss_in_the_articles_network_never_lowers_an_output_but_centred_inputs_can_stay_below_half():
    # inputs and ReLU outputs >= 0 make every term of the output kernel >= 0: no step lowers any output
    as_given = keras_xor.train_xor("tf1_as_given", num_runs=60, seed=0, dtype=torch.float64)
    steps = torch.cat([as_given.outputs_per_step, as_given.outputs[None]]).diff(dim=0)
    assert bool((steps > -1e-9).all())
    assert bool((as_given.predictions == 1).all())
    centred = keras_xor.train_xor("tf1_centred", num_runs=60, seed=0, dtype=torch.float64)
    assert int((centred.predictions == 1).all(dim=1).sum()) == 59 and centred.success_rate == 0.0


def test_train_xor_rejects_other_dtypes():
    with pytest.raises(ValueError, match="dtype"):
        keras_xor.train_xor("tf1_as_given", dtype=torch.float16)


def test_digit_mlp_computes_in_float64_from_float32_batches():
    from dlcore.training.torch_loop import DigitMLP, digit_mlp

    model = digit_mlp(seed=0)
    assert isinstance(model, DigitMLP) and sum(p.numel() for p in model.parameters()) == 55050
    logits = model(torch.zeros(3, 784, dtype=torch.float32))
    assert logits.shape == (3, 10) and logits.dtype == torch.float64
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), digit_mlp(seed=0).parameters()))
