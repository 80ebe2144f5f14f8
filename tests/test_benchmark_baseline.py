"""The hand-written kernel the engine's speed is measured against runs the engine's model.

``benchmarks/strong_kernel.py`` is CPR-v1 written by hand for speed; a ratio against it means
something only if it computes the same model. Its random numbers differ from the engine's
(its own initial draws and productivities), so the two agree in distribution: the mean over
replicates of the stock and of the mean draw, round by round.
"""

import os
import sys

import numpy as np
import pytest

pytest.importorskip("numba")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks"))

import strong_kernel
from commons.experiments.scenarios import benchmark_cpr_v1, cpr_v1_graph


@pytest.mark.statistical
def test_the_hand_kernel_agrees_with_the_engine_in_distribution(seed):
    # statistic: each difference of two independent means over R replicates, within 5 of its
    # standard errors (six comparisons: a false alarm below 1e-5)
    R, T = 300, 60
    res = benchmark_cpr_v1(100).run(T, R, rng=seed)
    hand_x, hand_s = strong_kernel.run_strong_numba(cpr_v1_graph(100), R, T, seed + 1)
    for t in (5, 20, T - 1):
        for ours, theirs in ((res.series["stock"][:, t], hand_s[:, t]),
                             (res.series["mean_draw"][:, t], hand_x[:, t])):
            se = np.hypot(ours.std(ddof=1), theirs.std(ddof=1)) / np.sqrt(R)
            assert abs(ours.mean() - theirs.mean()) < 5 * se + 1e-9
