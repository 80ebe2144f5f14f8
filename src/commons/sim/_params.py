"""Broadcasting of model parameters over replicates and organisations.

Any scalar parameter of a model component may instead be an array of shape (R,), one value per
replicate, so that a whole sweep runs as one batch; per-organisation parameters may be scalars,
arrays of shape (N,) or (R, N), or a distribution (:class:`Uniform`) sampled per replicate from
the set-up stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validation import as_real, check_array

__all__ = ["Uniform", "as_rounds", "org_mask", "per_org", "per_replicate", "rounds_array"]


@dataclass(frozen=True)
class Uniform:
    """A per-organisation value drawn uniformly from [low, high) for each replicate.

    Given for a per-organisation parameter (e.g. ``PrivateConcave(productivity=Uniform(0.5,
    1.5), ...)``), it is sampled once per run from the plug-in's set-up stream, so each
    replicate has its own draw and the same seed gives the same values.

    Attributes
    ----------
    low, high : float
        The interval, high >= low.
    """

    low: float
    high: float

    def __post_init__(self) -> None:
        lo = as_real("Uniform.low", self.low)
        hi = as_real("Uniform.high", self.high)
        if hi < lo:
            raise ValueError(f"Uniform.high must be >= Uniform.low, got [{lo}, {hi}]")

    def sample(self, u: np.ndarray) -> np.ndarray:
        """Map uniforms in (0, 1) to [low, high): low + (high - low) u.

        Parameters
        ----------
        u : ndarray
            Uniforms in (0, 1), any shape.

        Returns
        -------
        ndarray
            The values, same shape.
        """
        return self.low + (self.high - self.low) * u


def per_replicate(name: str, value: Any, R: int, **bounds) -> np.ndarray:
    """``value`` as a float array of shape (R,): a scalar is repeated, an (R,) array checked.

    Plug-ins call it in ``bind`` so that any scalar parameter may be swept over replicates in
    one batch.

    Parameters
    ----------
    name : str
        The parameter's name, for error messages.
    value : float or array_like of shape (R,)
        The value.
    R : int
        Number of replicates.
    **bounds
        ``low``, ``high``, ``low_open``, ``high_open``: the range accepted (closed unless
        open is asked for).

    Returns
    -------
    ndarray, shape (R,)
        The value per replicate.

    Raises
    ------
    ValueError
        A wrong shape, or a value outside the range (naming ``name``).
    """
    if np.ndim(value) == 0:
        return np.full(R, as_real(name, value, **bounds))
    arr = np.asarray(value, dtype=np.float64)
    if arr.shape != (R,):
        raise ValueError(f"{name} must be a scalar or an array of shape (replicates,) = ({R},), "
                         f"got shape {arr.shape}")
    return np.array(check_array(name, arr, **bounds))


def per_org(name: str, value: Any, R: int, N: int, *, uniforms: np.ndarray | None = None,
            **bounds) -> np.ndarray:
    """``value`` as a float array of shape (R, N).

    Accepts a scalar, an (N,) array (same for every replicate), an (R, N) array, or a
    :class:`Uniform`, sampled with ``uniforms`` of shape (R, N).

    Parameters
    ----------
    name : str
        The parameter's name, for error messages.
    value : float, array_like of shape (N,) or (R, N), or Uniform
        The value.
    R, N : int
        Replicates and organisations.
    uniforms : ndarray, shape (R, N), optional
        Set-up uniforms in (0, 1) to sample a :class:`Uniform` with.
    **bounds
        ``low``, ``high``, ``low_open``, ``high_open``: the range accepted (closed unless
        open is asked for).

    Returns
    -------
    ndarray, shape (R, N)
        The value per replicate and organisation.

    Raises
    ------
    ValueError
        A wrong shape, or a value outside the range (naming ``name``).
    """
    if isinstance(value, Uniform):
        if uniforms is None:  # pragma: no cover - engine always supplies set-up uniforms
            raise ValueError(f"{name}: a distribution needs set-up random numbers")
        out = value.sample(uniforms)
        return np.array(check_array(name, out, **bounds))
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim == 0:
        return np.full((R, N), as_real(name, value, **bounds))
    if arr.shape == (N,):
        arr = np.broadcast_to(arr, (R, N))
    elif arr.shape != (R, N):
        raise ValueError(f"{name} must be a scalar, an array of shape (n,) = ({N},) or "
                         f"(replicates, n) = ({R}, {N}), got shape {arr.shape}")
    return np.array(check_array(name, arr, **bounds))


def org_mask(name: str, orgs: Any, N: int, *, default: bool) -> np.ndarray:
    """A boolean mask of length N from indices or a mask (None: all ``default``)."""
    if orgs is None:
        return np.full(N, default)
    arr = np.asarray(orgs)
    if arr.dtype == bool:
        if arr.shape != (N,):
            raise ValueError(f"{name} must be a boolean mask of length n = {N} or indices, "
                             f"got shape {arr.shape}")
        return arr.copy()
    idx = arr.astype(np.int64).ravel()
    if idx.size and (idx.min() < 0 or idx.max() >= N):
        raise ValueError(f"{name} must hold organisation indices in [0, {N})")
    mask = np.zeros(N, bool)
    mask[idx] = True
    return mask


def as_rounds(name: str, value: Any) -> list[int] | None:
    """A collection of round numbers (ints >= 0), or None (every round)."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or np.ndim(value) == 0:
        raise TypeError(f"{name} must be None (every round) or a collection of round numbers "
                        f">= 0, e.g. [0] or range(0, 100, 10); got {value!r}")
    from .._validation import check_integer
    return sorted({check_integer(name, r, low=0) for r in np.asarray(value).tolist()})


def rounds_array(rounds: list[int] | None) -> np.ndarray:
    """Round numbers for compiled code: a sorted int array, or [-1] for every round (None)."""
    if rounds is None:
        return np.array([-1], np.int64)
    return np.asarray(sorted(rounds), np.int64)
