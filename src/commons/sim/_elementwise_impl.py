"""numba ufuncs behind :mod:`commons._elementwise` (imported only when numba is installed)."""

import math

import numba as nb


@nb.vectorize(["float64(float64, float64)"], cache=True)
def power(x, y):
    return math.pow(x, y)


@nb.vectorize(["float64(float64)"], cache=True)
def log(x):
    return math.log(x)


@nb.vectorize(["float64(float64)"], cache=True)
def cos(x):
    return math.cos(x)
