"""The compiled path: every compiled form gives its numpy form's results, fused kernels give
the act-by-act results, and compiled runs keep the engine's guarantees."""

import functools
import os
import random
import subprocess
import sys
import textwrap

import networkx as nx
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import commons
from commons.sim import _kernel
from commons.sim._jit import jitable
from commons.sim.compiled_run import CompileError
from commons.sim.plugin import compiled

N = 12
GRAPH = nx.connected_watts_strogatz_graph(N, 4, 0.3, seed=3)


def compose(resource, quota, monitoring, fine, rule, growth=0.0, shock=0.0):
    res = {"logistic": lambda: commons.LogisticStock(10.0 * N, 0.3, shock_prob=shock,
                                                     shock_size=0.3, collapse_below=0.05),
           "budget": lambda: commons.CareBudget(0.9 * N, growth=0.01, carry_over=0.3),
           "none": lambda: commons.NoStock()}[resource]()
    q = {"share": lambda: commons.StockShareQuota(0.05), "fixed": lambda: commons.FixedQuota(0.7),
         "none": lambda: None}[quota]()
    mon = {"peer": lambda: commons.PeerMonitoring(0.2, 0.5, noise=0.1, cost=0.05),
           "trust": lambda: commons.PeerMonitoring(0.2, 0.5, by="trust"),
           "count": lambda: commons.PeerMonitoring(0.1, 0.5, by="count"),
           "audit": lambda: commons.CentralAudit(0.4, cost=0.1, noise=0.05),
           "none": lambda: None}[monitoring]()
    sanctions = ([commons.QuotaFine(fine, recipient="members" if fine > 5 else "regulator")]
                 if mon is not None else [])
    r = {"mix": lambda: commons.ReviseOrImitate(0.3, 0.2, 5.0),
         "mix0": lambda: commons.ReviseOrImitate(0.3, 0.0, 5.0),
         "br": lambda: commons.BestResponse(0.5, noise=0.2),
         "br0": lambda: commons.BestResponse(0.5, noise=0.0),
         "imitate": lambda: commons.Imitation(5.0),
         "fixed": lambda: commons.FixedDraw(commons.Uniform(0.2, 1.5))}[rule]()
    return commons.Model(
        N, network=GRAPH, resource=res,
        technology=commons.PrivateConcave(commons.Uniform(0.5, 1.5), 0.5, 0.5,
                                          need_growth=growth),
        quota=q, monitoring=mon, sanctions=sanctions, rule=r, max_draw=2.0)


compositions = st.builds(
    compose, st.sampled_from(["logistic", "budget", "none"]),
    st.sampled_from(["share", "fixed", "none"]),
    st.sampled_from(["peer", "trust", "count", "audit", "none"]), st.floats(0.0, 10.0),
    st.sampled_from(["mix", "mix0", "br", "br0", "imitate", "fixed"]),
    st.sampled_from([0.0, 0.02]),
    st.sampled_from([0.0, 0.3]))


