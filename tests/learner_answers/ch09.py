"""Answers a student might write for chapter 09 (tests/test_build_exercises.py runs the student notebook on them).

RIGHT: im2col through NumPy's sliding windows, and a conv layer with einsum whose col2im loops over the windows
(correct but loop-based: LeNet-5 then runs it on its first batches only). WRONG: the loops with a flipped kernel
(the mathematicians' convolution), and max pooling that breaks ties in column order.
"""

RIGHT = {
    "9.5": '''def im2col(x_pad, kh, kw, stride=1):
    N, C = x_pad.shape[:2]
    windows = np.lib.stride_tricks.sliding_window_view(x_pad, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]
    Ho, Wo = windows.shape[2:4]  # windows: (N, C, Ho, Wo, kh, kw)
    return windows.transpose(1, 4, 5, 0, 2, 3).reshape(C * kh * kw, N * Ho * Wo)
''',
    "9.7": '''def conv_forward(x, w, b, stride=1, padding=0):
    F, C, kh, kw = w.shape
    padded = np.pad(x, [(0, 0), (0, 0), (padding, padding), (padding, padding)])
    cols = im2col(padded, kh, kw, stride)
    Ho = (padded.shape[2] - kh) // stride + 1
    Wo = (padded.shape[3] - kw) // stride + 1
    y = np.tensordot(w.reshape(F, -1), cols, axes=1) + b.reshape(F, 1)
    out = np.moveaxis(y.reshape(F, x.shape[0], Ho, Wo), 0, 1)
    return out, {"cols": cols, "w": w, "x": x, "stride": stride, "padding": padding}


def conv_backward(dout, cache):
    cols, w, x, s, p = cache["cols"], cache["w"], cache["x"], cache["stride"], cache["padding"]
    F, C, kh, kw = w.shape
    N, _, Ho, Wo = dout.shape
    g = np.moveaxis(dout, 1, 0).reshape(F, -1)
    dw = np.einsum("fq,rq->fr", g, cols).reshape(w.shape)
    db = g.sum(axis=1)
    dcols = np.einsum("fr,fq->rq", w.reshape(F, -1), g).reshape(C, kh, kw, N, Ho, Wo)
    dpad = np.zeros((N, C, x.shape[2] + 2 * p, x.shape[3] + 2 * p))
    for i in range(Ho):
        for j in range(Wo):
            dpad[:, :, i * s:i * s + kh, j * s:j * s + kw] += dcols[:, :, :, :, i, j].transpose(3, 0, 1, 2)
    return dpad[:, :, p:p + x.shape[2], p:p + x.shape[3]], dw, db
''',
}

WRONG = {
    "9.4": '''def conv2d_loops(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Ho, Wo = (H + 2 * padding - kh) // stride + 1, (W + 2 * padding - kw) // stride + 1
    out = np.zeros((N, F, Ho, Wo))
    for n in range(N):
        for f in range(F):
            for i in range(Ho):
                for j in range(Wo):
                    patch = xp[n, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
                    out[n, f, i, j] = np.sum(patch * w[f, :, ::-1, ::-1]) + b[f]
    return out
''',
    "9.8": '''def maxpool_forward(x):
    N, C, H, W = x.shape
    windows = x.reshape(N, C, H // 2, 2, W // 2, 2).transpose(0, 1, 2, 4, 5, 3).reshape(N, C, H // 2, W // 2, 4)
    return windows.max(axis=-1), (windows.argmax(axis=-1), x.shape)


def maxpool_backward(dout, cache):
    winner, (N, C, H, W) = cache
    d = (np.arange(4) == winner[..., None]) * dout[..., None]
    return d.reshape(N, C, H // 2, W // 2, 2, 2).transpose(0, 1, 2, 5, 3, 4).reshape(N, C, H, W)
''',
}

USES = {"9.4": "conv2d_loops", "9.5": "im2col", "9.7": "conv_backward", "9.8": "maxpool_backward"}
