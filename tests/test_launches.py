"""How a fused run is cut into kernel launches, and which error a run reports."""

import itertools

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import commons
from commons.sim.compiled_run import LAUNCH_WORK, _raise_error, block_rounds, launches, pieces


@given(R=st.integers(1, 3000), N=st.integers(1, 200_000), E=st.integers(0, 400_000),
       T=st.integers(1, 500), n_threads=st.integers(1, 8))
@example(R=5, N=10, E=0, T=10, n_threads=4)  # chunks of ceil(5 / 4) = 2 gave 3 pieces
def test_launches_cover_every_replicate_round_once_and_in_order(R, N, E, T, n_threads):
    plan = launches(R, N, E, T, n_threads)
    seen = np.zeros((R, T), np.int64)
    last = np.full(R, -1)
    for r0, r1, t0, t1 in plan:
        assert 0 <= r0 < r1 <= R
        assert 0 <= t0 < t1 <= T
        # each replicate's rounds come in order: a call starts where its last one ended
        assert np.all(last[r0:r1] == t0 - 1)
        last[r0:r1] = t1 - 1
        seen[r0:r1, t0:t1] += 1
        # a call is about a quarter of LAUNCH_WORK updates, or one round of one replicate
        # when a single round is more
        work = (r1 - r0) * (N + E) * (t1 - t0)
        assert work <= max(LAUNCH_WORK // 4, N + E)
    assert np.all(seen == 1)
    # every thread gets a piece when there are replicates enough
    assert len(pieces(R, N, E, T, n_threads)) >= min(R, n_threads)


@given(R=st.integers(1, 3000), N=st.integers(1, 1000), E=st.integers(0, 20_000),
       T=st.integers(1, 300), n_threads=st.integers(1, 8))
@example(R=1000, N=100, E=1910, T=200, n_threads=2)  # the Ostrom commons: 500 chunks
def test_pieces_keep_the_threads_replicates_apart(R, N, E, T, n_threads):
    # pieces that come one after the other (which free threads take at about the same time)
    # are about len / n_threads chunks apart in replicate order, not neighbours
    plan = pieces(R, N, E, T, n_threads)
    rank = {r0: k for k, r0 in enumerate(sorted(r0 for r0, _, _ in plan))}
    assert len(rank) == len(plan)
    gap = max(1, -(-len(plan) // n_threads) - 1) if n_threads > 1 else 1
    for a, b in itertools.pairwise(plan):
        assert abs(rank[a[0]] - rank[b[0]]) >= gap


def test_pieces_keep_whole_runs_together_when_they_fit():
    # R = 1000, N = 100, 400 edges, T = 200: chunks of replicates through all 200 rounds,
    # many more than the threads (the free thread takes the next)
    plan = pieces(1000, 100, 400, 200, 2)
    assert all(tb == 200 for _, _, tb in plan)
    assert sum(r1 - r0 for r0, r1, _ in plan) == 1000
    assert len(plan) >= 50


@pytest.mark.fused
def test_run_pieces_gives_the_same_bits_on_one_thread_and_on_two():
    numba = pytest.importorskip("numba")
    model = commons.scenarios.benchmark_cpr_v1(30)
    saved = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = model.run(40, 24, rng=5, record="full")
        numba.set_num_threads(2)
        two = model.run(40, 24, rng=5, record="full")
    finally:
        numba.set_num_threads(saved)
    assert one.provenance["engine"] == two.provenance["engine"] == "numba"
    for name, values in one.full.items():
        np.testing.assert_array_equal(values, two.full[name], err_msg=name)


def _ctrl_c_on_call(k, pause):
    """A kernel stand-in that records its calls and, at the k-th, delivers SIGINT to the
    main thread (which handles it); each call takes ``pause`` seconds."""
    import signal
    import threading
    main = threading.main_thread().ident
    calls = []
    lock = threading.Lock()

    def fn(*args):
        with lock:
            calls.append(args)
            if len(calls) == k:
                signal.pthread_kill(main, signal.SIGINT)
        threading.Event().wait(pause)
    return fn, calls


def _no_call_after(calls):
    """How many calls ran, once none has started for a while after the Ctrl-C."""
    import threading
    done = len(calls)
    threading.Event().wait(0.3)
    assert len(calls) == done
    return done


def test_ctrl_c_drops_the_pieces_not_started(monkeypatch):
    # a Ctrl-C while the threads run: the call raises KeyboardInterrupt, the pieces not yet
    # started never run, and no call starts after it returns
    from commons.sim import compiled_run

    monkeypatch.setattr(compiled_run, "threads", lambda: 2)
    fn, calls = _ctrl_c_on_call(3, 0.02)
    R, N, E, T = 400, 1000, 0, 50
    total = len(launches(R, N, E, T, 2))
    with pytest.raises(KeyboardInterrupt):
        compiled_run.run_pieces(fn, R, N, E, T)
    assert _no_call_after(calls) < total


def test_ctrl_c_drops_the_ranges_of_an_act_not_started(monkeypatch):
    # an act run by replicate ranges beside numpy plug-ins: after a Ctrl-C no range starts
    # (the interrupt comes at the third call, when every range is queued and the caller
    # waits on them)
    from commons.sim import compiled_run

    monkeypatch.setattr(compiled_run, "threads", lambda: 2)
    fn, calls = _ctrl_c_on_call(3, 0.05)
    with pytest.raises(KeyboardInterrupt):
        compiled_run.in_threads(fn, 400)
    assert _no_call_after(calls) < 8  # 8 ranges of 50 replicates for two threads


class _Model:
    def __init__(self, acts):
        self.acts = acts


class _Act:
    def __init__(self, phase):
        self.phase = phase
        self.plugin = self


@pytest.mark.parametrize(("errors", "expected"), [
    # replicate -> (act + 1, round, what is wrong: 1 not finite, 2 negative); blocks of 10
    # rounds
    ({5: (2, 12, 1), 3: (2, 18, 2)}, "negative draws .* round 18"),  # the same block: the
    ({5: (2, 12, 2), 3: (2, 25, 1)}, "negative draws .* round 12"),  # lower replicate's; an
    ({5: (2, 21, 2), 3: (2, 29, 1)}, "non-finite draws .* round 29"),  # earlier block wins
])
def test_the_error_reported_is_the_first_replicate_of_the_earliest_block(errors, expected):
    err = np.zeros((8, 3), np.int64)
    for r, (k, t, fault) in errors.items():
        err[r] = (k, t, fault)
    model = _Model([_Act("communicate"), _Act("decide")])
    with pytest.raises(commons.PluginError, match=expected):
        _raise_error(model, err, 10)


def test_block_rounds_is_the_work_of_all_replicates_together():
    assert block_rounds(1000, 100, 400, 200) == LAUNCH_WORK // (1000 * 500)
    assert block_rounds(1, 10, 0, 5) == 5
