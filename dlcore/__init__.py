"""dlcore: the shared library of the course.

Importing ``dlcore`` is cheap: it touches neither torch nor matplotlib. The
subpackages are the syllabus:

- ``dlcore.scratch``   NumPy from scratch: kernels (forward/backward) and modules
- ``dlcore.gradcheck`` finite-difference gradient checking
- ``dlcore.data``      offline datasets (generated, or bundled with scikit-learn)
- ``dlcore.models``    PyTorch models by family (LeNet to ResNet, seq2seq, autoencoders, GANs)
- ``dlcore.training``  the training loop for scratch and PyTorch models, its history and events
- ``dlcore.practice``  augmentation, transfer, search, pruning, quantization, distillation, DDP
- ``dlcore.rl``        environments from their equations; value-based and policy-gradient learning
- ``dlcore.articles``  the source articles' code examples, reproduced and corrected
- ``dlcore.plots``     the course's figure style and plotting helpers
- ``dlcore.widgets``   the interactive explorers used in the chapters
- ``dlcore.exercises`` the checks that run under each exercise
- ``dlcore.tools``     course tooling: student notebooks, outputs, benchmarks
"""

from dlcore.errors import ShapeError
from dlcore.seeding import seed_everything

__all__ = ["ShapeError", "seed_everything", "__version__"]
__version__ = "0.1.0"
