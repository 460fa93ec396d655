"""Answers a student might write for chapter 01 (tests/test_build_exercises.py runs the student notebook on them)."""

RIGHT = {
    "1.1": '''
def polynomial_features(t, degree):
    return np.stack([t**j for j in range(degree + 1)], axis=1)
''',
    "1.3": '''
def ridge_gradient(w, phi, y, l2):
    unpenalised = np.zeros_like(w)
    unpenalised[1:] = w[1:]
    return (2.0 / phi.shape[0]) * phi.T.dot(phi.dot(w) - y) + 2.0 * l2 * unpenalised
''',
    "1.4": '''
def fit_polynomial(x, y, degree, l2=0.0):
    phi = polynomial_features(2 * x - 1, degree)
    weights = np.ones(degree + 1)
    weights[0] = 0.0  # no penalty on the intercept
    A = np.concatenate([phi, np.diag(np.sqrt(len(x) * l2) * weights)])
    b = np.concatenate([y, np.zeros(degree + 1)])
    return np.linalg.lstsq(A, b, rcond=None)[0]
''',
    "1.7": '''
def cross_validate(x, y, degrees, l2_values, k, fit):
    folds = [np.arange(len(x))[i::k] for i in range(k)]
    errors = np.empty((len(degrees), len(l2_values)))
    for a in range(len(degrees)):
        for b in range(len(l2_values)):
            total = 0.0
            for fold in folds:
                keep = np.ones(len(x), dtype=bool)
                keep[fold] = False
                w = fit(x[keep], y[keep], degrees[a], l2_values[b])
                residual = polynomial_features(2 * x[fold] - 1, degrees[a]) @ w - y[fold]
                total += np.mean(residual**2)
            errors[a, b] = total / k
    a, b = divmod(int(np.argmin(errors)), len(l2_values))
    return errors, degrees[a], l2_values[b], fit(x, y, degrees[a], l2_values[b])
''',
}

WRONG = {
    "1.6": '''
def bias_variance(predictions, truth):
    mean_prediction = predictions.mean(axis=0)
    bias2 = np.mean((mean_prediction - truth) ** 2)
    variance = np.mean(predictions.var(axis=0, ddof=1))  # the sample variance: divides by R - 1
    return bias2, variance
''',
}

USES = {"1.3": "ridge_gradient", "1.4": "fit_polynomial", "1.6": "bias_variance", "1.7": "cross_validate"}