@settings(max_examples=30)
@given(compositions, st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_compiled_forms_give_the_numpy_forms_bits(model, R, seed):
    # the compiled forms draw the same numbers and do the same arithmetic in the same order
    compiled_run = model.run(25, R, rng=seed, record="full")
    reference = model.run(25, R, rng=seed, record="full", engine="numpy")
    assert compiled_run.provenance["engine"] in ("mixed", "numba")
    for k in reference.full:
        np.testing.assert_array_equal(compiled_run.full[k], reference.full[k], err_msg=k)
    for k in reference.series:  # recorded sums may be added in another order
        np.testing.assert_allclose(compiled_run.series[k], reference.series[k], rtol=1e-12,
                                   atol=1e-12, err_msg=k)
    for k in ("collapsed", "tragedy"):
        np.testing.assert_array_equal(compiled_run.metrics[k], reference.metrics[k])


def _with_isolated(isolated: list[int], seed: int) -> nx.Graph:
    """N organisations: those in ``isolated`` without a partner, the others on a ring with
    shortcuts (so the edges' CSR rows have gaps, and an isolated last organisation's offset
    is the number of edges)."""
    others = [i for i in range(N) if i not in isolated]
    g = nx.empty_graph(N)
    if len(others) >= 3:
        ring = nx.connected_watts_strogatz_graph(len(others), 2, 0.5, seed=seed)
        g.add_edges_from((others[a], others[b]) for a, b in ring.edges)
    return g


@settings(max_examples=12, deadline=None)
@given(st.lists(st.integers(0, N - 1), max_size=N, unique=True), st.integers(0, 2**32 - 1),
       st.sampled_from(["imitate", "mix"]))
@example(isolated=[0, 5, N - 1], seed=0, rule="imitate")  # first, middle and last alone
@example(isolated=list(range(N)), seed=1, rule="mix")  # no edge at all
def test_imitation_with_organisations_alone_gives_the_numpy_bits(isolated, seed, rule):
    # the compiled imitation picks an edge for everyone without a jump, one without partners
    # included (whose draw is kept): its pick must stay within the edges, and its draw kept
    model = compose("logistic", "share", "none", 0.0, rule).replace(
        network=_with_isolated(isolated, seed))
    compiled_run = model.run(20, 3, rng=seed, record="full")
    reference = model.run(20, 3, rng=seed, record="full", engine="numpy")
    assert compiled_run.provenance["engine"] in ("mixed", "numba")
    for k in reference.full:
        np.testing.assert_array_equal(compiled_run.full[k], reference.full[k], err_msg=k)


@pytest.mark.fused
@pytest.mark.parametrize("parts", [("logistic", "share", "peer", 2.0, "mix"),
                                   ("budget", "fixed", "audit", 8.0, "br", 0.02),
                                   ("logistic", "none", "none", 0.0, "imitate", 0.0, 0.3)])
def test_a_fused_kernel_gives_the_acts_bits(parts, monkeypatch):
    from commons.sim import codegen
    model = compose(*parts)
    fused = model.run(30, 5, rng=9, record="full")
    assert fused.provenance["engine"] == "numba"
    monkeypatch.setattr(codegen, "FUSE", False)
    acts = compose(*parts).run(30, 5, rng=9, record="full")
    assert acts.provenance["engine"] == "mixed"
    for k in acts.full:
        np.testing.assert_array_equal(fused.full[k], acts.full[k], err_msg=k)
    for k in acts.series:
        np.testing.assert_allclose(fused.series[k], acts.series[k], rtol=1e-12, atol=1e-12)


MECHANISMS = [lambda: commons.Meetings(0.2, 0.5), lambda: commons.Covenant(rounds=[0, 6]),
              lambda: commons.Gossip(see=0.6, tell=0.5, cost=0.1),
              lambda: commons.CivicDuty(0.8), lambda: commons.CrowdingOut(0.3, 0.1),
              lambda: commons.Regulator(0.8, stance="overriding", rounds=[2, 3]),
              lambda: commons.Boundary(list(range(9)), enforcement=0.6),
              lambda: commons.MutualSupport(0.3, reference="mean")]
SANCTIONS = [lambda: commons.GraduatedSanction((0.0, 2.0, 4.0), exclude_after=2,
                                               exclusion_rounds=1, forgive_after=2),
             lambda: commons.UnitFee(0.05, recipient="members"),
             lambda: commons.PeerPunishment(2, antisocial=0.1, revenge=0.3),
             lambda: commons.PeerPunishment(3, cost="fehr-gachter", stream="fg"),
             lambda: commons.PoolPunishment(0.05, 1.0, contributors=list(range(6)),
                                            second_order=0.2),
             lambda: commons.Appeal(0.05, accuracy=0.8)]


@settings(max_examples=25)
@given(st.lists(st.integers(0, len(MECHANISMS) - 1), unique=True, max_size=4),
       st.lists(st.integers(0, len(SANCTIONS) - 1), unique=True, max_size=3),
       st.sampled_from(["vote", "fixed"]), st.sampled_from(["concave", "game"]),
       st.integers(0, 2**32 - 1))
def test_every_mechanism_compiled_gives_the_numpy_bits(mech, sanc, quota, tech, seed):
    ms = [MECHANISMS[k]() for k in sorted(mech)]
    ss = [SANCTIONS[k]() for k in sorted(sanc)]
    game = commons.CPRGame(N, commons.Quadratic(23.0, 0.25), 5.0, 3.0)
    technology = (commons.PrivateConcave(commons.Uniform(0.5, 1.5), 0.5, 0.5) if tech == "concave"
                  else commons.StageGame(game))
    q = (commons.QuotaVote("median", places=[k // 4 for k in range(N)], autonomy=0.5)
         if quota == "vote" else commons.FixedQuota(0.9))
    model = commons.Model(N, network=GRAPH, technology=technology,
                          resource=commons.CareBudget(1.2 * N, growth=0.02),
                          quota=q, monitoring=commons.PeerMonitoring(0.3, 0.5, noise=0.1),
                          sanctions=ss, mechanisms=ms, rule=commons.BestResponse(0.4, 0.1),
                          max_draw=3.0, prosociality=0.4)
    a = model.run(15, 3, rng=seed, record="full")
    b = model.run(15, 3, rng=seed, record="full", engine="numpy")
    assert _kernel.why_not(model) == ""
    for k in b.full:
        np.testing.assert_array_equal(a.full[k], b.full[k], err_msg=k)
    # what the draws do not show (trust, where no rule reads it) in the final state
    for k in b.final:
        np.testing.assert_array_equal(a.final[k], b.final[k], err_msg=k)
    for k in b.series:  # recorded sums may be added in another order
        np.testing.assert_allclose(a.series[k], b.series[k], rtol=1e-12, atol=1e-12,
                                   err_msg=k)


@settings(max_examples=15)
@given(st.integers(5, 9), st.floats(0.1, 1.0), st.floats(0.1, 1.0), st.integers(0, 2**32 - 1))
def test_gossip_in_a_clique_gives_the_numpy_bits(n, see, tell, seed):
    # in a clique every edge k -> j has n - 2 paths k -> i -> j: the compiled form draws the
    # paths' numbers in windows of E // 4 blocks, several windows here (K5: 60 paths, 20
    # edges), whose bounds fall inside edges' lists of paths
    game = commons.CPRGame(n, commons.Quadratic(23.0, 0.25), 5.0, 3.0)
    model = commons.Model(n, network=nx.complete_graph(n), technology=commons.StageGame(game),
                          quota=commons.FixedQuota(0.9), trust=commons.ComplianceTrust(0.2, 0.6),
                          mechanisms=[commons.Gossip(see=see, tell=tell, drop=0.4, cost=0.2)],
                          rule=commons.BestResponse(0.5, 0.3), max_draw=3.0)
    a = model.run(12, 3, rng=seed, record="full")
    b = model.run(12, 3, rng=seed, record="full", engine="numpy")
    assert a.provenance["engine"] in ("mixed", "numba")
    np.testing.assert_array_equal(a.final["trust"], b.final["trust"])
    for k in b.full:
        np.testing.assert_array_equal(a.full[k], b.full[k], err_msg=k)


def technology(kind):
    """A payoff technology for N organisations: private concave returns or the stage game
    on a quadratic, power or exponential production."""
    productions = {"quadratic": lambda: commons.Quadratic(23.0, 0.25),
                   "power": lambda: commons.Power(20.0, 0.6),
                   "exponential": lambda: commons.Exponential(60.0, 0.05)}
    if kind == "concave":
        return commons.PrivateConcave(commons.Uniform(0.5, 1.5), 0.5, 0.5, need_growth=0.02)
    return commons.StageGame(commons.CPRGame(N, productions[kind](), 5.0, 3.0))


def rule_model(rule, tech="concave"):
    tech = technology(tech)
    return commons.Model(N, network=GRAPH, technology=tech,
                         resource=commons.LogisticStock(10.0 * N, 0.3),
                         quota=commons.StockShareQuota(0.05),
                         monitoring=commons.PeerMonitoring(0.2, 0.5, noise=0.1),
                         sanctions=[commons.QuotaFine(2.0)],
                         trust=commons.ComplianceTrust(0.1, 0.5), rule=rule,
                         max_draw=None if isinstance(tech, commons.StageGame) else 2.0,
                         prosociality=0.3)


unit = st.floats(0.0, 1.0)
rules = st.one_of(
    st.builds(commons.ConditionalCooperation, threshold=unit, drift=unit),
    st.builds(commons.Trigger, punish_rounds=st.one_of(st.none(), st.integers(1, 4)),
              scope=st.sampled_from(["neighbours", "all"])),
    st.builds(commons.RothErev, grid=st.integers(2, 8), recency=unit, experimentation=unit),
    st.builds(commons.LogitResponse, temperature=st.floats(0.05, 5.0), grid=st.integers(2, 12),
              revision_rate=unit))


@settings(max_examples=25)
@given(rules, st.sampled_from(["concave", "quadratic", "power", "exponential"]),
       st.integers(1, 3), st.integers(0, 2**32 - 1))
def test_the_reciprocal_learning_and_logit_rules_compiled_give_the_numpy_bits(rule, tech, R,
                                                                              seed):
    model = rule_model(rule, tech)
    assert _kernel.why_not(model) == ""
    a = model.run(20, R, rng=seed, record="full")
    b = model.run(20, R, rng=seed, record="full", engine="numpy")
    for k in b.full:
        np.testing.assert_array_equal(a.full[k], b.full[k], err_msg=k)


@settings(max_examples=20)
@given(st.sampled_from(["power", "exponential"]), st.floats(0.0, 1.0), st.floats(0.0, 0.5),
       st.integers(0, 2**32 - 1))
def test_best_replies_on_power_and_exponential_games_compiled_give_the_numpy_bits(
        tech, mu, noise, seed):
    # the compiled bracketed root serves both paths: the same replies, bit for bit
    for rule in (commons.BestResponse(mu, noise), commons.ReviseOrImitate(mu, noise, 5.0)):
        model = rule_model(rule, tech)
        assert _kernel.why_not(model) == ""
        a = model.run(15, 2, rng=seed, record="full")
        b = model.run(15, 2, rng=seed, record="full", engine="numpy")
        for k in b.full:
            np.testing.assert_array_equal(a.full[k], b.full[k], err_msg=k)


@pytest.mark.fused
@pytest.mark.parametrize("tech", ["power", "exponential"])
def test_every_rule_runs_fused_on_a_non_quadratic_game(tech):
    thirds = [list(range(k, N, 5)) for k in range(5)]
    rule = commons.Mixed([(commons.ConditionalCooperation(threshold=0.6), thirds[0]),
                          (commons.Trigger(punish_rounds=2), thirds[1]),
                          (commons.RothErev(grid=6), thirds[2]),
                          (commons.LogitResponse(0.5, grid=9), thirds[3]),
                          (commons.BestResponse(0.5, 0.1), thirds[4])])
    model = rule_model(rule, tech)
    a = model.run(15, 3, rng=2, record="full")
    b = model.run(15, 3, rng=2, record="full", engine="numpy")
    assert a.provenance["engine"] == "numba"
    for k in b.full:
        np.testing.assert_array_equal(a.full[k], b.full[k], err_msg=k)


class MyTechnology(commons.PrivateConcave):
    """A technology with compiled values but no compiled payoff of alternative draws."""

    values_class = type("MyValues", (tuple,), {})


def test_a_logit_rule_falls_back_without_a_compiled_payoff():
    model = rule_model(commons.LogitResponse(0.5, grid=5)).replace(
        technology=MyTechnology(1.0, 0.5, 0.5))
    assert "LogitResponse.learn" in _kernel.why_not(model)


@pytest.mark.fused
@pytest.mark.parametrize("name", ["ostrom", "lab-talk", "lab-sanctions", "ics-self",
                                  "ics-central"])
def test_the_plugin_models_run_fused_with_the_numpy_bits(name):
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "benchmarks"))
    from plugin_models import MODELS
    model = MODELS[name]()
    a = model.run(12, 3, rng=5, record="full")
    b = model.run(12, 3, rng=5, record="full", engine="numpy")
    assert a.provenance["engine"] == "numba"
    for k in b.full:
        np.testing.assert_array_equal(a.full[k], b.full[k], err_msg=k)
    for k in b.final:  # trust, which the draws may not show yet
        np.testing.assert_array_equal(a.final[k], b.final[k], err_msg=k)


@pytest.mark.fused
@given(st.integers(0, 2**32 - 1), st.integers(1, 3))
@settings(max_examples=5, deadline=None)
def test_peers_counted_by_popcount_or_one_by_one_give_the_same_bits(seed, R):
    # compliant neighbours counted from rows of bits (a dense network) and by a gather per
    # edge (rows refused) give the same detection probabilities, so the same runs
    from commons.sim import _bitsets
    from commons.sim.layout import cnet
    model = compose("logistic", "share", "peer", 3.0, "br")
    assert cnet(model.network).rows.shape[0] == N
    by_bits = model.run(20, R, rng=seed, record="full")
    old = _bitsets.MAX_BYTES
    try:
        _bitsets.MAX_BYTES = 0  # no network gets rows: every count gathers
        assert cnet(model.network).rows.shape[0] == 0
        # a new model: a model keeps the network it built for compiled code
        one_by_one = compose("logistic", "share", "peer", 3.0, "br").run(20, R, rng=seed,
                                                                       record="full")
    finally:
        _bitsets.MAX_BYTES = old
    for k in by_bits.full:
        np.testing.assert_array_equal(by_bits.full[k], one_by_one.full[k], err_msg=k)


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_same_bits_for_a_hundred_splits_of_the_replicates(engine):
    model = compose("logistic", "share", "peer", 2.0, "mix", shock=0.3)
    whole = model.run(15, 10, rng=21, engine=engine, record="full")
    rng = np.random.default_rng(0)
    for _ in range(100):
        ids = np.sort(rng.choice(10, size=int(rng.integers(1, 10)), replace=False))
        part = model.run(15, rng=21, engine=engine, record="full", replicate_ids=ids)
        for k in whole.full:
            np.testing.assert_array_equal(part.full[k], whole.full[k][ids], err_msg=k)
        for k in whole.series:
            np.testing.assert_array_equal(part.series[k], whole.series[k][ids], err_msg=k)


# ---------------------------------------------------------------- user plug-ins
class Halving(commons.Plugin):
    """Halves the quota of organisations over it (a user plug-in with a compiled form)."""

    role = "mechanism"
    phases = ("communicate",)
    reads = {"communicate": ("quota", "draws")}
    writes = {"communicate": ("quota",)}

    def communicate(self, st, ctx):
        st.quota = np.where(st.draws > st.quota, st.quota / 2, st.quota)


@compiled(Halving, "communicate")
@jitable
def _halving(r, t, S, P, M, rng, net, TP):
    for i in range(S.quota.shape[1]):
        if S.draws[r, i] > S.quota[r, i]:
            S.quota[r, i] = S.quota[r, i] / 2


class Broken(Halving):
    def communicate(self, st, ctx):
        pass


@compiled(Broken, "communicate")
@jitable
def _broken(r, t, S, P, M, rng, net, TP):
    S.quota[r, 0] = "not a number"


class Poison(Halving):
    def communicate(self, st, ctx):
        pass


class PoisonRule(commons.BestResponse):
    """Round 4's next draw of organisation 1: ``bad`` (NaN unless told)."""

    cparams = (*commons.BestResponse.cparams, "bad")

    def __init__(self, revision_rate: float, bad: float = np.nan) -> None:
        super().__init__(revision_rate)
        self.bad = bad

    def bind(self, ctx):
        return {**super().bind(ctx), "bad": np.full(ctx.R, self.bad)}

    def learn(self, st, ctx):
        super().learn(st, ctx)
        if st.t == 4:
            st.next_draws[:, 1] = self.bad


@compiled(PoisonRule, "learn")
@jitable
def _poison(r, t, S, P, M, rng, net, TP):
    bad = P[3]
    for i in range(S.draws.shape[1]):
        S.next_draws[r, i] = bad[r] if (t == 4 and i == 1) else S.draws[r, i]


def test_a_user_compiled_form_runs_beside_the_built_ins():
    model = compose("logistic", "share", "peer", 2.0, "mix")
    mine = model.replace(mechanisms=[Halving()])
    assert _kernel.why_not(mine) == ""
    a = mine.run(20, 3, rng=2, record="full")
    b = mine.run(20, 3, rng=2, record="full", engine="numpy")
    np.testing.assert_array_equal(a.full["draws"], b.full["draws"])


class Overshoot(commons.BestResponse):
    """Organisation 0's next draw 5 over its draw: past max_draw (2), clipped at the round's
    end."""

    def learn(self, st, ctx):
        st.next_draws = st.draws + np.where(np.arange(st.N) == 0, 5.0, 0.0)


@compiled(Overshoot, "learn")
@jitable
def _overshoot(r, t, S, P, M, rng, net, TP):
    for i in range(S.draws.shape[1]):
        S.next_draws[r, i] = S.draws[r, i] + (5.0 if i == 0 else 0.0)


class Planning(commons.Plugin):
    """Keeps the next draws' total as the stock (of a model without a resource): an act after
    learning that reads the next draws, before they are clipped."""

    role = "mechanism"
    phases = ("regenerate",)
    reads = {"regenerate": ("next_draws",)}
    writes = {"regenerate": ("stock",)}

    def regenerate(self, st, ctx):
        st.stock = np.cumsum(st.next_draws, axis=1)[:, -1]  # added in order, as compiled


@compiled(Planning, "regenerate")
@jitable
def _planning(r, t, S, P, M, rng, net, TP):
    total = 0.0
    for i in range(S.next_draws.shape[1]):
        total += S.next_draws[r, i]
    S.stock[r] = total


@pytest.mark.fused
def test_an_act_after_learning_sees_the_next_draws_unclipped():
    # the fused kernel clips the next draws in the last learn act's check, unless a later act
    # reads them: here it must see organisation 0's overshoot, as the numpy path does
    model = compose("none", "fixed", "peer", 2.0, "br").replace(
        rule=Overshoot(0.5), mechanisms=[Planning()])
    assert _kernel.why_not(model) == ""
    a = model.run(12, 3, rng=4, record="full")
    b = model.run(12, 3, rng=4, record="full", engine="numpy")
    np.testing.assert_array_equal(a.series["stock"], b.series["stock"])
    np.testing.assert_array_equal(a.full["draws"], b.full["draws"])
    # the total holds the overshoot; the draws were clipped before the next round
    assert np.all(a.series["stock"] >= a.full["draws"].sum(axis=2) + 3.0 - 1e-9)
    assert np.all(a.full["draws"][:, :, 0] <= 2.0)


def test_a_form_that_does_not_compile_is_named():
    model = compose("logistic", "share", "peer", 2.0, "mix").replace(mechanisms=[Broken()])
    with pytest.raises(CompileError, match=r"Broken\.communicate \(_broken\) does not compile"):
        model.run(3)


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_a_compiled_nan_is_named_with_its_phase_and_round(engine):
    model = compose("logistic", "share", "peer", 2.0, "br").replace(rule=PoisonRule(0.5))
    with pytest.raises(commons.PluginError,
                       match="PoisonRule produced non-finite draws in the learn phase of "
                             "round 4"):
        model.run(10, 2, rng=1, engine=engine)


@pytest.mark.fused
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_fused_kernel_names_a_bad_next_draw_its_clip_would_hide(bad):
    # the fused kernel checks the last learn act's next draws in the loop that then clips
    # them to [0, max_draw] (which would turn an infinity into a bound): named as the numpy
    # path names it
    model = compose("logistic", "share", "peer", 2.0, "br").replace(rule=PoisonRule(0.5, bad))
    assert _kernel.why_not(model) == ""
    with pytest.raises(commons.PluginError,
                       match="PoisonRule produced non-finite draws in the learn phase of "
                             "round 4"):
        model.run(10, 2, rng=1)


class PoisonDecide(commons.BestResponse):
    """Round 3's draw of organisation 1: ``bad`` (a NaN or a negative number)."""

    cparams = (*commons.BestResponse.cparams, "bad")

    def __init__(self, bad: float) -> None:
        super().__init__(0.5)
        self.bad = bad

    def bind(self, ctx):
        return {**super().bind(ctx), "bad": np.full(ctx.R, self.bad)}

    def decide(self, st, ctx):
        super().decide(st, ctx)
        if st.t == 3:
            st.draws[:, 1] = self.bad

    def learn(self, st, ctx):  # keep the draws (the parameters are not best response's)
        st.next_draws = st.draws.copy()


@compiled(PoisonDecide, "decide", orgs=True)
@jitable
def _poison_decide(r, t, S, P, M, rng, net, TP, i0, i1):
    bad = P[3]
    for i in range(i0, i1):
        S.draws[r, i] = bad[r] if (t == 3 and i == 1) else S.next_draws[r, i]


@compiled(PoisonDecide, "learn", orgs=True)
@jitable
def _poison_decide_learn(r, t, S, P, M, rng, net, TP, i0, i1):
    for i in range(i0, i1):
        S.next_draws[r, i] = S.draws[r, i]


class PoisonGrant(commons.LogisticStock):
    """Round 2's grant of organisation 0 less than nothing."""

    def appropriate(self, st, ctx):
        super().appropriate(st, ctx)
        if st.t == 2:
            st.granted[:, 0] = -1.0


@compiled(PoisonGrant, "appropriate")
@jitable
def _poison_grant(r, t, S, P, M, rng, net, TP):
    for i in range(S.demand.shape[1]):
        S.granted[r, i] = S.demand[r, i]
    if t == 2:
        S.granted[r, 0] = -1.0


@pytest.mark.parametrize("engine", ["numpy", "numba"])
@pytest.mark.parametrize(("bad", "fault"), [(np.nan, "non-finite"), (-np.inf, "non-finite"),
                                            (np.inf, "non-finite"), (-0.5, "negative")])
def test_a_bad_draw_is_named_with_the_decide_phase_and_round(engine, bad, fault):
    # the compiled engine checks the decide act's draws in the loop that then clips them
    # (which would hide inf and a negative draw): each is named as the numpy path names it
    model = compose("logistic", "share", "peer", 2.0, "br").replace(rule=PoisonDecide(bad))
    with pytest.raises(commons.PluginError,
                       match=f"PoisonDecide produced {fault} draws in the decide phase of "
                             "round 3"):
        model.run(10, 2, rng=1, engine=engine)


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_a_negative_grant_is_named_with_the_appropriate_phase_and_round(engine):
    model = compose("logistic", "share", "peer", 2.0, "br").replace(
        resource=PoisonGrant(capacity=1000.0, growth=0.25))
    with pytest.raises(commons.PluginError,
                       match="PoisonGrant produced negative granted in the appropriate phase "
                             "of round 2"):
        model.run(10, 2, rng=1, engine=engine)


@pytest.mark.fused
def test_a_new_process_loads_the_compiled_composition_from_the_cache(tmp_path):
    script = textwrap.dedent("""
        import commons
        from commons.sim import _kernel
        model = commons.scenarios.benchmark_cpr_v1(12)
        model.run(3, 2, rng=0)
        fused = _kernel.plan_for(model).fused
        print(sum(fused.stats.cache_hits.values()), sum(fused.stats.cache_misses.values()))
    """)
    env = {**os.environ, "COMMONS_CACHE_DIR": str(tmp_path), "COMMONS_FUSE": "1"}
    first = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                           text=True, check=True).stdout.split()
    second = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, check=True).stdout.split()
    assert first == ["0", "1"]            # compiled once...
    assert second == ["1", "0"]           # ...and loaded, not compiled, by the next process
    assert len(list(tmp_path.glob("kernels/commons_kernel_*.py"))) == 1


