"""A replicate shared among threads by organisations: same bits, errors, Ctrl-C, the barrier."""

import signal
import threading

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import commons
from commons.sim import compiled_run
from commons.sim._jit import jitable
from commons.sim._steps import RB, blocks
from commons.sim._sync import barrier, slots, take
from commons.sim.plugin import compiled

numba = pytest.importorskip("numba")


def _run(model, T, R, monkeypatch, n_threads, *, orgs_min=1, **kw):
    """A run on ``n_threads`` threads, sharing replicates among them by organisations when
    there are fewer replicates than threads (and blocks enough)."""
    monkeypatch.setattr(compiled_run, "threads", lambda: n_threads)
    monkeypatch.setattr(compiled_run, "ORGS_MIN", orgs_min)
    return model.run(T, R, rng=7, record="full", **kw)


def _same(a, b):
    assert a.provenance["engine"] == b.provenance["engine"] == "numba"
    for name, values in a.full.items():
        np.testing.assert_array_equal(values, b.full[name], err_msg=name)
    for name, values in a.series.items():
        np.testing.assert_array_equal(values, b.series[name], err_msg=name)
    for name, values in a.metrics.items():
        np.testing.assert_array_equal(values, b.metrics[name], err_msg=name)


@given(N=st.integers(2 * RB, 5 * RB + 17), n_threads=st.integers(2, 4), R=st.integers(1, 2))
@settings(max_examples=6)
@example(N=2 * RB, n_threads=4, R=1)  # more threads than blocks: two blocks only
@example(N=3 * RB - 1, n_threads=3, R=2)  # a short last block
@pytest.mark.fused
def test_cpr_v1_split_by_organisations_gives_the_bits_of_one_thread(N, n_threads, R):
    assume(R < n_threads)
    model = commons.scenarios.benchmark_cpr_v1(N)
    with pytest.MonkeyPatch.context() as mp:
        one = _run(model, 12, R, mp, 1)
        split = _run(model, 12, R, mp, n_threads)
        assert compiled_run.org_blocks(R, N, n_threads) > 1
    _same(one, split)


def _talk(n):
    game = commons.CPRGame(n, commons.Quadratic(23.0, 0.25), 5.0, 25.0)
    share = float(commons.social_optimum(game).draws[0])
    return commons.Model(n, technology=commons.StageGame(game),
                         network=commons.scenarios.cpr_v1_graph(n),
                         quota=commons.FixedQuota(share), rule=commons.BestResponse(0.3, noise=0.5),
                         mechanisms=[commons.Meetings(0.1, 0.5), commons.Covenant(),
                                     commons.Gossip(see=0.5, tell=0.5)],
                         monitoring=commons.CentralAudit(0.5),
                         sanctions=[commons.GraduatedSanction((0.0, 10.0, 20.0), forgive_after=2)])


@pytest.mark.parametrize("make", [
    lambda: commons.scenarios.ostrom_commons(places=3, per_place=200),
    lambda: _talk(700),
    # noisy peer monitoring: each thread lists the inspections in the quantile's tails for
    # its own chunk of organisations
    lambda: commons.scenarios.benchmark_cpr_v1(700).replace(
        monitoring=commons.PeerMonitoring(0.1, 0.4, noise=0.3)),
    # fines paid to the members: each thread marks whether its blocks pay them, then every
    # thread sums what is paid, in organisation order, and shares it out to its chunks
    lambda: commons.scenarios.benchmark_cpr_v1(700).replace(
        sanctions=[commons.QuotaFine(3.0, recipient="members")]),
], ids=["ostrom", "talk", "noisy-monitoring", "fines-to-members"])
@pytest.mark.fused
def test_models_with_forms_that_run_in_one_thread_split_with_the_same_bits(make, monkeypatch):
    # acts without an organisation range (meetings, gossip, audits, the stock) run in thread
    # 0 while the others wait; the rest split
    model = make()
    one = _run(model, 15, 1, monkeypatch, 1)
    split = _run(model, 15, 1, monkeypatch, 3)
    _same(one, split)


def _in_thread(fn, timeout):
    """fn() in a thread; what it raised, or a failure if it still runs after ``timeout`` s."""
    out = {}

    def target():
        try:
            fn()
        except BaseException as exc:  # handed to the test
            out["exc"] = exc
    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(timeout)
    assert not worker.is_alive(), "the run hangs at a barrier"
    return out.get("exc")


