"""Sanctions, monitoring, punishment, appeals and boundaries (Ostrom's principles 1, 4, 5, 6)."""

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

import commons
from engine_models import EdgeTrust, Misread, Probe, Snapshot

GAME = commons.CPRGame(8, commons.Quadratic(23, 0.25), 5, 25)
A, B, W, N = 18.0, 0.25, 5.0, 8           # a - w, b, w, N of the laboratory game
X_OPT = A / (2 * B)                         # 36
Q = X_OPT / N                               # 4.5, the optimal share as the quota
GAIN = A - B * X_OPT - B * Q                # 7.875: marginal private gain at the optimum


def lab(sanctions=(), *, monitoring=None, rule=None, graph=None, quota=Q, mechanisms=(),
        initial=None, trust=None):
    return commons.Model(
        N, technology=commons.StageGame(GAME), network=graph,
        quota=None if quota is None else commons.FixedQuota(quota), monitoring=monitoring,
        sanctions=list(sanctions), rule=rule or commons.BestResponse(0.3),
        mechanisms=list(mechanisms), initial_draws=initial, trust=trust)


# ---------------------------------------------------------------- accounting
@st.composite
def sanction_sets(draw):
    parts, mons = [], []
    mon_kind = draw(st.sampled_from(["audit", "peer", "none"]))
    noise = draw(st.sampled_from([0.0, 0.2]))
    if mon_kind == "audit":
        mons.append(commons.CentralAudit(draw(st.floats(0, 1)), cost=draw(st.floats(0, 2)),
                                         noise=noise))
    elif mon_kind == "peer":
        mons.append(commons.PeerMonitoring(0.2, 0.5, by=draw(st.sampled_from(
            ["compliance", "trust", "count"])), cost=draw(st.floats(0, 0.5)), noise=noise))
    recipient = draw(st.sampled_from(["regulator", "burned", "members"]))
    watched = mon_kind != "none"  # fines on detected violators need monitoring
    if watched and draw(st.booleans()):
        parts.append(commons.QuotaFine(draw(st.floats(0, 30)), recipient=recipient))
    if draw(st.booleans()):
        parts.append(commons.UnitFee(draw(st.floats(0, 10)), recipient=recipient))
    if watched and draw(st.booleans()):
        parts.append(commons.GraduatedSanction((0.0, 5.0, 20.0), exclude_after=3,
                                               exclusion_rounds=2, forgive_after=3,
                                               recipient=recipient))
    if draw(st.booleans()):
        parts.append(commons.PeerPunishment(
            draw(st.integers(0, 10)), cost=draw(st.sampled_from(["linear", "fehr-gachter"])),
            antisocial=draw(st.floats(0, 0.3)), revenge=draw(st.floats(0, 1))))
    if watched and draw(st.booleans()):
        parts.append(commons.PoolPunishment(draw(st.floats(0, 2)), draw(st.floats(0, 20)),
                                            contributors=[0, 1, 2], second_order=1.0))
    if draw(st.booleans()):
        parts.append(commons.Appeal(draw(st.floats(0, 5))))
    mechanisms = [commons.Boundary([0, 1, 2, 3, 4, 5], enforcement=0.5)] \
        if draw(st.booleans()) else []
    return mons[0] if mons else None, parts, mechanisms


@settings(max_examples=40)
@given(sanction_sets(), st.integers(0, 2**32 - 1))
def test_money_is_conserved_under_every_combination(combo, seed):
    monitoring, sanctions, mechanisms = combo
    probe = Probe()
    model = lab(sanctions, monitoring=monitoring, graph=nx.cycle_graph(N),
                mechanisms=[*mechanisms, probe], rule=commons.ReviseOrImitate(0.3, 1.0, 1.0))
    res = model.run(15, 3, rng=seed, record="full")
    assert probe.rounds_checked == 15  # the probe checks payoffs + regulator + burned = gross
    s = res.series
    gross = GAME.payoffs(res.full["granted"], check=False).sum(-1) - W * 25 * N
    np.testing.assert_allclose(s["rent"] + s["regulator_income"] + s["burned"], gross,
                               rtol=1e-10, atol=1e-8)
    assert np.all(s["regulator_spending"] >= 0)


BALANCED = [
    lambda: commons.QuotaFine(10.0, recipient="members"),
    lambda: commons.UnitFee(3.0, recipient="members"),
    lambda: commons.GraduatedSanction((1.0, 5.0), recipient="members"),
    lambda: commons.PeerMonitoring(0.3, 0.5),
]


@pytest.mark.parametrize("make", BALANCED)
def test_declared_budget_balance_is_true(make):
    plugin = make()
    assert plugin.budget_balanced
    mon = plugin if isinstance(plugin, commons.PeerMonitoring) else commons.CentralAudit(0.7)
    sanctions = [] if plugin is mon else [plugin]
    model = lab(sanctions, monitoring=mon, graph=nx.cycle_graph(N),
                rule=commons.BestResponse(0.5, noise=2.0))
    res = model.run(30, 4, rng=2, record="full")
    gross = GAME.payoffs(res.full["granted"], check=False)
    # no money leaves the group: the organisations keep all that was produced
    np.testing.assert_allclose(res.full["payoffs"].sum(-1), gross.sum(-1), rtol=1e-12)
    assert np.all(res.series["regulator_income"] == 0)
    assert np.all(res.series["burned"] == 0)


def test_not_budget_balanced_declarations():
    for p in (commons.QuotaFine(1.0), commons.UnitFee(1.0), commons.PeerPunishment(),
              commons.PoolPunishment(1.0, 1.0), commons.Appeal(1.0),
              commons.PeerMonitoring(cost=0.1)):
        assert not p.budget_balanced


@pytest.mark.statistical
def test_audit_cost_is_the_regulators(seed):
    res = lab([commons.QuotaFine(20.0)], monitoring=commons.CentralAudit(0.5, cost=2.0)).run(
        200, 20, rng=seed)
    # expected spending: cost x p x N per round. Statistic: spending per round is
    # 2 Binomial(8, 0.5), sd 2.83; its mean over 4000 rounds has standard error 0.045, and the
    # tolerance (3 % of 8) is 5.4 of them
    assert res.series["regulator_spending"].mean() == pytest.approx(2.0 * 0.5 * N, rel=0.03)
    np.testing.assert_allclose(res.metrics["regulator_net"],
                               (res.series["regulator_income"]
                                - res.series["regulator_spending"]).sum(1))


def test_peer_monitoring_cost_is_paid_by_watchers():
    g = nx.star_graph(N - 1)
    res = lab(monitoring=commons.PeerMonitoring(cost=0.5), graph=g).run(5, 2, rng=1)
    # the hub watches 7, each leaf 1: 0.5 (7 + 7) per round, burned
    np.testing.assert_allclose(res.series["costs"], 0.5 * 14)
    np.testing.assert_allclose(res.series["burned"], 0.5 * 14)


# ---------------------------------------------------------------- monitoring, by its definition
def watched(monitoring, draws, *, trust=None, graph=None, R=2):
    """What monitoring saw in one round: detect_prob, inspected, observed, detected."""
    snap = Snapshot("sanction", "detect_prob", "inspected", "observed", "detected")
    model = lab(monitoring=monitoring, graph=graph or nx.star_graph(N - 1), trust=trust,
                rule=commons.FixedDraw(draws), mechanisms=[snap])
    res = model.run(1, R, rng=0, record="full")
    return {k: v[0] for k, v in snap.seen.items()}, res