def test_a_change_to_any_engine_module_names_a_new_kernel(tmp_path, monkeypatch):
    # a helper that no form names (the popcount neighbour counts, say) changes the kernels'
    # names too, so a cached kernel never outlives the code it was compiled from
    import shutil

    from commons.sim import codegen
    root = tmp_path / "sim"
    shutil.copytree(os.path.dirname(codegen.__file__), root,
                    ignore=shutil.ignore_patterns("__pycache__"))
    before = codegen._engine_digest(root)
    assert codegen._engine_digest(root) == before
    with open(root / "_bitsets.py", "a") as f:
        f.write("\n# changed\n")
    assert codegen._engine_digest.__wrapped__(root) != before
    name = codegen._fingerprint("def run(): pass", [])
    monkeypatch.setattr(codegen, "_engine_digest", lambda: b"another engine")
    assert codegen._fingerprint("def run(): pass", []) != name


_PAID = st.one_of(st.floats(0.0, 1e3), st.sampled_from([0.0, -0.0]))
_HELD = st.one_of(st.floats(-1e3, 1e3), st.sampled_from([0.0, -0.0]))


@settings(max_examples=40, deadline=None)
@given(st.lists(_PAID, min_size=1, max_size=40), st.lists(_PAID, min_size=1, max_size=40),
       st.integers(0, 600), st.lists(_HELD, min_size=1, max_size=8), st.randoms())