class SplitPoison(commons.BestResponse):
    """Next draws of NaN for the last organisation in round 3 (a thread other than the first
    meets it)."""

    def learn(self, st, ctx):
        super().learn(st, ctx)
        if st.t == 3:
            st.next_draws[:, -1] = np.nan


@compiled(SplitPoison, "learn", orgs=True)
@jitable
def _split_poison(r, t, S, P, M, rng, net, TP, i0, i1):
    N = S.draws.shape[1]
    for i in range(i0, i1):
        S.next_draws[r, i] = np.nan if (t == 3 and i == N - 1) else S.draws[r, i]


class SplitNegative(commons.BestResponse):
    """A negative draw for the last organisation in round 4's decide phase (checked in the
    loop that then clips the draws, by the thread whose chunk holds it)."""

    def decide(self, st, ctx):
        super().decide(st, ctx)
        if st.t == 4:
            st.draws[:, -1] = -1.0


@compiled(SplitNegative, "decide", orgs=True)
@jitable
def _split_negative(r, t, S, P, M, rng, net, TP, i0, i1):
    N = S.draws.shape[1]
    for i in range(i0, i1):
        S.draws[r, i] = -1.0 if (t == 4 and i == N - 1) else S.next_draws[r, i]


class Boom(commons.BestResponse):
    def learn(self, st, ctx):
        raise ValueError("boom")


@compiled(Boom, "learn", orgs=True)
@jitable
def _boom(r, t, S, P, M, rng, net, TP, i0, i1):
    if t == 2 and i0 > 0:
        raise ValueError("boom")
    for i in range(i0, i1):
        S.next_draws[r, i] = S.draws[r, i]


@pytest.mark.fused
def test_a_nan_met_by_another_thread_is_named_with_its_phase_and_round(monkeypatch):
    # the thread that finds it flags the barrier it comes to; every thread leaves the
    # replicate after that barrier (a first version let a thread late to its check see a
    # flag meant for the next barrier, leave, and keep the other waiting for ever: 40 runs
    # hung within a few)
    model = commons.scenarios.benchmark_cpr_v1(3 * RB).replace(rule=SplitPoison(0.5))
    assert getattr(_split_poison, "orgwise", False)
    for _ in range(40):
        exc = _in_thread(lambda: _run(model, 10, 1, monkeypatch, 2), 120)
        assert isinstance(exc, commons.PluginError)
        assert "SplitPoison produced non-finite draws in the learn phase of round 3" in str(exc)


@pytest.mark.fused
def test_a_negative_draw_met_by_another_thread_is_named_with_its_phase_and_round(monkeypatch):
    model = commons.scenarios.benchmark_cpr_v1(3 * RB).replace(rule=SplitNegative(0.5))
    for _ in range(10):
        exc = _in_thread(lambda: _run(model, 10, 1, monkeypatch, 2), 120)
        assert isinstance(exc, commons.PluginError)
        assert "SplitNegative produced negative draws in the decide phase of round 4" in str(exc)


@pytest.mark.fused
def test_an_exception_in_one_thread_stops_the_others_at_their_barrier(monkeypatch):
    # thread 1 raises in round 2; thread 0 would wait for it at the next barrier for ever
    model = commons.scenarios.benchmark_cpr_v1(3 * RB).replace(rule=Boom(0.5))
    monkeypatch.setattr(compiled_run, "threads", lambda: 2)
    monkeypatch.setattr(compiled_run, "ORGS_MIN", 1)
    exc = _in_thread(lambda: model.run(10, 1, rng=0), 120)
    assert isinstance(exc, ValueError)
    assert "boom" in str(exc)


@pytest.mark.fused
def test_ctrl_c_stops_every_thread_of_a_split_run(monkeypatch):
    model = commons.scenarios.benchmark_cpr_v1(4 * RB)
    monkeypatch.setattr(compiled_run, "threads", lambda: 2)
    monkeypatch.setattr(compiled_run, "ORGS_MIN", 1)
    model.run(2, 1, rng=0)  # compiled
    calls = []
    real = compiled_run.run_orgs

    def spy(fn, nb, *args):
        def counted(*a):
            calls.append(a[4])  # t0 of each call
            if len(calls) == 2 * nb + 1:  # Ctrl-C in the third block of rounds
                signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)
            fn(*a)
        real(counted, nb, *args)

    monkeypatch.setattr(compiled_run, "LAUNCH_WORK", 4 * RB * 5)  # 4 rounds per call
    monkeypatch.setattr(compiled_run, "run_orgs", spy)
    with pytest.raises(KeyboardInterrupt):
        model.run(400, 1, rng=0)
    done = len(calls)
    threading.Event().wait(0.2)
    assert len(calls) == done <= 3 * 2  # no block of rounds starts after the Ctrl-C
    assert not [t for t in threading.enumerate() if t.name.startswith("commons-kernel")]