def test_peer_monitoring_detection_probability_by_compliance():
    # p_i = base + slope m_i, m_i the share of i's neighbours who complied. On a star with hub
    # 0, leaves 1 and 2 overdraw: the hub sees 5 of 7 comply, every leaf sees the hub comply
    draws = np.full(N, Q)
    draws[[1, 2]] = Q + 2.0
    seen, _ = watched(commons.PeerMonitoring(), draws)           # defaults: 0.1 + 0.4 m_i
    expect = np.full(N, 0.1 + 0.4 * 1.0)
    expect[0] = 0.1 + 0.4 * 5 / 7
    np.testing.assert_allclose(seen["detect_prob"], np.broadcast_to(expect, (2, N)))
    # noiseless: what is seen is what was granted; detected = inspected and seen over
    np.testing.assert_allclose(seen["observed"], np.broadcast_to(draws, (2, N)))
    np.testing.assert_array_equal(seen["detected"], seen["inspected"] & (draws > Q))


def test_peer_monitoring_detection_probability_by_count_and_by_trust():
    # by="count": m_i = 1 - (1/2)^k_i for k_i watchers (the hub has 7, each leaf 1);
    # by="trust": m_i = 1 - mean trust of i's watchers in i
    seen, _ = watched(commons.PeerMonitoring(0.2, 0.6, by="count"), np.full(N, Q))
    expect = np.full(N, 0.2 + 0.6 * 0.5)
    expect[0] = 0.2 + 0.6 * (1 - 0.5**7)
    np.testing.assert_allclose(seen["detect_prob"][0], expect)
    trust = EdgeTrust({(j, 0): 0.1 * j for j in range(1, N)} | {(0, 3): 0.9}, default=0.5)
    seen, _ = watched(commons.PeerMonitoring(0.2, 0.6, by="trust"), np.full(N, Q), trust=trust)
    expect = np.full(N, 0.2 + 0.6 * 0.5)
    expect[0] = 0.2 + 0.6 * (1 - np.mean(0.1 * np.arange(1, N)))
    expect[3] = 0.2 + 0.6 * 0.1
    np.testing.assert_allclose(seen["detect_prob"][0], expect)
    # without neighbours nobody watches: p_i = base
    seen, _ = watched(commons.PeerMonitoring(0.2, 0.6, by="trust"), np.full(N, Q),
                      graph=nx.empty_graph(N))
    np.testing.assert_allclose(seen["detect_prob"], 0.2)


def test_peer_monitoring_declarations_follow_its_options():
    reads = {by: commons.PeerMonitoring(by=by).access("monitor")[0]
             for by in ("compliance", "trust", "count")}
    assert "compliant" in reads["compliance"]
    assert "trust" not in reads["compliance"]
    assert "trust" in reads["trust"]
    assert "compliant" not in reads["trust"]
    assert not {"trust", "compliant"} & set(reads["count"])
    assert "charges" not in commons.PeerMonitoring().access("monitor")[1]
    assert "charges" in commons.PeerMonitoring(cost=0.5).access("monitor")[1]
    with pytest.raises(ValueError, match=r"^by must be 'compliance', 'trust' or 'count'"):
        commons.PeerMonitoring(by="rank")
    with pytest.raises(ValueError, match=r"^base \+ slope must be <= 1 \(a detection "
                                         r"probability\), got 1.1$"):
        lab(monitoring=commons.PeerMonitoring(0.6, 0.5)).run(1)


@pytest.mark.statistical
def test_inspection_happens_at_the_detection_probability(seed):
    # statistic: inspections of the hub (p = 0.1 + 0.4 x 5/7) and of the leaves (p = 0.5) over
    # 2000 replicates, two-sided binomial tests at level 1e-3
    # (with noisy observation everyone can be misread, so everyone is inspected at their p);
    # with exact observation and free inspections only those over their quota are inspected
    draws = np.full(N, Q)
    draws[[1, 2]] = Q + 2.0
    snap = Snapshot("sanction", "inspected")
    model = lab(monitoring=commons.PeerMonitoring(0.1, 0.4, noise=0.05),
                graph=nx.star_graph(N - 1), rule=commons.FixedDraw(draws), mechanisms=[snap])
    model.run(1, 2000, rng=seed)
    inspected = snap.seen["inspected"][0]
    hub, leaves = inspected[:, 0], inspected[:, 1:]
    assert stats.binomtest(int(hub.sum()), hub.size, 0.1 + 0.4 * 5 / 7).pvalue > 1e-3
    assert stats.binomtest(int(leaves.sum()), leaves.size, 0.5).pvalue > 1e-3
    exact = Snapshot("sanction", "inspected")
    lab(monitoring=commons.PeerMonitoring(0.1, 0.4), graph=nx.star_graph(N - 1),
        rule=commons.FixedDraw(draws), mechanisms=[exact]).run(1, 2000, rng=seed)
    seen = exact.seen["inspected"][0]
    assert not seen[:, [0, 3, 4, 5, 6, 7]].any()          # compliant: nothing to find
    assert stats.binomtest(int(seen[:, [1, 2]].sum()), 4000, 0.5).pvalue > 1e-3


@pytest.mark.statistical
def test_noise_is_independent_of_who_is_inspected(seed):
    # an audit at p = 0.5 inspects half; the noise of those inspected is still N(0, 1) (were
    # inspection and noise to share a random number, the inspected would be misread more).
    # Statistic: Kolmogorov–Smirnov test of log(seen / h) / sigma over the inspected of 1000
    # replicates (about 4000), at level 1e-3.
    sigma = 0.2
    seen, _ = watched(commons.CentralAudit(0.5, noise=sigma), np.full(N, Q), R=1000)
    z = np.log(seen["observed"][seen["inspected"]] / Q) / sigma
    assert z.size > 3000
    assert stats.kstest(z, "norm").pvalue > 1e-3


@pytest.mark.statistical
def test_noisy_observation_is_lognormal(seed):
    # observe: an inspected draw h is seen as h exp(sigma z), z ~ N(0, 1). Everyone draws the
    # quota exactly, so the seen draw exceeds it iff z > 0: half of the compliant are wrongly
    # detected. Statistics: a Kolmogorov–Smirnov test of log(seen / h) / sigma against N(0, 1)
    # and a binomial test of the share detected, both at level 1e-3 (8000 organisations).
    sigma = 0.2
    seen, res = watched(commons.CentralAudit(1.0, noise=sigma), np.full(N, Q), R=1000)
    np.testing.assert_array_equal(seen["inspected"], True)
    z = np.log(seen["observed"] / Q).ravel() / sigma
    assert stats.kstest(z, "norm").pvalue > 1e-3
    detected = seen["detected"].ravel()
    np.testing.assert_array_equal(detected, z > 0)
    assert stats.binomtest(int(detected.sum()), detected.size, 0.5).pvalue > 1e-3
    assert np.all(res.series["compliance"] == 1.0)     # the truth is unchanged


def test_central_audit_spends_per_inspection():
    seen, res = watched(commons.CentralAudit(1.0, cost=2.5), np.full(N, Q))
    np.testing.assert_allclose(seen["detect_prob"], 1.0)
    np.testing.assert_allclose(res.series["regulator_spending"], 2.5 * N)
    np.testing.assert_allclose(res.metrics["regulator_net"], -2.5 * N)


# ---------------------------------------------------------------- external controls
def motivation_after(sanctions, monitoring, rounds=3, quota=None):
    """Mean motivation at the start of each round under crowding-out (down 0.5, up 0.5)."""
    snap = Snapshot("communicate", "motivation")
    model = commons.Model(N, technology=commons.StageGame(GAME), network=nx.cycle_graph(N),
                          monitoring=monitoring, sanctions=list(sanctions), quota=quota,
                          mechanisms=[commons.CrowdingOut(down=0.5, up=0.5), snap],
                          rule=commons.FixedDraw(Q + 1.0), prosociality=0.8)
    model.run(rounds, 1, rng=0)
    return snap.stack("motivation").mean(axis=(1, 2))


