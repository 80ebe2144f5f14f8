"""Decision rules and the plug-in declarations."""

import networkx as nx
import numpy as np
import pytest

import commons

GAME = commons.CPRGame(6, commons.Quadratic(23, 0.25), 5, 25)


def stage(rule, graph=None, **kw):
    return commons.Model(6, technology=commons.StageGame(GAME), rule=rule, network=graph, **kw)


def test_fixed_nash_and_optimum_rules():
    nash = commons.nash_equilibrium(GAME)
    commons.social_optimum(GAME)
    r = stage(commons.PlayNash()).run(5, 2, rng=0, record="full")
    np.testing.assert_allclose(r.full["draws"], np.broadcast_to(nash.draws, (2, 5, 6)))
    np.testing.assert_allclose(r.metrics["efficiency"], nash.efficiency)
    r = stage(commons.PlayOptimum()).run(5, 1, rng=0)
    np.testing.assert_allclose(r.metrics["efficiency"], 1.0)
    r = stage(commons.FixedDraw([1, 2, 3, 4, 5, 6])).run(3, 1, rng=0, record="full")
    np.testing.assert_allclose(r.full["draws"][0, -1], [1, 2, 3, 4, 5, 6])


def test_grim_trigger_punishes_forever_after_one_defection():
    opt = commons.social_optimum(GAME).draws
    nash = commons.nash_equilibrium(GAME).draws
    defect = np.zeros(6, bool)
    defect[0] = True
    # organisation 0 defects once in round 0 (draws 20), then cooperates
    seq = commons.Mixed([(commons.Trigger(scope="all"), ~defect),
                         (OneShotDefector(opt[0], 20.0), defect)])
    r = stage(seq).run(6, 1, rng=0, record="full")
    x = r.full["draws"][0]
    np.testing.assert_allclose(x[0, 1:], opt[1:])            # round 0: cooperation
    for t in range(1, 6):
        np.testing.assert_allclose(x[t, 1:], nash[1:])       # then Nash forever


def test_forgiving_trigger_returns_to_cooperation():
    opt = commons.social_optimum(GAME).draws
    nash = commons.nash_equilibrium(GAME).draws
    defect = np.arange(6) == 0
    seq = commons.Mixed([(commons.Trigger(scope="all", punish_rounds=2), ~defect),
                         (OneShotDefector(opt[0], 20.0), defect)])
    x = stage(seq).run(6, 1, rng=0, record="full").full["draws"][0]
    np.testing.assert_allclose(x[1, 1:], nash[1:])
    np.testing.assert_allclose(x[2, 1:], nash[1:])
    np.testing.assert_allclose(x[3, 1:], opt[1:])


class OneShotDefector(commons.Rule):
    """Draws ``defect`` in round 0 and ``cooperate`` afterwards."""

    def __init__(self, cooperate, defect):
        self.cooperate, self.defect = cooperate, defect

    def decide(self, st, ctx):
        st.draws = np.full(st.draws.shape, self.defect if st.t == 0 else self.cooperate)


def test_conditional_cooperation_holds_when_all_comply_and_drifts_when_not():
    g = nx.complete_graph(6)
    quota = commons.FixedQuota(4.5)
    r = stage(commons.ConditionalCooperation(), g, quota=quota,
              initial_draws=4.5).run(10, 1, rng=0, record="full")
    np.testing.assert_allclose(r.full["draws"][0], 4.5)
    # with a permanent overdrawer among them, cooperators drift toward the Nash draw
    # (a - w) / (b (N + 1)) = 18 / 1.75
    over = np.arange(6) == 0
    mixed = commons.Mixed([(commons.ConditionalCooperation(threshold=1.0), ~over),
                           (commons.FixedDraw(20.0), over)])
    r = stage(mixed, g, quota=commons.FixedQuota(4.5), initial_draws=4.5).run(
        40, 1, rng=0, record="full")
    assert np.all(np.diff(r.full["draws"][0, 1:, 1]) >= -1e-12)
    assert r.full["draws"][0, -1, 1] == pytest.approx(18 / 1.75, abs=0.05)


