"""Hypothesis strategies for property tests of CPR games (needs the ``test`` extra).

Import them in your own tests::

    from hypothesis import given
    from commons.testing import games

    @given(games(max_n=50))
    def test_my_property(game): ...

Games are drawn so that the interesting cases occur often: productions from every built-in
family, outside returns below the marginal product at zero (so the commons is worth drawing
from), and endowments scaled to the symmetric Nash draw so that some caps bind and some do not.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from ..exact.game import CPRGame
from ..exact.production import Exponential, Power, Production, Quadratic

__all__ = ["endowments", "games", "productions"]


def _pos(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def productions() -> st.SearchStrategy[Production]:
    """Concave productions from the built-in families with moderate parameters.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        Quadratic (a in [1, 100], b in [0.01, 10]), Power (A in [0.1, 10], alpha in
        [0.1, 0.9]) or Exponential (A in [0.5, 50], k in [0.01, 5]) productions.
    """
    return st.one_of(
        st.builds(Quadratic, a=_pos(1.0, 100.0), b=_pos(0.01, 10.0)),
        st.builds(Power, A=_pos(0.1, 10.0), alpha=_pos(0.1, 0.9)),
        st.builds(Exponential, A=_pos(0.5, 50.0), k=_pos(0.01, 5.0)),
    )


@st.composite
def endowments(draw, n: int, scale: float = 1.0) -> np.ndarray:
    """Endowment vectors of length n around ``scale``.

    One of: all equal (a symmetric game); independent draws from scale * [0.05, 3] (generated
    from a drawn seed, so large n stays cheap); or a few small ones that bind among large ones.

    Parameters
    ----------
    n : int
        Length of the vectors.
    scale : float
        Their typical size.

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        Arrays of shape (n,) with entries > 0.
    """
    kind = draw(st.sampled_from(["equal", "spread", "few-small"]))
    if kind == "equal":
        return np.full(n, scale * draw(_pos(0.05, 3.0)))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if kind == "spread":
        return scale * rng.uniform(0.05, 3.0, n)
    e = np.full(n, 3.0 * scale)
    k = draw(st.integers(0, n))
    e[:k] = scale * rng.uniform(0.01, 0.5, k)
    return e


@st.composite
def games(draw, min_n: int = 1, max_n: int = 200,
          production: st.SearchStrategy[Production] | None = None) -> CPRGame:
    """CPR games with n in [min_n, max_n] and endowments that sometimes bind.

    The outside return is 0 or a fraction in [0.01, 0.95] of the marginal product at zero (or a
    positive value for productions with infinite F'(0)); endowments are scaled to the
    symmetric Nash draw of an uncapped game, approximately X0 / (n + 1).

    Parameters
    ----------
    min_n, max_n : int
        Bounds of the number of organisations.
    production : SearchStrategy, optional
        Where productions come from (default :func:`productions`).

    Returns
    -------
    hypothesis.strategies.SearchStrategy
        :class:`commons.CPRGame` instances.
    """
    F = draw(production if production is not None else productions())
    n = draw(st.integers(min_n, max_n))
    f0 = float(F.derivative(0.0))
    w = f0 * draw(st.just(0.0) | _pos(0.01, 0.95)) if np.isfinite(f0) else draw(_pos(0.05, 5.0))
    x0 = F.average_level(w)
    scale = x0 / (n + 1) if np.isfinite(x0) and x0 > 0 else 1.0
    return CPRGame(n, F, w, draw(endowments(n, scale)))