@pytest.mark.parametrize(("sanctions", "monitoring", "external"), [
    ([], commons.PeerMonitoring(0.5, 0.0), False),          # peers are not external
    ([], commons.CentralAudit(0.5), True),                   # an audit is
    ([], commons.CentralAudit(0.0), False),                  # ... when it inspects at all
    ([commons.QuotaFine(5.0)], commons.PeerMonitoring(0.5, 0.0), True),
    ([commons.QuotaFine(0.0)], commons.PeerMonitoring(0.5, 0.0), False),
    ([commons.QuotaFine(5.0, recipient="members")], commons.PeerMonitoring(0.5, 0.0), False),
    ([commons.QuotaFine(5.0, recipient="burned")], commons.PeerMonitoring(0.5, 0.0), False),
    ([commons.UnitFee(1.0)], None, True),
    ([commons.UnitFee(0.0)], None, False),
    ([commons.UnitFee(1.0, recipient="members")], None, False),
    ([commons.QuotaFine(0.5)], commons.PeerMonitoring(0.5, 0.0), True),
])
def test_what_counts_as_external_control(sanctions, monitoring, external):
    # CrowdingOut: motivation falls by half in a round with external control, else stays
    # (it recovers toward its start, where it already is)
    seen = motivation_after(sanctions, monitoring)
    np.testing.assert_allclose(seen, [0.8, 0.4, 0.2] if external else [0.8, 0.8, 0.8])


# ---------------------------------------------------------------- deterrence
@pytest.mark.statistical
@pytest.mark.parametrize("p", [1.0, 0.5, 0.25])
def test_expected_fine_at_the_marginal_gain_deters(p, seed):
    # REFERENCES 1.2: deterrence needs p phi >= a - w - b X* - b x* (derived above, 7.875).
    # Asynchronous best replies (revision probability 0.3) contract geometrically to the fixed
    # point; after 300 rounds the chance that any organisation never revised is 16 x 0.7^300.
    def final(rate):
        return lab([commons.QuotaFine(rate)], monitoring=commons.CentralAudit(p)).run(
            300, 2, rng=seed).final["draws"]
    np.testing.assert_allclose(final(1.01 * GAIN / p), Q, atol=1e-6)
    assert np.all(final(0.8 * GAIN / p) > Q + 0.1)


@pytest.mark.statistical
def test_pigouvian_fee(seed):
    # the simulated part converges for any seed, as asynchronous best replies do (above)
    t = commons.pigouvian_fee(GAME)
    np.testing.assert_allclose(t, A * (N - 1) / (2 * N))  # (a - w)(N - 1) / (2N)
    np.testing.assert_allclose(t, B * (N - 1) * Q)
    # with the fee the Nash equilibrium is the optimum (the fee adds to the outside return)
    taxed = commons.CPRGame(N, commons.Quadratic(23, 0.25), W + t[0], 25)
    assert commons.nash_equilibrium(taxed).total == pytest.approx(X_OPT)
    res = lab([commons.UnitFee(t[0])], quota=None).run(300, 2, rng=seed)
    np.testing.assert_allclose(res.final["draws"], Q, atol=1e-6)
    # fees eat the rent: all of it above the outside option goes to the regulator
    assert res.series["regulator_income"][0, -1] == pytest.approx(t[0] * X_OPT)


@given(st.integers(2, 30), st.floats(2, 50), st.floats(0.05, 2), st.floats(0, 0.9))
def test_pigouvian_fee_makes_the_optimum_a_nash_equilibrium(n, a, b, frac):
    w = frac * a
    game = commons.CPRGame(n, commons.Quadratic(a, b), w, 10 * (a - w) / b)
    t = commons.pigouvian_fee(game)
    taxed = commons.CPRGame(n, commons.Quadratic(a, b), w + t[0], game.endowment)
    assert commons.nash_equilibrium(taxed).total == pytest.approx(
        commons.social_optimum(game).total, rel=1e-9)


@pytest.mark.parametrize(("sanctions", "monitoring"), [
    ([], None),
    ([], commons.CentralAudit(0.0)),
    ([commons.QuotaFine(0.0)], commons.PeerMonitoring(0.5, 0.0)),
    ([commons.UnitFee(0.0)], None),
])
def test_a_central_quota_is_external_whatever_acts_after_it(sanctions, monitoring):
    # a fixed quota, set from outside, is an external control; plug-ins acting later that are
    # not external themselves leave the flag as it was
    seen = motivation_after(sanctions, monitoring, quota=commons.FixedQuota(Q))
    np.testing.assert_allclose(seen, [0.8, 0.4, 0.2])


class Spender(commons.Plugin):
    """A probe in the quota slot: the regulator spends 1.5 a round in the monitor phase."""

    role = "quota"
    phases = ("monitor",)
    writes = {"monitor": ("regulator_spending",)}

    def monitor(self, st, ctx):
        st.regulator_spending += 1.5


def test_audit_spending_adds_to_other_spending():
    res = lab(quota=None, monitoring=commons.CentralAudit(1.0, cost=0.5),
              rule=commons.FixedDraw(Q)).run(1, 1, rng=0)
    np.testing.assert_allclose(res.series["regulator_spending"], 0.5 * N)
    model = commons.Model(N, technology=commons.StageGame(GAME), quota=Spender(),
                          monitoring=commons.CentralAudit(1.0, cost=0.5),
                          rule=commons.FixedDraw(Q))
    np.testing.assert_allclose(model.run(1, 1, rng=0).series["regulator_spending"],
                               1.5 + 0.5 * N)


def test_monitoring_defaults_and_isolated_organisations():
    # an audit costs nothing and sees exactly by default
    seen, res = watched(commons.CentralAudit(1.0), np.full(N, Q))
    np.testing.assert_allclose(res.series["regulator_spending"], 0.0)
    np.testing.assert_allclose(seen["observed"], Q)
    # peers: an organisation nobody watches (the last, isolated) is inspected at the base rate
    g = nx.path_graph(N - 1)
    g.add_node(N - 1)
    for by in ("compliance", "count", "trust"):
        seen, _ = watched(commons.PeerMonitoring(0.2, 0.6, by=by), np.full(N, Q), graph=g)
        np.testing.assert_allclose(seen["detect_prob"][:, -1], 0.2, err_msg=by)
        assert np.all(seen["detect_prob"][:, :-1] > 0.2), by


# ---------------------------------------------------------------- what best replies weigh
def posted(sanctions, monitoring, draws=Q, rounds=1, mechanisms=()):
    """penalty_rate and unit_charge after the sanction phase, each round, replicate 0."""
    snap = Snapshot("learn", "penalty_rate", "unit_charge")
    lab(sanctions, monitoring=monitoring, rule=commons.FixedDraw(draws),
        mechanisms=[*mechanisms, snap]).run(rounds, 1, rng=0)
    return snap.stack("penalty_rate")[:, 0], snap.stack("unit_charge")[:, 0]


def test_posted_rates_are_the_expected_charges():
    # QuotaFine posts phi p_i, PoolPunishment its rate p_i, UnitFee its fee per unit drawn
    # (as unit_charge); they add up, to what a covenant posted before them (2 per unit)
    guilt = [commons.Covenant(target=Q, strength=2.0, reciprocity=False)]
    rate, fee = posted([commons.QuotaFine(6.0), commons.PoolPunishment(0.0, 2.0),
                        commons.UnitFee(1.5)], commons.CentralAudit(0.25), mechanisms=guilt)
    np.testing.assert_allclose(rate, 2.0 + (6.0 + 2.0) * 0.25)
    np.testing.assert_allclose(fee, 1.5)
    rate, _ = posted([commons.GraduatedSanction((1.0, 4.0))], commons.CentralAudit(0.5),
                     mechanisms=guilt)
    np.testing.assert_allclose(rate, 2.0 + 4.0 * 0.5)


