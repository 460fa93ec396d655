"""Test-session set-up: no network, no GUI, the repository on the path.

Network: every address but loopback is blocked, in the test process and in
every Python process it starts (Jupyter kernels included), by
tests/_netguard/sitecustomize.py; tests/test_network_block.py proves it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GUARD = ROOT / "tests" / "_netguard"

os.environ["DLCORE_BLOCK_NETWORK"] = "1"
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(GUARD), str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
)
# (No MPLBACKEND here: Jupyter kernels inherit this environment, and under
# Agg the notebooks' plt.show() would display nothing. Headless, matplotlib
# picks Agg by itself in this process.)
# Kernels and subprocesses must not pick up a user's IPython profile.
os.environ.setdefault("IPYTHONDIR", str(ROOT / ".venv" / "ipython"))

sys.path.insert(0, str(GUARD))
import sitecustomize as _netguard  # noqa: E402  (this folder's, by the path set just above)

_netguard.install()

# The property suite (tests/test_properties_*.py): "default" draws a few derandomised examples per test,
# so `make test` is fast and gives the same verdict on every run; "long" (`make test-properties`) draws
# many random ones. Neither writes an example database into the repository.
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "default", max_examples=15, derandomize=True, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("long", max_examples=400, deadline=None, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _fresh_kernel_state():
    """Each test starts as a fresh kernel does: no learner function accepted by an earlier test's check."""
    from dlcore.exercises.learner import forget_accepted

    forget_accepted()
    yield
    forget_accepted()


@pytest.fixture(scope="module")
def one_torch_thread():
    """torch on one thread for a test module, as the notebooks run (seed_everything(threads=1)): tiny networks
    run fastest that way, and on a busy machine two spinning threads crawl. Use with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def one_blas_thread():
    """NumPy's BLAS on one thread for a test module: small matrices run faster so, as in the notebooks."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture
def rng():
    """A fresh generator per test, so tests do not depend on their order."""
    import numpy as np

    return np.random.default_rng(1234)