def test_logit_response_at_low_temperature_picks_the_best_grid_point():
    # others at Nash: the exact best reply is the Nash draw (a - w) / (b (N + 1)) = 18 / 1.75,
    # and on the grid {0, 1.25, ..., 25} the best point is the one nearest it (the payoff is
    # quadratic in the own draw, so symmetric around the best reply)
    game = commons.CPRGame(6, commons.Quadratic(23, 0.25), 5, 25)
    nash = commons.nash_equilibrium(game).draws
    one = np.arange(6) == 0
    rule = commons.Mixed([(commons.LogitResponse(temperature=1e-3, grid=21), one),
                          (commons.PlayNash(), ~one)])
    r = commons.Model(6, technology=commons.StageGame(game), rule=rule,
                      initial_draws=nash).run(3, 4, rng=1, record="full")
    grid = np.linspace(0, 25, 21)
    best = grid[np.argmin(np.abs(grid - 18 / 1.75))]
    np.testing.assert_allclose(r.full["draws"][:, 1:, 0], best)


@pytest.mark.statistical
def test_roth_erev_settles_where_its_mean_field_says(seed):
    # One organisation, levels g = 0..4, payoffs pi_k = sqrt(g) - g / 2 = 0, 0.5, 0.41, 0.23, 0
    # (reinforcement r = pi, the lowest payoff being 0). Taking expectations of the update,
    # the choice probabilities settle where phi q_k = (1 - eps) p_k pi_k + eps / (G - 1)
    # (Pi - p_k pi_k), Pi = sum_l p_l pi_l the mean payoff; summing gives Q = Pi / phi, so
    # p_k = eps Pi / ((G - 1)(Pi - c pi_k)), c = 1 - eps G / (G - 1), with Pi fixed by
    # sum_k p_k = 1: Pi = 0.452, p = (0.025, 0.778, 0.126, 0.045, 0.025).
    # Statistics: over the last 100 rounds of 50 replicates, the mean payoff (standard error
    # about 0.003; the mean-field value ignores fluctuations, which cost about 0.005) and
    # the share of each level: the experimented-only levels 0 and 4 at eps / (G - 1) = 0.025
    # (within 0.012), the others in the mean field's order (fluctuations move some of level
    # 1's share, 0.67-0.77 over seeds, to level 2).
    from scipy.optimize import brentq
    G, eps, phi = 5, 0.1, 0.05
    pi = np.sqrt(np.arange(G)) - 0.5 * np.arange(G)
    c = 1 - eps * G / (G - 1)
    share = lambda P: eps / (G - 1) * P / (P - c * pi)  # noqa: E731
    Pi = brentq(lambda P: share(P).sum() - 1, c * pi.max() + 1e-12, 1.0)
    p = share(Pi)
    assert Pi == pytest.approx(0.452, abs=1e-3)
    model = commons.Model(1, technology=commons.PrivateConcave(1.0, 0.5, 0.5),
                          rule=commons.RothErev(grid=G, recency=phi, experimentation=eps),
                          max_draw=4.0)
    r = model.run(400, 50, rng=seed, record="full")
    late = r.full["payoffs"][:, -100:]
    assert late.mean() == pytest.approx(Pi, abs=0.02)
    levels = r.full["draws"][:, -100:]
    seen = np.array([(levels == k).mean() for k in range(G)])
    np.testing.assert_allclose(seen[[0, -1]], p[[0, -1]], atol=0.012)  # experimentation only
    assert seen[1] > 0.5
    assert seen[1] > seen[2] > seen[3] > max(seen[0], seen[4])
    np.testing.assert_allclose(seen, p, atol=0.2)
    assert r.full["payoffs"][:, :50].mean() < Pi - 0.05   # it learns: early play is worse