def test_graduated_sanction_posts_the_top_rate_or_the_next_one():
    # anticipate="top": scale schedule[-1] p; "next": scale schedule[k] p for the k offences on
    # record after this round (organisation 0 offends every round, the others never)
    draws = np.full(N, Q)
    draws[0] = Q + 1.0
    top, _ = posted([commons.GraduatedSanction((1.0, 2.0, 4.0), scale=2.0)],
                    commons.CentralAudit(0.5), draws, rounds=4)
    np.testing.assert_allclose(top, 2.0 * 4.0 * 0.5)
    audit = commons.CentralAudit(1.0)
    nxt, _ = posted([commons.GraduatedSanction((1.0, 2.0, 4.0), scale=2.0, anticipate="next")],
                    audit, draws, rounds=4)
    np.testing.assert_allclose(nxt[:, 0], 2.0 * np.array([2.0, 4.0, 4.0, 4.0]))
    np.testing.assert_allclose(nxt[:, 1:], 2.0 * 1.0)


def test_civic_duty_posts_strength_times_motivation():
    rate, _ = posted([], None, mechanisms=[commons.CivicDuty(3.0)])
    np.testing.assert_allclose(rate, 0.0)   # prosociality 0
    # in either order, civic duty and a covenant's guilt add up
    for first, second in [(0, 1), (1, 0)]:
        posters = [commons.CivicDuty(3.0),
                   commons.Covenant(target=Q, strength=4.0, reciprocity=False)]
        snap = Snapshot("learn", "penalty_rate")
        commons.Model(N, technology=commons.StageGame(GAME), rule=commons.FixedDraw(Q),
                      mechanisms=[posters[first], posters[second], snap],
                      prosociality=0.5).run(1, 1, rng=0)
        np.testing.assert_allclose(snap.stack("penalty_rate"), 4.0 + 3.0 * 0.5)
    snap = Snapshot("learn", "penalty_rate")
    commons.Model(N, technology=commons.StageGame(GAME), rule=commons.FixedDraw(Q),
                  mechanisms=[commons.CivicDuty(3.0), snap],
                  prosociality=np.linspace(0, 1, N)).run(1, 1, rng=0)
    np.testing.assert_allclose(snap.stack("penalty_rate")[0, 0], 3.0 * np.linspace(0, 1, N))


def test_pool_punishment_by_its_definition():
    # contributors (0, 1, 2) pay the fee every round, burned; detected violators are fined the
    # rate per unit seen over the quota, burned; non-contributors pay second_order a round
    draws = np.full(N, Q)
    draws[[0, 5]] = Q + 2.0
    fee, rate, second = 0.5, 3.0, 1.25
    model = lab([commons.PoolPunishment(fee, rate, contributors=[0, 1, 2],
                                        second_order=second)],
                monitoring=commons.CentralAudit(1.0), rule=commons.FixedDraw(draws))
    res = model.run(2, 1, rng=0, record="full")
    gross = GAME.payoffs(draws)
    charge = np.zeros(N)
    charge[:3] += fee
    charge[[0, 5]] += rate * 2.0
    charge[3:] += second
    np.testing.assert_allclose(res.full["payoffs"][0], np.broadcast_to(gross - charge, (2, N)))
    np.testing.assert_allclose(res.series["burned"], charge.sum())
    np.testing.assert_allclose(res.series["costs"], 3 * fee)
    np.testing.assert_allclose(res.series["regulator_income"], 0.0)


# ---------------------------------------------------------------- punishment arithmetic
def test_fehr_gachter_cost_schedule():
    # Fehr & Gächter (2000): c(p) = 0, 1, 2, 4, 6, 9, 12, 16, 20, 25, 30 for p = 0..10
    assert commons.fehr_gachter_cost(np.arange(11)).tolist() == [0, 1, 2, 4, 6, 9, 12, 16, 20,
                                                                 25, 30]


def punishment_round(cost, points, violator_draw=10.0, unit_cost=1.0):
    draws = np.full(N, Q)
    draws[0] = violator_draw
    model = lab([commons.PeerPunishment(points, cost=cost, unit_cost=unit_cost, ratio=3.0)],
                graph=nx.complete_graph(N), rule=commons.FixedDraw(draws))
    res = model.run(1, 1, rng=0, record="full")
    return draws, res.full["payoffs"][0, 0], GAME.payoffs(draws)


@pytest.mark.parametrize("points", [1, 2, 3])
def test_fehr_gachter_punishment_payoffs(points):
    # pi_j = pi1_j max(0, 1 - 0.1 sum_i p_ij) - sum_k c(p_jk): seven punishers hit the violator
    _, pay, pi1 = punishment_round("fehr-gachter", points)
    received = 7 * points
    assert pay[0] == pytest.approx(pi1[0] * max(0.0, 1 - 0.1 * received))
    c = {1: 1, 2: 2, 3: 4}[points]
    np.testing.assert_allclose(pay[1:], pi1[1:] - c)


def test_linear_one_to_three_punishment():
    _, pay, pi1 = punishment_round("linear", 2)
    # each of 7 punishers spends 2 and removes 6 from the violator
    assert pay[0] == pytest.approx(pi1[0] - 7 * 2 * 3)
    np.testing.assert_allclose(pay[1:], pi1[1:] - 2)


def test_antisocial_and_revenge_punishment():
    g = nx.complete_graph(N)
    comply = lab([commons.PeerPunishment(1, antisocial=1.0)], graph=g,
                 rule=commons.FixedDraw(Q)).run(2, 1, rng=0, record="full")
    # everyone complies, yet everyone punishes everyone: each pays 7 and loses 21
    np.testing.assert_allclose(comply.full["payoffs"][0, 0], GAME.payoffs([Q] * N) - 7 - 21)
    draws = np.full(N, Q)
    draws[0] = 10.0
    once = [(OneRound(draws), np.arange(N))]
    rev = lab([commons.PeerPunishment(1, revenge=1.0)], graph=g,
              rule=commons.Mixed(once)).run(2, 1, rng=0, record="full")
    # round 1: nobody violates, but organisation 0 takes revenge on its 7 punishers
    np.testing.assert_allclose(rev.full["payoffs"][0, 1, 0], GAME.payoffs([Q] * N)[0] - 7)
    np.testing.assert_allclose(rev.full["payoffs"][0, 1, 1:], GAME.payoffs([Q] * N)[1] - 3)


@pytest.mark.statistical
def test_punishment_propensities(seed):
    # Each compliant neighbour of violator 0 punishes it with probability ``propensity``; every
    # organisation punishes each compliant neighbour with probability ``antisocial``. With
    # one point costing 1 and removing 10, what organisation i loses, given_i + 10 received_i
    # (given_i <= 7), tells both counts. Statistics: over 500 replicates the violator's
    # punishers are Binomial(3500, 0.3) and the antisocial acts Binomial(24 500, 0.05), each
    # a two-sided binomial test at level 1e-3.
    draws = np.full(N, Q)
    draws[0] = 10.0
    model = lab([commons.PeerPunishment(1, propensity=0.3, antisocial=0.05, ratio=10.0)],
                graph=nx.complete_graph(N), rule=commons.FixedDraw(draws))
    R = 500
    res = model.run(1, R, rng=seed, record="full")
    lost = GAME.payoffs(draws)[None, :] - res.full["payoffs"][:, 0]
    units = np.round(lost).astype(int)
    np.testing.assert_allclose(lost, units, atol=1e-9)
    received, given = units // 10, units % 10
    assert np.all(received <= N - 1)
    punishers = received[:, 0]
    antisocial = given.sum(1) - punishers       # every act but the punishment of 0
    assert stats.binomtest(int(punishers.sum()), 7 * R, 0.3).pvalue > 1e-3
    assert stats.binomtest(int(antisocial.sum()), 49 * R, 0.05).pvalue > 1e-3