@example([8.9, 2.27, 6.23, 0.84, 8.33, 7.87, 2.39, 8.76, 0.59], [0.0] * 9, 0, [0.0],
         random.Random(0))  # numpy's row sum
@example([-0.0, -0.0, 0.0], [-0.0, -0.0, -0.0], 0, [-0.0],
         random.Random(0))  # nothing paid: +0.0, whatever the zeros' signs
@example([0.0, float("nan"), 0.0], [0.0, 0.0, 0.0], 300, [1.0],
         random.Random(0))  # a nan is paid, and shared
@example([0.0] * 17, [0.0] * 16 + [3.0], 495, [-0.0, 2.0],
         random.Random(0))  # the last organisation alone pays, in the second block
def test_the_members_share_is_added_in_organisation_order_on_both_paths(fines, costs, at,
                                                                        held, rnd):
    # what is paid to the members is added organisation by organisation, left to right, by
    # State.settle (numpy) and by the compiled settle alike, whose blocks of organisations
    # are settled in any order (threads) and mark whether they pay the members, so that the
    # sum is skipped when nothing is paid; numpy's own sum of a row (eight running sums)
    # rounds differently once several organisations pay. The payers sit after ``at``
    # organisations that pay nothing; everyone holds transfers (``held``) and a gross.
    from functools import reduce

    from commons.sim import _steps
    from commons.sim.layout import cstate
    from commons.sim.state import State, charge_index

    n = min(len(fines), len(costs))
    N = at + n
    state = State.empty(1, N, 0)
    state.gross = np.arange(N, dtype=float)[None] * 0.5 - 3.0
    state.transfers = np.resize(np.array(held), N)[None].copy()
    state.charges[0, charge_index("fine", "members")] = np.r_[[0.0] * at, fines[:n]]
    state.charges[0, charge_index("cost", "members")] = np.r_[[0.0] * at, costs[:n]]
    state.charges[0, charge_index("fine", "regulator"), ::3] = 1.5
    want = reduce(lambda a, b: a + b, [f + c for f, c in zip(fines[:n], costs[:n], strict=True)],
                  0.0) / N
    numpy_state = state.copy()
    numpy_state.settle()
    S = cstate(state)  # its arrays are the state's: the compiled steps write there
    part = np.full((1, _steps.blocks(N), _steps.NSUMS + 1), 7.0)
    chunks = [(k * _steps.RB, min(N, (k + 1) * _steps.RB)) for k in range(_steps.blocks(N))]
    rnd.shuffle(chunks)
    got = _settle_compiled()(S, part, np.array(chunks, np.uint64))
    np.testing.assert_array_equal(got, want)
    assert np.signbit(got) == np.signbit(want)
    np.testing.assert_array_equal(numpy_state.transfers,
                                  np.resize(np.array(held), N)[None] + want)
    for name in ("fines", "costs", "transfers", "payoffs"):
        np.testing.assert_array_equal(getattr(S, name), getattr(numpy_state, name),
                                      err_msg=name)
        assert np.all(np.signbit(getattr(S, name)) == np.signbit(getattr(numpy_state, name)))


