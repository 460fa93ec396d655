"""Every tolerance the tests use, stated once, with the reason for its size."""

# NumPy and PyTorch in float64 computing the same formula differ only by the
# order of floating-point operations: a few ulps, ~1e-15 relative. 1e-10
# leaves room for sums over a few thousand terms and still catches any real
# mistake (which shows up at 1e-3 or worse).
PARITY_RTOL_FLOAT64 = 1e-10
PARITY_ATOL_FLOAT64 = 1e-12

# Gradient checks use dlcore.gradcheck.DEFAULT_TOLERANCE (1e-6 relative error
# at eps = 1e-6 in float64); its reasoning is documented there.