@pytest.mark.statistical
def test_prosocial_organisations_draw_less(seed):
    # asynchronous best replies (revision probability 0.3) converge for any seed: after 300
    # rounds the chance that one of the 12 organisations never revised is 12 x 0.7^300
    nash = commons.nash_equilibrium(GAME).total
    selfish = stage(commons.BestResponse(0.3)).run(300, 2, rng=seed)
    kind = stage(commons.BestResponse(0.3), prosociality=1.0).run(300, 2, rng=seed)
    # theta = 1: each maximises the group mean, so the group draw goes to the optimum X* = 36
    assert selfish.final["draws"].sum(1) == pytest.approx([nash] * 2, rel=1e-6)
    assert kind.final["draws"].sum(1) == pytest.approx([36.0] * 2, rel=1e-6)


@pytest.mark.statistical
def test_quota_fine_deters_at_the_pigouvian_rate(seed):
    # REFERENCES 1.2: an expected fine per unit over the quota at least the marginal private
    # gain at the optimum, a - w - b X* - b x*, makes the optimum the best-response fixed
    # point; below it, play drifts above the quota (asynchronous best replies converge for
    # any seed, as above)
    a, b, w, n = 23, 0.25, 5, GAME.n
    X_opt = (a - w) / (2 * b)
    q = X_opt / n

    def run(rate):
        m = stage(commons.BestResponse(0.3), quota=commons.FixedQuota(q),
                  monitoring=commons.CentralAudit(1.0), sanctions=[commons.QuotaFine(rate)])
        return m.run(300, 2, rng=seed).final["draws"]

    threshold = a - w - b * X_opt - b * q
    np.testing.assert_allclose(run(threshold * 1.01), q, atol=1e-6)
    assert np.all(run(threshold * 0.8) > q + 0.1)


def test_mixed_rule_validation():
    with pytest.raises(ValueError, match="have no rule"):
        stage(commons.Mixed([(commons.PlayNash(), [0, 1])])).run(2)
    with pytest.raises(ValueError, match="assigned to two rules"):
        stage(commons.Mixed([(commons.PlayNash(), [0, 1, 2, 3, 4, 5]),
                             (commons.PlayOptimum(), [0])])).run(2)
    with pytest.raises(TypeError, match="needs a decision rule"):
        commons.Mixed([("nash", [0])])


def test_declared_metadata_holds():
    # budget-balanced plug-ins move no money out of the group: with only those, the rent is
    # exactly the gross production (no fines, no costs, transfers summing to zero)
    g = nx.cycle_graph(6)
    m = stage(commons.ReviseOrImitate(0.5, 0.1), g, trust=commons.ComplianceTrust(0.2),
              quota=commons.FixedQuota(4.0))
    assert all(p.budget_balanced for p in m.all_plugins())
    r = m.run(30, 3, rng=1, record="full")
    gross = GAME.payoffs(r.full["granted"], check=False) - GAME.outside_return * GAME.endowment
    np.testing.assert_allclose(r.series["rent"], gross.sum(-1), rtol=1e-12)
    assert np.all(r.series["fines"] == 0)
    # a plug-in declared stochastic draws from its stream: different seeds, different runs
    a = m.run(30, 1, rng=1, record="full").full["draws"]
    b = m.run(30, 1, rng=2, record="full").full["draws"]
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("engine", ["numba", "numpy"])
@pytest.mark.parametrize("rule", [lambda: commons.BestResponse(1.0, noise=0.0),
                                  lambda: commons.ReviseOrImitate(1.0, noise=0.0)])
def test_a_noise_free_revision_takes_the_private_optimum(rule, engine):
    # PrivateConcave with nothing shared: organisation i's best reply is its private optimum
    # (a_i beta / c)**(1/(1-beta)) = a_i**2 at beta = c = 1/2, taken as it is without noise
    # (and capped at the largest draw, 3)
    a = np.array([0.6, 0.9, 1.2, 1.5, 1.8])
    model = commons.Model(5, resource=commons.NoStock(),
                          technology=commons.PrivateConcave(a, 0.5, 0.5), rule=rule(),
                          max_draw=3.0, initial_draws=0.1)
    run = model.run(4, 3, rng=11, record="full", engine=engine)
    best = np.minimum(a**2, 3.0)
    np.testing.assert_allclose(run.full["draws"][:, 1:], np.broadcast_to(best, (3, 3, 5)),
                               rtol=1e-14)
