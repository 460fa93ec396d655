"""Properties of the convolution, pooling, batch-norm and CNN modules: equal to PyTorch, bad input named."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

from dlcore.scratch import batchnorm as B
from dlcore.scratch import cnn
from dlcore.scratch import conv as C
from dlcore.scratch import im2col as I
from dlcore.scratch import pooling as P
from tests.property_kit import check_mutations, close, conv_case, covers, floats, rejects, torch_conv2d, torch_of

covers(
    C.as_pair, C.check_conv_inputs, C.conv2d_forward, C.conv2d_backward,
    I.col2im, I.conv_output_size, I.im2col, I.pad2d, I.receptive_field, I.window_view,
    P.maxpool2d_forward, P.maxpool2d_backward, P.avgpool2d_forward, P.avgpool2d_backward,
    B.batchnorm_forward, B.batchnorm_backward, B.batchnorm_eval_forward, B.update_running_stats, B.BatchNorm1d,
    B.BatchNorm2d,
    cnn.Conv2d, cnn.MaxPool2d, cnn.AvgPool2d, cnn.Flatten, cnn.scratch_lenet5, cnn.copy_lenet_to_torch,
    cnn.scratch_lenet5_from_torch,
)
NAN = ("NaN",)


@given(case=conv_case(), data=st.data())
def test_conv2d_equals_torch_forward_and_backward(case, data):
    x, w, b, stride, padding, dilation = case
    out_t, dout, grads = torch_conv2d(case, data)
    out, cache = C.conv2d_forward(x, w, b, stride, padding, dilation)
    close(out, out_t)
    for ours, grad in zip(C.conv2d_backward(dout, cache), grads):
        close(ours, grad, atol=1e-10)
    layer = cnn.Conv2d(x.shape[1], w.shape[0], w.shape[2:], stride=stride, padding=padding, dilation=dilation,
                       rng=np.random.default_rng(0))
    layer.w.value[...], layer.b.value[...] = w, b
    close(layer(x), out_t)
    close(layer.backward(dout), grads[0], atol=1e-10)
    assert out.shape[2:] == tuple(I.conv_output_size(s, k, st_, p, d) for s, k, st_, p, d in zip(
        x.shape[2:], w.shape[2:], stride, padding, dilation))


@given(x=floats((2, 3, 5, 6)), data=st.data())
def test_conv2d_keeps_float32(x, data):
    w, b = data.draw(floats((2, 3, 3, 3))), data.draw(floats((2,)))
    out, cache = C.conv2d_forward(x.astype(np.float32), w.astype(np.float32), b.astype(np.float32), padding=1)
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in C.conv2d_backward(np.ones_like(out), cache))


@given(case=conv_case())
def test_im2col_col2im_are_adjoint(case):
    x, w, _, stride, padding, dilation = case
    x_pad = I.pad2d(x, padding)
    close(x_pad, F.pad(torch_of(x), (padding[1], padding[1], padding[0], padding[0])))
    out_size = tuple(I.conv_output_size(s + 2 * p, k, st_, 0, d) for s, k, st_, p, d in zip(
        x.shape[2:], w.shape[2:], stride, padding, dilation))
    cols = I.im2col(x_pad, w.shape[2:], stride, dilation, out_size)
    views = I.window_view(x_pad, w.shape[2:], stride, dilation, out_size)
    assert views.size == cols.size
    probe = np.random.default_rng(0).normal(size=cols.shape)
    back = I.col2im(probe, x_pad.shape, w.shape[2:], stride, dilation, out_size)
    # <im2col(x), y> = <x, col2im(y)>: col2im is the transpose of im2col, which is why it is the backward pass
    assert np.sum(cols * probe) == pytest.approx(np.sum(x_pad * back), rel=1e-9, abs=1e-9)


@given(layers=st.lists(st.tuples(st.integers(1, 5), st.integers(1, 3), st.integers(1, 2)), min_size=1, max_size=4))
def test_receptive_field_matches_probing_a_conv_stack(layers):
    size = I.receptive_field(layers)
    x = torch.zeros(1, 1, 64, 64, dtype=torch.float64, requires_grad=True)
    h = x
    for k, s, d in layers:
        h = F.conv2d(h, torch.ones(1, 1, k, k, dtype=torch.float64), stride=s, dilation=d)
    if h.shape[-1] == 0:
        return
    h[0, 0, 0, 0].backward()
    touched = np.flatnonzero(x.grad[0, 0].abs().sum(0).numpy())
    assert size == touched.max() - touched.min() + 1


@st.composite
def pool_case(draw):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    x = draw(floats((draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(3, 7)),
                     draw(st.integers(3, 7))), -3, 3))
    return x, k, stride, padding


@given(case=pool_case(), data=st.data(), ties=st.booleans())
def test_pooling_equals_torch_forward_and_backward(case, data, ties):
    x, k, stride, padding = case
    if ties:
        x = np.round(x)  # many equal maxima: the gradient goes to the first, as in PyTorch
    for ours_fwd, ours_bwd, theirs, module in (
            (P.maxpool2d_forward, P.maxpool2d_backward, F.max_pool2d, cnn.MaxPool2d),
            (P.avgpool2d_forward, P.avgpool2d_backward, F.avg_pool2d, cnn.AvgPool2d)):
        x_t = torch_of(x, True)
        out_t = theirs(x_t, k, stride, padding)
        dout = data.draw(floats(tuple(out_t.shape)))
        out_t.backward(torch_of(dout))
        out, cache = ours_fwd(x, k, stride, padding)
        close(out, out_t)
        close(ours_bwd(dout, cache), x_t.grad, atol=1e-12)
        layer = module(k, stride, padding)
        close(layer(x), out_t)
        close(layer.backward(dout), x_t.grad, atol=1e-12)


@given(shape=st.sampled_from([(6, 4), (4, 3, 2, 2)]), data=st.data(), momentum=st.floats(0.05, 0.9))
def test_batchnorm_equals_torch_in_training_and_evaluation(shape, data, momentum):
    x = data.draw(floats(shape))
    x[0] += 1.0  # at least two different values per feature
    C_ = shape[1]
    gamma, beta, dout = data.draw(floats((C_,), 0.5, 2)), data.draw(floats((C_,))), data.draw(floats(shape))
    x_t, g_t, b_t = torch_of(x, True), torch_of(gamma, True), torch_of(beta, True)
    run_mean, run_var = torch.zeros(C_, dtype=torch.float64), torch.ones(C_, dtype=torch.float64)
    out_t = F.batch_norm(x_t, run_mean, run_var, g_t, b_t, training=True, momentum=momentum)
    out_t.backward(torch_of(dout))
    out, cache = B.batchnorm_forward(x, gamma, beta)
    close(out, out_t, atol=1e-9)
    for ours, grad in zip(B.batchnorm_backward(dout, cache), (x_t.grad, g_t.grad, b_t.grad)):
        close(ours, grad, atol=1e-8)
    new_mean, new_var = B.update_running_stats(np.zeros(C_), np.ones(C_), cache, momentum)
    close(new_mean, run_mean)
    close(new_var, run_var)
    out_eval, _ = B.batchnorm_eval_forward(x, gamma, beta, new_mean, new_var)
    close(out_eval, F.batch_norm(torch_of(x), run_mean, run_var, torch_of(gamma), torch_of(beta), training=False))
    layer = (B.BatchNorm1d if len(shape) == 2 else B.BatchNorm2d)(C_, momentum=momentum)
    layer.gamma.value[...], layer.beta.value[...] = gamma, beta
    close(layer(x), out_t, atol=1e-9)
    close(layer.backward(dout), x_t.grad, atol=1e-8)
    close(layer.eval()(x), out_eval)


def test_lenet5_round_trips_through_torch():
    from dlcore.models.lenet import LeNet5

    scratch = cnn.scratch_lenet5(rng=np.random.default_rng(0))
    model = LeNet5().double()
    cnn.copy_lenet_to_torch(scratch, model)
    x = np.random.default_rng(1).normal(size=(2, 1, 32, 32))
    close(scratch(x), model(torch_of(x)), atol=1e-10)
    again = cnn.scratch_lenet5_from_torch(model)
    close(again(x), scratch(x), atol=1e-12)
    flat = cnn.Flatten()
    close(flat(x), x.reshape(2, -1))
    close(flat.backward(np.ones((2, 1024))), np.ones_like(x))


def test_convolution_and_pooling_bad_arguments_are_named():
    args = dict(x=np.ones((1, 2, 5, 5)), w=np.ones((3, 2, 3, 3)), b=np.zeros(3), stride=1, padding=1, dilation=1)
    check_mutations(C.conv2d_forward, args, accepts={"x": NAN, "w": NAN, "b": NAN, "padding": ("zero",)})
    _, cache = C.conv2d_forward(**args)
    rejects(lambda: C.conv2d_backward(np.ones((1, 3, 4, 4)), cache), "dout")
    rejects(lambda: C.conv2d_backward(np.ones((1, 3, 5, 5)), "cache"), "cache")
    rejects(lambda: C.as_pair("f", "stride", (1, 2, 3), 1), "stride")
    rejects(lambda: C.check_conv_inputs("f", np.ones((1, 2, 5, 5)), np.ones((3, 1, 3, 3)), np.zeros(3), 1, 0, 1), "w")
    pool = dict(x=np.ones((1, 2, 5, 5)), kernel_size=2, stride=2, padding=0)
    for forward in (P.maxpool2d_forward, P.avgpool2d_forward):
        check_mutations(forward, pool, accepts={"x": NAN, "padding": ("zero",)})
        rejects(lambda: forward(np.ones((1, 2, 5, 5)), 2, 2, 2), "padding")  # more than half the window
    _, cache = P.maxpool2d_forward(**pool)
    rejects(lambda: P.maxpool2d_backward(np.ones((1, 2, 3, 3)), cache), "dout")
    rejects(lambda: I.conv_output_size(5, 3, stride=0), "stride")
    rejects(lambda: I.receptive_field([(3, 0)]), "stride")
    rejects(lambda: I.pad2d(np.ones((2, 2)), (1, 1)), "x")


def test_batchnorm_and_modules_bad_arguments_are_named():
    args = dict(x=np.random.default_rng(0).normal(size=(4, 3)), gamma=np.ones(3), beta=np.zeros(3), eps=1e-5)
    check_mutations(B.batchnorm_forward, args, accepts={"x": NAN, "gamma": NAN, "beta": NAN})
    _, cache = B.batchnorm_forward(args["x"], args["gamma"], args["beta"])
    rejects(lambda: B.batchnorm_backward(np.ones((3, 4)), cache), "dout")
    rejects(lambda: B.update_running_stats(np.zeros(3), np.ones(3), cache, 1.5), "momentum")
    rejects(lambda: B.BatchNorm1d(0), "num_features")
    rejects(lambda: B.BatchNorm2d(3)(np.ones((4, 3))), "x")
    rejects(lambda: cnn.Conv2d(2, 3, 0, rng=np.random.default_rng(0)), "kernel_size")
    rejects(lambda: cnn.Conv2d(2, 3, 3, rng=0), "rng")
    flatten = cnn.Flatten()
    flatten(np.ones((2, 3, 2, 2)))
    rejects(lambda: flatten.backward(np.ones((3, 8))), "dout")  # right size, wrong shape: no silent reshape
    rejects(lambda: cnn.scratch_lenet5(pooling="median", rng=np.random.default_rng(0)), "pooling")
    rejects(lambda: cnn.scratch_lenet5(input_size=8, rng=np.random.default_rng(0)), "input_size")
