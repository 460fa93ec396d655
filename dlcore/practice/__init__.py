"""Deep learning in practice (chapter 15), one concept per module.

- ``common``        the digits (MNIST 28x28, scikit-learn 8x8) as tensors, a small MLP and CNN, a short training loop
- ``augment``       label-preserving image augmentations drawn with an explicit generator
- ``transfer``      pretrain on digits 0-4, fine-tune on 5-9: frozen features, full fine-tuning, from scratch
- ``search``        grid search, random search and successive halving on a fixed budget
- ``pruning``       global and layer-wise magnitude pruning with ``torch.nn.utils.prune``; sparsity accounting
- ``quantization``  affine and symmetric int8 from scratch; dynamic and static int8 linear layers
- ``compression``   pruned and quantized copies of a small MLP, evaluated in NumPy (the compression explorer)
- ``distill``       knowledge distillation: the loss, its gradient, a student trained on a teacher
- ``ddp``           a DistributedDataParallel script (gloo, launched with ``torch.distributed.run``)
- ``sweep``         the chapter's comparisons over five seeds on MNIST (``python -m dlcore.practice.sweep``)

Nothing is imported here: ``import dlcore.practice`` stays free of torch.
"""
