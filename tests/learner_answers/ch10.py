"""Answers a student might write for chapter 10 (tests/test_build_exercises.py runs the student notebook on them).

RIGHT: the parameter count from one filter's size; blocks written with a helper for the layers, nn.ReLU modules and
a projection decided from the output's shape; a stage built by a comprehension; a summary whose hooks are removed
by a context manager. WRONG: a basic block that applies the ReLU before adding the shortcut, and a summary that
hooks every module, containers included.
"""

RIGHT = {
    "10.1": '''def conv_parameters(in_channels, out_channels, kernel_size, bias=True, groups=1):
    one_filter = (in_channels // groups) * kernel_size * kernel_size
    return out_channels * one_filter + (out_channels if bias else 0)
''',
    "10.4": '''class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_channels, channels, stride=1, *, residual=True, batch_norm=True):
        super().__init__()
        def norm(c):
            return nn.BatchNorm2d(c) if batch_norm else nn.Identity()
        width = channels * BasicBlock.expansion
        self.conv1 = nn.Conv2d(in_channels, channels, kernel_size=3, stride=stride, padding=1, bias=not batch_norm)
        self.bn1 = norm(channels)
        self.conv2 = nn.Conv2d(channels, width, kernel_size=3, stride=1, padding=1, bias=not batch_norm)
        self.bn2 = norm(width)
        self.act = nn.ReLU()
        same = stride == 1 and in_channels == width
        self.shortcut = None
        if residual:
            layers = [] if same else [nn.Conv2d(in_channels, width, 1, stride, bias=not batch_norm)]
            if layers and batch_norm:
                layers.append(nn.BatchNorm2d(width))
            self.shortcut = nn.Sequential(*layers) if layers else nn.Identity()

    def forward(self, x):
        h = self.act(self.bn1(self.conv1(x)))
        h = self.bn2(self.conv2(h))
        skip = self.shortcut(x) if self.shortcut is not None else 0
        return self.act(h + skip)
''',
    "10.5": '''class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_channels, channels, stride=1):
        super().__init__()
        wide = 4 * channels
        self.conv1, self.bn1 = nn.Conv2d(in_channels, channels, 1, bias=False), nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3, self.bn3 = nn.Conv2d(channels, wide, 1, bias=False), nn.BatchNorm2d(wide)
        if stride == 1 and in_channels == wide:
            self.shortcut = nn.Identity()
        else:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, wide, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(wide))

    def forward(self, x):
        y = x
        for conv, bn in ((self.conv1, self.bn1), (self.conv2, self.bn2)):
            y = nn.functional.relu(bn(conv(y)))
        y = self.bn3(self.conv3(y))
        return nn.functional.relu(y + self.shortcut(x))
''',
    "10.6": '''def make_stage(block, in_channels, channels, num_blocks, stride):
    inputs = [in_channels] + [channels * block.expansion] * (num_blocks - 1)
    strides = [stride] + [1] * (num_blocks - 1)
    return nn.Sequential(*[block(c, channels, s) for c, s in zip(inputs, strides)])
''',
    "10.7": '''def layer_summary(model, input_shape):
    import contextlib
    qualified = {id(m): n for n, m in model.named_modules()}
    seen, table = set(), []

    def on_output(module, args, out):
        count = sum(p.numel() for p in module.parameters()) if id(module) not in seen else 0
        seen.add(id(module))
        table.append((qualified[id(module)], module.__class__.__name__, tuple(out.shape)[1:], count))

    reference = next(iter(model.parameters()))
    mode = model.training
    with contextlib.ExitStack() as stack:
        for m in model.modules():
            if not any(True for _ in m.children()):
                stack.callback(m.register_forward_hook(on_output).remove)
        model.train(False)
        with torch.no_grad():
            model(torch.zeros((1,) + tuple(input_shape), dtype=reference.dtype, device=reference.device))
    model.train(mode)
    return table
''',
}

WRONG = {
    "10.4": '''class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_channels, channels, stride=1, *, residual=True, batch_norm=True):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=not batch_norm)
        self.bn1 = nn.BatchNorm2d(channels) if batch_norm else nn.Identity()
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=not batch_norm)
        self.bn2 = nn.BatchNorm2d(channels) if batch_norm else nn.Identity()
        self.shortcut = None
        if residual and (stride != 1 or in_channels != channels):
            layers = [nn.Conv2d(in_channels, channels, 1, stride=stride, bias=not batch_norm)]
            self.shortcut = nn.Sequential(*layers, *([nn.BatchNorm2d(channels)] if batch_norm else []))
        elif residual:
            self.shortcut = nn.Identity()

    def forward(self, x):
        out = torch.relu(self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))
        return out if self.shortcut is None else out + self.shortcut(x)
''',
    "10.7": '''def layer_summary(model, input_shape):
    rows = []
    names = {m: n for n, m in model.named_modules()}
    hooks = [m.register_forward_hook(lambda m, i, o: rows.append((names[m], type(m).__name__, tuple(o.shape[1:]),
                                                                  sum(p.numel() for p in m.parameters()))))
             for m in model.modules()]
    p = next(model.parameters())
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *input_shape, device=p.device, dtype=p.dtype))
    for h in hooks:
        h.remove()
    return rows
''',
}

USES = {"10.1": "conv_parameters", "10.4": "BasicBlock", "10.5": "Bottleneck", "10.6": "make_stage",
        "10.7": "layer_summary"}