@given(R=st.integers(1, 64), N=st.integers(1, 10**6), n_threads=st.integers(1, 16),
       orgs_min=st.integers(1, 5000))
@example(R=1, N=RB + 1, n_threads=4, orgs_min=1)  # two blocks for four threads
def test_a_split_gives_each_thread_whole_blocks_and_at_least_one(R, N, n_threads, orgs_min):
    saved = compiled_run.ORGS_MIN
    compiled_run.ORGS_MIN = orgs_min
    try:
        nb = compiled_run.org_blocks(R, N, n_threads)
    finally:
        compiled_run.ORGS_MIN = saved
    if R >= n_threads:
        assert nb == 1
    assert 1 <= nb <= min(n_threads, blocks(N))
    assert nb == 1 or N // nb >= orgs_min
    # the kernel's ranges: thread b takes blocks b K // nb .. (b + 1) K // nb - 1, none empty,
    # together every organisation once
    K = blocks(N)
    starts = [min(N, (b * K // nb) * RB) for b in range(nb + 1)]
    assert starts[0] == 0
    assert starts[nb] == N
    assert all(starts[b] < starts[b + 1] for b in range(nb))


@jitable
def _rounds(sync, seen, b, n, rounds):
    """Each round, thread b writes the round in its slot, meets the others, and copies what
    every thread wrote; at the next barrier the slots may change."""
    ep = 0
    for k in range(1, rounds + 1):
        seen[b, 0] = k  # this thread's write of round k
        ep += 1
        if not barrier(sync, b, n, ep):
            return
        for j in range(n):
            seen[b, 1 + j] = seen[j, 0]
        for j in range(n):
            if seen[b, 1 + j] != k:
                seen[b, 1 + n] += 1  # a write of round k not yet seen
        ep += 1
        if not barrier(sync, b, n, ep):
            return


def test_the_barrier_shows_every_thread_what_the_others_wrote_before_it():
    kernel = numba.njit(nogil=True)(_rounds)
    for n in (2, 3, 5):  # more threads than cores too
        sync = np.zeros(n + 1, np.int64)
        seen = np.zeros((n, n + 2), np.int64)
        kernel(np.zeros(2, np.int64), np.zeros((1, 3), np.int64), 0, 1, 1)  # compiled
        workers = [threading.Thread(target=kernel, args=(sync, seen, b, n, 2000))
                   for b in range(n)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(60)
        assert not any(w.is_alive() for w in workers)
        assert np.all(seen[:, 1 + n] == 0)
        assert np.all(sync[:n] == 4000)


def test_an_aborted_barrier_returns_instead_of_waiting():
    kernel = numba.njit(nogil=True)(lambda sync: barrier(sync, 0, 2, 1))
    sync = np.zeros(3, np.int64)
    sync[2] = 1  # thread 1 never comes; the run was aborted
    assert kernel(sync) is False
    sync = np.array([0, 1, 0])
    assert kernel(sync) is True


@jitable
def _tickets(sync, got, b, n, k, h):
    for j in range(k):
        got[b, j] = take(sync, n, h)


def test_tickets_of_a_shared_counter_go_to_one_thread_each():
    # the chunks of a step are handed out by atomic counters, one per thread's share: under
    # contention every ticket of counter h goes to exactly one thread, and the counters sit
    # past the barrier's slots, each on its own 64-byte cache line (no false sharing)
    kernel = numba.njit(nogil=True)(_tickets)
    n, k = 3, 100_000
    kernel(np.zeros(slots(1), np.int64), np.zeros((1, 1), np.int64), 0, 1, 1, 0)  # compiled
    where = []
    for h in range(n):
        sync = np.zeros(slots(n), np.int64)
        got = np.full((n, k), -1, np.int64)
        workers = [threading.Thread(target=kernel, args=(sync, got, b, n, k, h))
                   for b in range(n)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(60)
        np.testing.assert_array_equal(np.sort(got.ravel()), np.arange(n * k))
        (slot,) = np.flatnonzero(sync)
        assert sync[slot] == n * k
        where.append(int(slot))
    size = np.dtype(np.int64).itemsize  # 64 bytes or more past the last flag (slot n + 2)
    assert (min(where) - (n + 2)) * size >= 64
    assert np.all(np.diff(sorted(where)) * size >= 64)


class RankTrust(commons.ComplianceTrust):
    """Trust on i -> j moves toward 1 when j was granted more than i, through a prepared
    score (2 g + 1) that the form reads for every partner."""

    memory = {"score": ("org", float)}

    def learn(self, st, ctx):
        net = ctx.network
        score = 2.0 * st.granted + 1.0
        up = score[:, net.indices] > score[:, net.src]
        st.trust = 0.5 * st.trust + 0.5 * up


@jitable
def _rank_score(r, t, S, P, M, rng, net, TP, i0, i1):
    (score,) = M
    for i in range(i0, i1):
        score[r, i] = 2.0 * S.granted[r, i] + 1.0


@compiled(RankTrust, "learn", orgs=True, prepare=_rank_score)
@jitable
def _rank_trust(r, t, S, P, M, rng, net, TP, i0, i1):
    (score,) = M
    for i in range(i0, i1):
        for e in range(net.indptr[i], net.indptr[i + 1]):
            up = 1.0 if score[r, net.indices[e]] > score[r, i] else 0.0
            S.trust[r, e] = 0.5 * S.trust[r, e] + 0.5 * up


@pytest.mark.fused
def test_a_prepared_form_reads_every_organisations_preparation(monkeypatch):
    # the form reads the scores of partners that other threads prepare: each thread prepares
    # its organisations, then all meet at a barrier; the numpy form is the oracle
    n = 3 * RB + 5
    model = commons.scenarios.benchmark_cpr_v1(n).replace(trust=RankTrust())
    one = _run(model, 10, 1, monkeypatch, 1)
    split = _run(model, 10, 1, monkeypatch, 3)
    _same(one, split)
    reference = model.run(10, 1, rng=7, record="full", engine="numpy")
    np.testing.assert_array_equal(split.final["trust"], reference.final["trust"])
    np.testing.assert_array_equal(split.full["draws"], reference.full["draws"])


def test_the_kernel_meets_at_a_barrier_between_preparing_and_acting():
    from commons.sim import codegen
    model = commons.scenarios.benchmark_cpr_v1(50)
    forms = codegen.compiled_forms(model)
    k = next(i for i, f in enumerate(forms) if getattr(f, "prepare", None) is not None)
    source = codegen._source(model.acts, forms)
    orgs = source[source.index("def orgs("):]
    between = orgs[orgs.index(f"q{k}("):orgs.index(f"f{k}(")]
    assert "X.barrier(" in between
    whole = source[source.index("def one("):source.index("def orgs(")]
    assert whole.index(f"q{k}(") < whole.index(f"f{k}(")


def test_prepare_needs_a_form_by_organisations():
    with pytest.raises(ValueError, match="prepare= runs per organisation range"):
        compiled(RankTrust, "learn", prepare=_rank_score)


@pytest.mark.fused
def test_the_split_kernel_calls_no_helper_with_a_view_of_the_state(tmp_path):
    # a call that is not inlined passes each array of its arguments word by word on the
    # stack: peer monitoring's per-organisation helper, taking a view of the state, ran
    # three times slower in the kernel that splits a replicate among threads, where the
    # compiler had declined to inline it; no engine step may be called with the whole
    # state, and only helpers called once per act (the noisy inspections of a chunk) with
    # a view
    import os
    import subprocess
    import sys
    import textwrap
    script = textwrap.dedent("""
        import re
        import commons
        from commons.sim import _kernel, compiled_run
        compiled_run.threads = lambda: 2
        compiled_run.ORGS_MIN = 1
        model = commons.scenarios.benchmark_cpr_v1(3 * 256)
        model.run(2, 1, rng=0)
        plan = _kernel.plan_for(model)
        assert plan.orgs_compiled
        asm = "".join(plan.orgs.inspect_asm().values())
        bodies = re.findall(r"^(_ZN\\S+):\\s*$", asm, re.M)
        names = [re.sub(r"B\\d+v\\d+B.*", "", f) for f in bodies
                 if re.search(r"V\\d+_|CState", f)]
        print(" ".join(n for n in names if not n.endswith("4orgs")))  # but the kernel itself
    """)
    env = {**os.environ, "COMMONS_CACHE_DIR": str(tmp_path), "COMMONS_FUSE": "1",
           "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    assert [name for name in out if not name.endswith("_observe_noisy")] == []