@functools.cache
def _settle_compiled():
    import numba

    from commons.sim import _steps

    @numba.njit
    def run(S, part, chunks):  # settle chunk by chunk, then the share, as threads do
        for c in range(chunks.shape[0]):
            _steps.settle(0, S, part, chunks[c, 0], chunks[c, 1])
        share = _steps.settle_share(0, S, part)
        for c in range(chunks.shape[0]):
            _steps.share_out(0, S, share, chunks[c, 0], chunks[c, 1])
        return share
    return run


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-3, 3).map(float) | st.floats(-1e6, 1e6), min_size=1,
                max_size=30))
@example([1.0, 0.0])
@example([2.0, 2.0, 1.0, 1.0])
def test_the_compiled_vote_median_is_numpys(values):
    # the compiled median (a selection, then the largest below it for an even count) against
    # numpy's median, ties and repeated values included
    from commons.sim.mechanisms.governance import _select

    got = _median()(np.array(values))
    assert got == np.median(values)
    buf = np.array(values)
    k = len(values) // 2
    _select(buf, len(values), k)
    assert np.all(buf[:k] <= buf[k])
    assert np.all(buf[k + 1:] >= buf[k])


@functools.cache
def _median():
    import numba

    from commons.sim.layout import cstate
    from commons.sim.mechanisms.governance import _tally
    from commons.sim.state import State

    @numba.njit
    def median(values, S):
        N = S.excluded.shape[1]
        n = values.shape[0]
        proposal = np.zeros((1, N))
        proposal[0, :n] = values
        voters = np.zeros(N, np.bool_)
        voters[:n] = True
        return _tally(0, proposal, voters, S, np.zeros(N, np.int64), -1, 0, np.empty(N))
    S = cstate(State.empty(1, 30, 0))
    return lambda values: median(values, S)