def test_fehr_gachter_damage_takes_nothing_from_a_loss():
    # the damage is a share of the target's gross payoff, and a negative gross payoff loses
    # nothing: a h^0.5 - 0.5 x < 0 for x > 4 a^2
    model = commons.Model(3, technology=commons.PrivateConcave(1.0, 0.5, 0.5),
                          network=nx.complete_graph(3), quota=commons.FixedQuota(1.0),
                          sanctions=[commons.PeerPunishment(2, cost="fehr-gachter")],
                          rule=commons.FixedDraw([9.0, 1.0, 1.0]), max_draw=10.0)
    res = model.run(1, 1, rng=0, record="full")
    gross = np.sqrt([9.0, 1.0, 1.0]) - 0.5 * np.array([9.0, 1.0, 1.0])
    assert gross[0] < 0
    # the violator keeps its (negative) gross payoff; each punisher pays c(2) = 2
    np.testing.assert_allclose(res.full["payoffs"][0, 0], gross - np.array([0.0, 2.0, 2.0]))


def test_peer_punishment_defaults_and_costs_per_point():
    # by default one point per violation, a point costing 1 and removing 3, no revenge
    draws = np.full(N, Q)
    draws[0] = 10.0
    once = [(OneRound(draws), np.arange(N))]
    res = lab([commons.PeerPunishment()], graph=nx.complete_graph(N),
              rule=commons.Mixed(once)).run(2, 1, rng=0, record="full")
    pay = res.full["payoffs"][0]
    np.testing.assert_allclose(pay[0], GAME.payoffs(draws) - np.array([21.0] + [1.0] * 7))
    np.testing.assert_allclose(pay[1], GAME.payoffs([Q] * N))      # no revenge
    # a point costing 2 removes 2 x 3; under Fehr–Gächter 2 points cost 2 c(2) = 4
    _, pay, pi1 = punishment_round("linear", 1, unit_cost=2.0)
    np.testing.assert_allclose(pay, pi1 - np.array([7 * 6.0] + [2.0] * 7))
    _, pay, pi1 = punishment_round("fehr-gachter", 2, unit_cost=2.0)
    np.testing.assert_allclose(pay[1:], pi1[1:] - 4.0)


def test_revenge_reaches_every_punisher_and_only_them():
    # organisation 1 overdraws in round 0 and is punished by all 7; in round 1 it takes
    # revenge on each of them (0 included, whose edge comes first)
    draws = np.full(N, Q)
    draws[1] = 10.0
    rev = lab([commons.PeerPunishment(1, revenge=1.0)], graph=nx.complete_graph(N),
              rule=commons.Mixed([(OneRound(draws), np.arange(N))])).run(
        2, 1, rng=0, record="full")
    fair = GAME.payoffs([Q] * N)
    expect = fair - 3.0
    expect[1] = fair[1] - 7.0
    np.testing.assert_allclose(rev.full["payoffs"][0, 1], expect)
    # on a one-way tie nobody can have punished the punisher: no revenge, ever
    g = nx.DiGraph([(0, 1), (2, 1)])
    g.add_nodes_from(range(N))
    calm = lab([commons.PeerPunishment(1, revenge=1.0)], graph=g,
               rule=commons.FixedDraw(Q)).run(3, 1, rng=0, record="full")
    np.testing.assert_allclose(calm.full["payoffs"][0], np.broadcast_to(fair, (3, N)))


@pytest.mark.statistical
def test_antisocial_punishment_and_revenge_are_independent_draws(seed):
    # organisation 1 overdraws in round 0 and is punished by all; in round 1 (all comply) it
    # punishes each of them with probability 1 - (1 - antisocial)(1 - revenge) = 0.65 (0.5
    # if both decisions shared one draw). Points cost 1 and remove 10, so what it loses tells
    # how many it gave. Statistic: its points over 500 replicates, Binomial(3500, 0.65), a
    # two-sided binomial test at level 1e-3.
    draws = np.full(N, Q)
    draws[1] = 10.0
    model = lab([commons.PeerPunishment(1, antisocial=0.3, revenge=0.5, ratio=10.0)],
                graph=nx.complete_graph(N), rule=commons.Mixed([(OneRound(draws),
                                                                  np.arange(N))]))
    R = 500
    res = model.run(2, R, rng=seed, record="full")
    lost = np.round(GAME.payoffs([Q] * N)[1] - res.full["payoffs"][:, 1, 1]).astype(int)
    given = lost % 10
    assert stats.binomtest(int(given.sum()), 7 * R, 0.65).pvalue > 1e-3


class Marker(commons.Plugin):
    """A sanction probe: marks organisation ``k`` sanctioned, recorded and excluded_now."""

    role = "sanction"
    phases = ("sanction",)
    writes = {"sanction": ("sanctioned", "recorded", "excluded_now")}

    def __init__(self, k):
        self.k = k

    def sanction(self, st, ctx):
        st.sanctioned[:, self.k] = True
        st.recorded[:, self.k] = True
        st.excluded_now[:, self.k] = True


@pytest.mark.parametrize("later", [
    lambda: commons.GraduatedSanction((1.0,), exclude_after=1),
    lambda: commons.PoolPunishment(0.0, 1.0),
    lambda: commons.PeerPunishment(1),
    lambda: commons.QuotaFine(1.0),
])
def test_sanctions_add_to_the_marks_others_left(later):
    # organisation 3 (compliant) was marked by an earlier sanction; a later one marks its own
    # violators (organisation 0) and leaves 3's marks
    draws = np.full(N, Q)
    draws[0] = Q + 1.0
    snap = Snapshot("learn", "sanctioned", "recorded", "excluded_now")
    lab([Marker(3), later()], monitoring=commons.CentralAudit(1.0),
        graph=nx.complete_graph(N), rule=commons.FixedDraw(draws), mechanisms=[snap]).run(
        1, 1, rng=0)
    for field in ("sanctioned", "recorded", "excluded_now"):
        marked = snap.stack(field)[0, 0]
        assert marked[3], field
    sanctioned = snap.stack("sanctioned")[0, 0]
    assert sanctioned[0]
    assert not sanctioned[[1, 2, 4, 5, 6, 7]].any()


def test_punishment_marks_the_punished_however_little_it_costs():
    draws = np.full(N, Q)
    draws[0] = Q + 1.0
    snap = Snapshot("learn", "sanctioned")
    lab([commons.PeerPunishment(1, unit_cost=0.01)], graph=nx.complete_graph(N),
        rule=commons.FixedDraw(draws), mechanisms=[snap]).run(1, 1, rng=0)
    np.testing.assert_array_equal(snap.stack("sanctioned")[0, 0], np.arange(N) == 0)


class OneRound(commons.Rule):
    """The given draws in round 0, the quota afterwards."""

    def __init__(self, first):
        self.first = first

    def decide(self, st, ctx):
        st.draws = np.broadcast_to(self.first if st.t == 0 else Q, st.draws.shape).copy()


# ---------------------------------------------------------------- graduated sanctions
def test_graduated_schedule_exclusion_and_forgiveness():
    draws = np.full(N, Q)
    draws[0] = 8.5  # a persistent violator, 4 over the quota, audited every round
    sanction = commons.GraduatedSanction((0.0, 2.0, 5.0), exclude_after=3, exclusion_rounds=2)
    res = lab([sanction], monitoring=commons.CentralAudit(1.0),
              rule=commons.FixedDraw(draws)).run(8, 1, rng=0, record="full")
    fines = res.series["fines"][0]
    # warning, 2 x 4, 5 x 4 and exclusion for two rounds, then the top rate again
    np.testing.assert_allclose(fines[:3], [0.0, 8.0, 20.0])
    np.testing.assert_allclose(res.full["draws"][0, 3:5, 0], 0.0)
    np.testing.assert_allclose(fines[3:5], 0.0)
    assert fines[5] == pytest.approx(20.0)
    np.testing.assert_allclose(res.series["excluded"][0], [0, 0, 0, 1, 1, 0, 1, 1])
    assert res.metrics["peace"][0] == pytest.approx(N - 4 / 8)

    forgiving = commons.GraduatedSanction((0.0, 2.0), forgive_after=2)
    pattern = np.array([8.5, Q, Q, 8.5, 8.5])
    rule = commons.Mixed([(Sequence(pattern), [0]), (commons.FixedDraw(Q), range(1, N))])
    res = lab([forgiving], monitoring=commons.CentralAudit(1.0), rule=rule).run(
        5, 1, rng=0)
    # offence, two clean rounds forgive it: the next offence is a warning again, then fined
    np.testing.assert_allclose(res.series["fines"][0], [0, 0, 0, 0, 8.0])


