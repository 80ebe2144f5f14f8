"""Input checks shared by the public face.

Every check raises a :class:`ValueError` (or :class:`TypeError`) whose message names the
parameter, the value received and what is allowed, so that a mistake is found at the edge
of the library and never surfaces later as a NaN or a hang.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = [
    "as_real",
    "check_array",
    "check_integer",
    "check_probability",
]


def _describe(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def as_real(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Return ``value`` as a finite float inside the given interval, or raise.

    Parameters
    ----------
    name : str
        Parameter name used in the error message.
    value : Any
        The value to check. Booleans are refused.
    low, high : float, optional
        Bounds of the allowed interval (``None`` for unbounded).
    low_open, high_open : bool
        Whether the corresponding bound is excluded.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{name} must be a real number, got {_describe(value)}")
        else:
            raise TypeError(f"{name} must be a real number, got {_describe(value)}")
    x = float(value)
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, got {x!r}")
    _check_interval(name, x, low, high, low_open, high_open)
    return x


def _interval_text(low, high, low_open, high_open) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    return f"{'<' if high_open else '<='} {high:g}"


def _check_interval(name, x, low, high, low_open, high_open) -> None:
    bad_low = low is not None and (x <= low if low_open else x < low)
    bad_high = high is not None and (x >= high if high_open else x > high)
    if bad_low or bad_high:
        raise ValueError(
            f"{name} must be {_interval_text(low, high, low_open, high_open)}, got {x!r}"
        )


def check_probability(name: str, value: Any) -> float:
    """Return ``value`` as a float in [0, 1], or raise naming ``name``."""
    return as_real(name, value, low=0.0, high=1.0)


def check_integer(name: str, value: Any, *, low: int | None = None) -> int:
    """Return ``value`` as an int (at least ``low``), or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    v = int(value)
    if low is not None and v < low:
        raise ValueError(f"{name} must be >= {low}, got {v}")
    return v


def check_array(
    name: str,
    value: Any,
    *,
    shape: tuple[int, ...] | None = None,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> np.ndarray:
    """Return ``value`` as a float64 array, finite and inside an interval, or raise.

    A scalar is broadcast to ``shape`` when a shape is given; an array must have exactly
    that shape.
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a real number or an array of them, got "
                        f"{_describe(value)}") from exc
    if shape is not None:
        if arr.ndim == 0:
            arr = np.broadcast_to(arr, shape)
        elif arr.shape != tuple(shape):
            raise ValueError(f"{name} must be a scalar or have shape {tuple(shape)}, "
                             f"got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        bad = arr[~np.isfinite(arr)].flat[0]
        raise ValueError(f"{name} must be finite, found {bad!r}")
    if arr.size and (low is not None or high is not None):
        lo_v, hi_v = float(arr.min()), float(arr.max())
        _check_interval(name, lo_v, low, None, low_open, False)
        _check_interval(name, hi_v, None, high, False, high_open)
    out = np.array(arr, dtype=np.float64)  # own, writeable copy
    out.setflags(write=False)
    return out