@settings(max_examples=15)
@given(st.floats(0.0, 1.0), st.floats(0.0, 1.0), st.sampled_from([0.5, 1.0, 2.0]),
       st.integers(0, 2**32 - 1))
@example(0.1, 0.5, 2.0, 0)
def test_compliance_trust_counts_an_equal_draw_as_compliance_on_both_paths(lam, w0, level,
                                                                          seed):
    # everyone draws the same: j complies with i's standard (g_j <= max(q_j, h_i) with
    # g_j = h_i) over or under the quota, so every edge moves toward 1 each round:
    # 1 - w_T = (1 - lam)^T (1 - w0); the compiled form gives the numpy form's bits
    T = 12
    model = commons.Model(N, network=GRAPH, technology=technology("concave"),
                          quota=commons.FixedQuota(1.0), rule=commons.FixedDraw(level),
                          max_draw=2.0,
                          trust=commons.ComplianceTrust(lam, w0))
    assert _kernel.why_not(model) == ""
    a = model.run(T, 2, rng=seed)
    b = model.run(T, 2, rng=seed, engine="numpy")
    np.testing.assert_array_equal(a.final["trust"], b.final["trust"])
    want = 1.0 - (1.0 - lam) ** T * (1.0 - w0)
    np.testing.assert_allclose(a.final["trust"], want, rtol=1e-12, atol=1e-14)


@given(st.floats(allow_nan=True), st.floats(allow_nan=True), st.floats(allow_nan=True))
@example(1.0, float("nan"), 2.0)   # no quota: judged against one's own draw
@example(1.0, 2.0, float("nan"))   # a NaN draw of one's own: nobody complies
@example(float("nan"), 2.0, 1.0)
@example(0.0, -0.0, -1.0)
def test_compliance_trusts_one_number_per_partner_is_the_comparison_it_replaces(g, q, h):
    # compiled compliance trust compares key_j <= h_i, key_j = -inf where g_j <= q_j else g_j
    # (one number gathered per edge), in place of g_j <= max(q_j, h_i) as the form of the
    # shared organisations still writes it: the same answer for any floats, NaNs included
    key = -np.inf if g <= q else g
    assert (key <= h) == (g <= (q if q > h else h))