@pytest.mark.parametrize(("pattern", "fines"), [
    # one clean round does not forgive (forgive_after = 2): the next offence is fined
    ([8.5, Q, 8.5, 8.5], [0, 0, 8.0, 8.0]),
    # two clean rounds forgive one offence of two: the next one is fined, not warned
    ([8.5, 8.5, Q, Q, 8.5], [0, 8.0, 0, 0, 8.0]),
    # forgiveness restarts the count: one more clean round forgives nothing more
    ([8.5, 8.5, Q, Q, Q, 8.5], [0, 8.0, 0, 0, 0, 8.0]),
])
def test_forgiveness_counts_consecutive_clean_rounds(pattern, fines):
    forgiving = commons.GraduatedSanction((0.0, 2.0), forgive_after=2)
    rule = commons.Mixed([(Sequence(pattern), [0]), (commons.FixedDraw(Q), range(1, N))])
    res = lab([forgiving], monitoring=commons.CentralAudit(1.0), rule=rule).run(
        len(pattern), 1, rng=0)
    np.testing.assert_allclose(res.series["fines"][0], fines)


def test_graduated_fines_are_per_unit_over_and_zero_rounds_exclude_nobody():
    # half a unit over at the rate 6: 3; exclude_after with exclusion_rounds = 0 excludes no one
    draws = np.full(N, Q)
    draws[0] = Q + 0.5
    snap = Snapshot("learn", "excluded_now", "exclusion_left")
    res = lab([commons.GraduatedSanction((6.0,), exclude_after=1, exclusion_rounds=0)],
              monitoring=commons.CentralAudit(1.0), rule=commons.FixedDraw(draws),
              mechanisms=[snap]).run(2, 1, rng=0)
    np.testing.assert_allclose(res.series["fines"][0], 3.0)
    np.testing.assert_array_equal(snap.stack("excluded_now"), False)
    np.testing.assert_array_equal(snap.stack("exclusion_left"), 0)
    # the pool's fine likewise, and by default everyone pays its fee and nobody a second-order
    # fine
    res = lab([commons.PoolPunishment(0.25, 6.0)], monitoring=commons.CentralAudit(1.0),
              rule=commons.FixedDraw(draws)).run(1, 1, rng=0)
    np.testing.assert_allclose(res.series["fines"][0], 3.0)
    np.testing.assert_allclose(res.series["costs"][0], 0.25 * N)
    res = lab([commons.PoolPunishment(0.25, 6.0, contributors=[0, 1])],
              monitoring=commons.CentralAudit(1.0), rule=commons.FixedDraw(draws)).run(1, 1, rng=0)
    np.testing.assert_allclose(res.series["fines"][0], 3.0)     # no second-order fines
    np.testing.assert_allclose(res.series["costs"][0], 0.25 * 2)
    # a flat fine of 1 per unit: 0.5, and the half-unit violator is marked, nobody else
    snap = Snapshot("learn", "sanctioned")
    res = lab([commons.QuotaFine(1.0)], monitoring=commons.CentralAudit(1.0),
              rule=commons.FixedDraw(draws), mechanisms=[snap]).run(1, 1, rng=0)
    np.testing.assert_allclose(res.series["fines"][0], 0.5)
    np.testing.assert_array_equal(snap.stack("sanctioned")[0, 0], np.arange(N) == 0)


def test_forgiveness_restarts_the_clean_count():
    # schedule (warning, 2, 5), forgive_after 2: three offences, two clean rounds forgive one
    # (two stay on record), one clean round more forgives nothing, so the next offence pays
    # the top rate: 5 x 4
    pattern = [8.5, 8.5, 8.5, Q, Q, Q, 8.5]
    forgiving = commons.GraduatedSanction((0.0, 2.0, 5.0), forgive_after=2)
    rule = commons.Mixed([(Sequence(pattern), [0]), (commons.FixedDraw(Q), range(1, N))])
    res = lab([forgiving], monitoring=commons.CentralAudit(1.0), rule=rule).run(
        len(pattern), 1, rng=0)
    np.testing.assert_allclose(res.series["fines"][0], [0, 8, 20, 0, 0, 0, 20])


class Sequence(commons.Rule):
    """Draws pattern[t] (the same for every organisation it governs)."""

    def __init__(self, pattern):
        self.pattern = np.asarray(pattern, float)

    def decide(self, st, ctx):
        st.draws = np.full(st.draws.shape, self.pattern[st.t])


@pytest.mark.statistical
def test_graduated_sanctions_deter_at_lower_cost_than_a_flat_fine(seed):
    # Noisy audits (lognormal, sigma = 0.1) wrongly see compliant organisations over the
    # quota. A flat fine and a graduated schedule with the same top rate both deter; the
    # graduated one warns first and forgives, so it collects less from the compliant.
    # Statistics: draws and compliance are exact after round 50 (everyone has revised); the
    # fines of 40 paired replicates are compared by a paired t-test at level 1e-6, and the
    # saving and the efficiency by their means.
    p = 0.5
    top = 1.2 * GAIN / p

    def run(sanction):
        r = lab([sanction], monitoring=commons.CentralAudit(p, noise=0.1),
                initial=8.0).run(200, 40, rng=seed)
        s = r.series
        return (s["mean_draw"][:, 50:].mean(1), s["compliance"][:, 50:].mean(1),
                s["fines"][:, 50:].mean(1), r.metrics["efficiency"])

    flat = run(commons.QuotaFine(top))
    grad = run(commons.GraduatedSanction((0.0, top / 2, top), forgive_after=2))
    for f, g in zip(flat[:2], grad[:2], strict=True):       # equal deterrence
        np.testing.assert_allclose(f, Q if f is flat[0] else 1.0, atol=1e-9)
        np.testing.assert_allclose(g, f, atol=1e-9)
    saving = 1 - grad[2].mean() / flat[2].mean()
    print(f"fines per round: flat {flat[2].mean():.2f}, graduated {grad[2].mean():.2f} "
          f"({100 * saving:.0f} % less); efficiency {flat[3].mean():.3f} vs "
          f"{grad[3].mean():.3f}")
    assert stats.ttest_rel(flat[2], grad[2]).pvalue < 1e-6
    assert saving > 0.2
    assert grad[3].mean() > flat[3].mean()


# ---------------------------------------------------------------- directions of the evidence
@pytest.mark.statistical
def test_sanctions_alone_raise_gross_yield_but_fines_eat_the_gain(seed):
    # Ostrom, Walker & Gardner (1992): sanctioning without communication raised gross yield
    # but fees and fines ate much of the gain (25 tokens: 21 % -> 37 % gross, 9 % net).
    # Statistics: a two-sample t-test on the gross yield of 60 replicates per arm (level
    # 1e-3), and the share of the gain eaten, from the means.
    g = nx.complete_graph(N)
    tail = slice(150, 300)

    def run(sanctions):
        r = lab(sanctions, graph=g, rule=commons.ReviseOrImitate(0.1, 1.0, 0.5),
                trust=commons.ComplianceTrust(0.0, 1.0)).run(300, 60, rng=seed)
        s = r.series
        net = s["rent"][:, tail].mean(1) / 324
        gross = (s["rent"] + s["fines"] + s["costs"])[:, tail].mean(1) / 324
        return gross, net

    g0, n0 = run([])
    g1, n1 = run([commons.PeerPunishment(1, unit_cost=1.0, ratio=4.0)])  # fee:fine 1:4
    gain, net_gain = g1.mean() - g0.mean(), n1.mean() - n0.mean()
    print(f"gross yield {g0.mean():.3f} -> {g1.mean():.3f}, net {n0.mean():.3f} -> "
          f"{n1.mean():.3f}; fines and fees eat {100 * (gain - net_gain) / gain:.0f} % of the "
          "gain")
    assert stats.ttest_ind(g1, g0).pvalue < 1e-3
    assert gain > 0
    assert gain - net_gain >= 0.5 * gain


@pytest.mark.statistical
def test_cheaper_appeals_leave_fewer_wrongful_sanctions(seed):
    # statistic: one-sided Wilcoxon signed-rank tests on the wrongful sanctions standing per
    # round in 30 paired replicates (the same seeds in every arm), at level 1e-3
    def wrongful(appeal):
        sanctions = [commons.QuotaFine(40.0)] + ([appeal] if appeal else [])
        r = lab(sanctions, monitoring=commons.CentralAudit(0.5, noise=0.2), initial=Q).run(
            100, 30, rng=seed)
        return r.series["wrongful"].mean(1)

    none, expensive, cheap = wrongful(None), wrongful(commons.Appeal(10.0)), \
        wrongful(commons.Appeal(0.5))
    print(f"wrongful sanctions standing per round: none {none.mean():.3f}, expensive appeal "
          f"{expensive.mean():.3f}, cheap appeal {cheap.mean():.3f}")
    assert stats.wilcoxon(expensive, cheap, alternative="greater").pvalue < 1e-3
    assert stats.wilcoxon(none, expensive, alternative="greater").pvalue < 1e-3


# ---------------------------------------------------------------- appeals, by their definition
def appeal_round(appeal, *, rounds=3, misread=(0,), excess=1.0, draws=Q):
    """Everyone draws the quota; ``misread`` organisations are seen ``excess`` over it and
    sanctioned by a one-step schedule of 10 per unit that also excludes for 2 rounds."""
    seen = ("offences", "exclusion_left", "sanctioned") + (("appealed",) if appeal else ())
    snap = Snapshot("learn", *seen)
    sanctions = [commons.GraduatedSanction((10.0,), exclude_after=1, exclusion_rounds=2)]
    if appeal is not None:
        sanctions.append(appeal)
    model = lab(sanctions, monitoring=Misread(misread, excess), rule=commons.FixedDraw(draws),
                mechanisms=[snap])
    return model.run(rounds, 2, rng=0, record="full"), snap


def test_without_an_appeal_a_wrongful_sanction_stands():
    res, snap = appeal_round(None)
    # fined 10 per unit seen over the quota, put on record, excluded for the next two rounds
    assert res.series["fines"][0, 0] == pytest.approx(10.0)
    np.testing.assert_array_equal(snap.stack("offences")[0, :, 0], 1)
    np.testing.assert_array_equal(res.series["excluded"][0], [0, 1, 1])
    np.testing.assert_allclose(res.full["draws"][:, 1:3, 0], 0.0)


@pytest.mark.parametrize("recipient", ["regulator", "burned", "members"])
def test_a_won_appeal_refunds_strikes_the_record_and_lifts_the_exclusion(recipient):
    # Appeal: a compliant organisation charged more than the fee appeals; a won appeal
    # refunds the round's fines, removes the offence from the record and lifts an exclusion
    # imposed this round; the appellant pays the fee to ``recipient``
    fee = 0.5
    res, snap = appeal_round(commons.Appeal(fee, accuracy=1.0, recipient=recipient))
    s = res.series
    np.testing.assert_array_equal(snap.stack("appealed")[:, :, 0], True)
    np.testing.assert_array_equal(snap.stack("appealed")[:, :, 1:], False)
    np.testing.assert_array_equal(snap.stack("offences"), 0)          # record struck
    np.testing.assert_array_equal(snap.stack("exclusion_left"), 0)    # exclusion lifted
    np.testing.assert_array_equal(snap.stack("sanctioned"), False)
    np.testing.assert_array_equal(s["excluded"], 0)
    np.testing.assert_allclose(res.full["draws"], Q)                  # it keeps drawing
    np.testing.assert_allclose(s["fines"], 0.0)                       # fine refunded
    np.testing.assert_allclose(s["costs"], fee)                       # the fee is paid
    income = {"regulator": s["regulator_income"], "burned": s["burned"]}
    for who, got in income.items():
        np.testing.assert_allclose(got, fee if who == recipient else 0.0, err_msg=who)
    # over the run, per replicate
    np.testing.assert_allclose(res.metrics["burned"], [3 * fee * (recipient == "burned")] * 2)
    np.testing.assert_allclose(res.metrics["regulator_net"],
                               [3 * fee * (recipient == "regulator")] * 2)
    gross = GAME.payoffs(np.full(N, Q))
    pay = res.full["payoffs"]
    shared = fee / N if recipient == "members" else 0.0
    np.testing.assert_allclose(pay[:, :, 0], gross[0] - fee + shared)
    np.testing.assert_allclose(pay[:, :, 1:], np.broadcast_to(gross[1:] + shared, (2, 3, N - 1)))


def test_a_lost_appeal_costs_the_fee_and_leaves_the_sanction_standing():
    fee = 0.5
    res, snap = appeal_round(commons.Appeal(fee, accuracy=0.0, recipient="burned"), rounds=1)
    np.testing.assert_array_equal(snap.stack("appealed")[0, :, 0], True)
    np.testing.assert_array_equal(snap.stack("offences")[0, :, 0], 1)
    np.testing.assert_array_equal(snap.stack("exclusion_left")[0, :, 0], 2)
    np.testing.assert_array_equal(snap.stack("sanctioned")[0, :, 0], True)
    np.testing.assert_allclose(res.series["fines"], 10.0)
    np.testing.assert_allclose(res.series["burned"], fee)
    np.testing.assert_allclose(res.series["regulator_income"], 10.0)


@pytest.mark.parametrize(("fee", "appeals"), [(9.99, True), (10.0, False), (12.0, False)])
def test_only_a_sanction_dearer_than_the_fee_is_appealed(fee, appeals):
    # the wrongful fine is 10: appealing pays only when it exceeds the fee
    res, snap = appeal_round(commons.Appeal(fee, recipient="burned"), rounds=1)
    np.testing.assert_array_equal(snap.stack("appealed")[0, :, 0], appeals)
    np.testing.assert_allclose(res.series["burned"], fee if appeals else 0.0)
    np.testing.assert_allclose(res.series["fines"], 0.0 if appeals else 10.0)


def test_the_fee_is_weighed_against_fines_only():
    # the appeal is against the fine (10); a fee of 10.5 exceeds it even though the round's
    # other charges (a unit fee of 0.5 on 4.5 drawn) bring the total above 10.5
    snap = Snapshot("learn", "appealed")
    model = lab([commons.GraduatedSanction((10.0,)), commons.UnitFee(0.5),
                 commons.Appeal(10.5, recipient="burned")],
                monitoring=Misread([0]), rule=commons.FixedDraw(Q), mechanisms=[snap])
    res = model.run(1, 1, rng=0)
    np.testing.assert_array_equal(snap.stack("appealed"), False)
    np.testing.assert_allclose(res.series["fines"], 10.0)


def test_a_won_appeal_strikes_only_the_offence_it_overturns():
    # organisation 0 overdraws in round 0 (a true offence, kept on record) and is misread in
    # round 1 (a wrongful one, struck on appeal): one offence stays on record
    snap = Snapshot("learn", "offences", "appealed")
    rule = commons.Mixed([(Sequence([Q + 1.0, Q, Q]), [0]),
                          (commons.FixedDraw(Q), range(1, N))])
    model = lab([commons.GraduatedSanction((10.0,)), commons.Appeal(0.5)],
                monitoring=Misread([0], excess=0.5), rule=rule, mechanisms=[snap])
    model.run(3, 1, rng=0)
    np.testing.assert_array_equal(snap.stack("appealed")[:, 0, 0], [False, True, True])
    np.testing.assert_array_equal(snap.stack("offences")[:, 0, 0], [1, 1, 1])


def test_the_guilty_do_not_appeal():
    # organisation 0 really overdraws (by 1): it is sanctioned and does not appeal
    draws = np.full(N, Q)
    draws[0] = Q + 1.0
    res, snap = appeal_round(commons.Appeal(0.5, recipient="burned"), rounds=1, misread=(),
                             draws=draws)
    np.testing.assert_array_equal(snap.stack("appealed"), False)
    np.testing.assert_array_equal(snap.stack("offences")[0, :, 0], 1)
    np.testing.assert_allclose(res.series["fines"], 10.0)
    np.testing.assert_allclose(res.series["burned"], 0.0)


@pytest.mark.statistical
def test_appeals_succeed_at_their_accuracy(seed):
    # Each of the 400 x 3 wrongful sanctions is overturned independently with probability
    # ``accuracy``; the count of won appeals is Binomial(1200, 0.3): a two-sided binomial test
    # at level 1e-3.
    snap = Snapshot("learn", "sanctioned", "appealed")
    sanctions = [commons.QuotaFine(10.0), commons.Appeal(0.5, accuracy=0.3)]
    model = lab(sanctions, monitoring=Misread([0, 1, 2]), rule=commons.FixedDraw(Q),
                mechanisms=[snap])
    model.run(1, 400, rng=seed)
    appealed = snap.stack("appealed")[0, :, :3]
    won = appealed & ~snap.stack("sanctioned")[0, :, :3]
    assert appealed.all()
    assert stats.binomtest(int(won.sum()), won.size, 0.3).pvalue > 1e-3


def test_closed_boundary():
    # enforcement 1 (the default) turns every outsider away; no members given: all are members
    for boundary in (commons.Boundary([0, 1, 2, 3], enforcement=1.0),
                     commons.Boundary([0, 1, 2, 3])):
        closed = lab(mechanisms=[boundary], rule=commons.FixedDraw(Q)).run(
            10, 2, rng=0, record="full")
        np.testing.assert_allclose(closed.full["draws"][:, :, 4:], 0.0)
        np.testing.assert_allclose(closed.full["draws"][:, :, :4], Q)
    open_ = lab(mechanisms=[commons.Boundary(None)], rule=commons.FixedDraw(Q)).run(
        10, 2, rng=0, record="full")
    np.testing.assert_allclose(open_.full["draws"], Q)


@pytest.mark.statistical
def test_leaky_boundary(seed):
    leaky = lab(mechanisms=[commons.Boundary([0, 1, 2, 3], enforcement=0.3)],
                rule=commons.FixedDraw(Q)).run(400, 5, rng=seed, record="full")
    # statistic: the share refused of 8000 attempts by outsiders, standard error 0.0051; the
    # tolerance is 3.9 of them
    refused = (leaky.full["draws"][:, :, 4:] == 0).mean()
    assert refused == pytest.approx(0.3, abs=0.02)


# ---------------------------------------------------------------- bad input
def audit():
    return commons.CentralAudit(0.5)


@pytest.mark.parametrize(("build", "exc", "match"), [
    (lambda: lab([commons.QuotaFine(-1.0)], monitoring=audit()).run(2), ValueError,
     "rate must be >= 0"),
    (lambda: lab(monitoring=commons.CentralAudit(1.5)).run(2), ValueError,
     r"probability must be in \[0, 1\]"),
    (lambda: commons.GraduatedSanction((1.0, -2.0)), ValueError,
     "schedule must be a sequence of non-negative numbers"),
    (lambda: commons.GraduatedSanction("steep"), ValueError,
     "schedule must be a sequence of non-negative numbers"),
    (lambda: commons.GraduatedSanction(()), ValueError, "schedule must be"),
    (lambda: lab([commons.PeerPunishment()]).run(2), ValueError,
     "PeerPunishment needs a network with edges"),
    (lambda: commons.PeerPunishment(11, cost="fehr-gachter"), ValueError,
     "^points must be <= 10 with the Fehr–Gächter schedule, got 11$"),
    (lambda: commons.PeerPunishment(-1), ValueError, "^points must be >= 0"),
    (lambda: commons.PeerPunishment(cost="quadratic"), ValueError,
     "^cost must be 'linear' or 'fehr-gachter', got 'quadratic'$"),
    (lambda: commons.GraduatedSanction(exclude_after=0), ValueError,
     "^exclude_after must be >= 1"),
    (lambda: commons.GraduatedSanction(exclusion_rounds=-1), ValueError,
     "^exclusion_rounds must be >= 0"),
    (lambda: commons.GraduatedSanction(forgive_after=0), ValueError,
     "^forgive_after must be >= 1"),
    (lambda: commons.GraduatedSanction(anticipate="last"), ValueError,
     "^anticipate must be 'top' or 'next', got 'last'$"),
    (lambda: lab([commons.Appeal(1.0), commons.QuotaFine(1.0)], monitoring=audit()),
     commons.FlowError,
     "Appeal .* must act after every plug-in that writes 'sanctioned'.*QuotaFine"),
    (lambda: lab([commons.PoolPunishment(1.0, 1.0, contributors=[9])], monitoring=audit()).run(2),
     ValueError, "contributors must hold organisation indices"),
    (lambda: lab([commons.QuotaFine(1.0)]), commons.FlowError,
     "QuotaFine .* reads 'detected', which no plug-in of this model writes: add monitoring"),
    (lambda: lab(monitoring=commons.QuotaFine(1.0)), TypeError,
     "monitoring takes a plug-in with role 'monitoring'.*got QuotaFine.*sanctions="),
    (lambda: lab([commons.FixedQuota(4.0)]), TypeError,
     r"sanctions\[...\] takes a plug-in with role 'sanction'.*FixedQuota.*quota="),
    (lambda: commons.Model(N, technology=commons.StageGame(GAME), sanctions=commons.QuotaFine(1.0),
                           monitoring=commons.CentralAudit(0.5)), TypeError,
     r"sanctions takes a list of plug-ins, got a single QuotaFine"),
    (lambda: commons.QuotaFine(1.0, recipient="charity"), ValueError, "recipient must be"),
    (lambda: lab(mechanisms=[commons.Boundary([0], enforcement=2.0)]).run(2), ValueError,
     r"enforcement must be in \[0, 1\]"),
    (lambda: lab(mechanisms=[commons.Boundary([0, 9])]).run(2), ValueError,
     "members must hold organisation indices"),
    (lambda: lab([commons.QuotaFine(1.0), commons.Appeal(-1.0)], monitoring=audit()).run(2),
     ValueError, "cost must be >= 0"),
    (lambda: lab([commons.QuotaFine(1.0), commons.Appeal(1.0, accuracy=1.5)],
                 monitoring=audit()).run(2), ValueError, r"accuracy must be in \[0, 1\]"),
    (lambda: lab([commons.QuotaFine(1.0), commons.Appeal(1.0, accuracy=-0.5)],
                 monitoring=audit()).run(2), ValueError, r"accuracy must be in \[0, 1\]"),
])
def test_bad_sanction_input(build, exc, match):
    with pytest.raises(exc, match=match):
        build()
