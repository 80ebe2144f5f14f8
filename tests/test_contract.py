"""The plug-in contract: every built-in plug-in honours its declarations, and the checker
catches plug-ins that do not."""

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import commons
from commons.sim import plugin as plugin_module
from commons.sim._jit import jitable
from commons.sim.plugin import compiled
from commons.testing import ContractError, check_plugin

GAME = commons.CPRGame(12, commons.Quadratic(23, 0.25), 5, 25)
HALF = list(range(6))


class PluginContract:
    """Every plug-in's contract test inherits this class (as Axelrod's TestPlayer): each
    subclass names the plug-in class and gives instances covering its options."""

    cls: type
    examples: tuple = ()

    def instances(self):
        return [make() for make in self.examples]

    def test_honours_its_declarations(self):
        for p in self.instances():
            report = check_plugin(p)
            assert set(report.calls) == set(p.phases)

    def test_is_registered_with_its_classifier(self):
        assert self.cls in commons.plugins(role=self.cls.role)
        for p in self.instances():
            for phase in p.phases:
                assert self.cls in commons.plugins(phase=phase)


def _case(cls, *examples):
    return type(f"Test{cls.__name__}", (PluginContract,), {"cls": cls, "examples": examples})


CASES = [
    _case(commons.QuotaFine, lambda: commons.QuotaFine(3.0),
          lambda: commons.QuotaFine(3.0, recipient="members")),
    _case(commons.UnitFee, lambda: commons.UnitFee(0.5),
          lambda: commons.UnitFee(0.5, recipient="burned")),
    _case(commons.GraduatedSanction,
          lambda: commons.GraduatedSanction((0.0, 1.0, 3.0), exclude_after=2,
                                            exclusion_rounds=1, forgive_after=1),
          lambda: commons.GraduatedSanction(recipient="members", anticipate="next")),
    _case(commons.PoolPunishment, lambda: commons.PoolPunishment(0.1, 2.0, contributors=HALF,
                                                                 second_order=0.5)),
    _case(commons.PeerPunishment, lambda: commons.PeerPunishment(2, antisocial=0.2, revenge=0.5),
          lambda: commons.PeerPunishment(3, cost="fehr-gachter")),
    _case(commons.Appeal, lambda: commons.Appeal(0.01, accuracy=0.8)),
    _case(commons.CentralAudit, lambda: commons.CentralAudit(0.5, cost=0.1, noise=0.2)),
    _case(commons.PeerMonitoring, lambda: commons.PeerMonitoring(0.2, 0.5, by="trust", cost=0.1),
          lambda: commons.PeerMonitoring(0.2, 0.5, by="count")),
    _case(commons.StockShareQuota, lambda: commons.StockShareQuota(0.05)),
    _case(commons.FixedQuota, lambda: commons.FixedQuota(0.5)),
    _case(commons.QuotaVote, lambda: commons.QuotaVote("median", places=[0] * 6 + [1] * 6,
                                                       autonomy=0.5, every=2),
          lambda: commons.QuotaVote("unanimity", congruent=False, voters=HALF)),
    _case(commons.Regulator, lambda: commons.Regulator(0.5, stance="overriding", rounds=[1, 2]),
          lambda: commons.Regulator(0.5)),
    _case(commons.Boundary, lambda: commons.Boundary(HALF, enforcement=0.7)),
    _case(commons.Meetings, lambda: commons.Meetings(0.1, 0.5),
          lambda: commons.Meetings(0.1, 0.5, by="distance")),
    _case(commons.Covenant, lambda: commons.Covenant(rounds=[0, 3], audience="met"),
          lambda: commons.Covenant(binding=False, reciprocity=False)),
    _case(commons.Gossip, lambda: commons.Gossip(see=0.6, tell=0.6, cost=0.2),
          lambda: commons.Gossip()),
    _case(commons.MutualSupport, lambda: commons.MutualSupport(0.3),
          lambda: commons.MutualSupport(0.3, reference="mean")),
    _case(commons.CivicDuty, lambda: commons.CivicDuty(1.0)),
    _case(commons.CrowdingOut, lambda: commons.CrowdingOut(0.2, 0.1)),
    _case(commons.ComplianceTrust, lambda: commons.ComplianceTrust(0.2, 0.6)),
    _case(commons.LogisticStock, lambda: commons.LogisticStock(100.0, 0.3, shock_prob=0.3,
                                                               shock_size=0.2)),
    _case(commons.CareBudget, lambda: commons.CareBudget(10.0, growth=0.01, carry_over=0.5)),
    _case(commons.LakeStock, lambda: commons.LakeStock()),
    _case(commons.NoStock, lambda: commons.NoStock()),
    _case(commons.PrivateConcave, lambda: commons.PrivateConcave(1.0, 0.5, 0.5, need_growth=0.02)),
    _case(commons.StageGame, lambda: commons.StageGame(GAME),
          lambda: commons.StageGame(commons.CPRGame(12, commons.Power(20, 0.6), 5, 25)),
          lambda: commons.StageGame(commons.CPRGame(12, commons.Exponential(150, 0.02), 5,
                                                    25))),
    _case(commons.Fishery, lambda: commons.Fishery(1.0, 0.01, 0.3)),
    _case(commons.LakeDamage, lambda: commons.LakeDamage(0.4, 1.0)),
    _case(commons.BestResponse, lambda: commons.BestResponse(0.5, noise=0.2)),
    _case(commons.LogitResponse, lambda: commons.LogitResponse(0.5, grid=9)),
    _case(commons.SmithEntry, lambda: commons.SmithEntry(0.1)),
    _case(commons.Imitation, lambda: commons.Imitation(5.0)),
    _case(commons.ReviseOrImitate, lambda: commons.ReviseOrImitate()),
    _case(commons.RothErev, lambda: commons.RothErev(grid=5)),
    _case(commons.ConditionalCooperation, lambda: commons.ConditionalCooperation(),
          lambda: commons.ConditionalCooperation(cooperate=0.5, threshold=0.8, drift=0.5)),
    _case(commons.Trigger, lambda: commons.Trigger(punish_rounds=2),
          lambda: commons.Trigger(scope="all")),
    _case(commons.FixedDraw, lambda: commons.FixedDraw(commons.Uniform(0.0, 1.0))),
    _case(commons.PlayNash, lambda: commons.PlayNash()),
    _case(commons.PlayOptimum, lambda: commons.PlayOptimum()),
    _case(commons.Mixed, lambda: commons.Mixed([(commons.BestResponse(0.5), HALF),
                                                (commons.RothErev(grid=4), list(range(6, 12)))])),
]
for _c in CASES:
    globals()[_c.__name__] = _c


def test_every_registered_plugin_has_a_contract_test():
    tested = {c.cls for c in CASES}
    missing = [c.__name__ for c in commons.plugins() if c not in tested]
    assert not missing, f"plug-ins without a contract test: {missing}"


# ---------------------------------------------------------------- the checker catches
class _Base(commons.Plugin):
    role = "mechanism"
    phases = ("sanction",)
    reads = {"sanction": ("granted",)}
    writes = {"sanction": ("charges",)}
    budget_balanced = False


class WritesUndeclared(_Base):
    def sanction(self, st, ctx):
        st.trust = st.trust * 0.5


class ReadsUndeclared(_Base):
    def sanction(self, st, ctx):
        st.charge("cost", 0.0 * st.quota, "burned")


class SecretlyRandom(_Base):
    def sanction(self, st, ctx):
        st.charge("cost", ctx.uniforms(self)[..., 0] * (st.granted > -1), "burned")


class FalselyBalanced(_Base):
    budget_balanced = True

    def sanction(self, st, ctx):
        st.charge("fine", 0.1 * st.granted, "regulator")


class MakesNaN(_Base):
    def sanction(self, st, ctx):
        st.charge("cost", np.full_like(st.granted, np.nan), "burned")


class CountsOthers(_Base):
    """Takes its stream from how many plug-ins the model has: moves when others are added."""

    stochastic = True

    def sanction(self, st, ctx):
        u = ctx.streams.uniforms(ctx.t, len(ctx.names), ctx.N)[..., 0]
        st.charge("cost", 0.01 * u, "burned")


class MissingMethod(_Base):
    phases = ("sanction", "learn")

    def sanction(self, st, ctx):
        pass


class Drifting(commons.QuotaFine):
    """Its compiled form fines 1 % more than its numpy form."""

    def sanction(self, st, ctx):
        super().sanction(st, ctx)


@compiled(Drifting, "sanction")
@jitable
def _drifting(r, t, S, P, M, rng, net, TP):
    phi, row, _external = P
    for i in range(S.detected.shape[1]):
        if S.detected[r, i]:
            over = S.observed[r, i] - S.quota[r, i]
            S.charges[r, row, i] += 1.01 * phi[r] * max(over, 0.0)
            S.sanctioned[r, i] = S.sanctioned[r, i] or over > 0.0
        S.penalty_rate[r, i] += phi[r] * S.detect_prob[r, i]


def test_the_checker_catches_a_compiled_form_that_differs_from_its_numpy_form():
    with pytest.raises(ContractError, match="its compiled form gives other payoffs"):
        check_plugin(Drifting(20.0))


@pytest.mark.parametrize(("cls", "finding"), [
    (WritesUndeclared, r"writes \['trust'\], not declared"),
    (ReadsUndeclared, r"reads \['quota'\], not declared"),
    (SecretlyRandom, "declared non-stochastic but its result depends on the seed"),
    (FalselyBalanced, "declared budget-balanced but moved money out of the group"),
    (MakesNaN, "left non-finite values in 'charges'"),
    (CountsOthers, "random numbers move when other plug-ins are added"),
    (MissingMethod, "declares the phase 'learn' but has no method"),
])
def test_the_checker_catches_a_broken_plugin(cls, finding):
    with pytest.raises(ContractError, match=finding):
        check_plugin(cls())


# ---------------------------------------------------------------- stable streams
class Noop(commons.Plugin):
    """Draws random numbers in two phases and writes nothing."""

    role = "mechanism"
    phases = ("communicate", "learn")
    stochastic = True

    def communicate(self, st, ctx):
        ctx.uniforms(self)

    def learn(self, st, ctx):
        ctx.uniforms(self, n=3, block=1)


MECHANISMS = [lambda: commons.Meetings(0.1, 0.5), lambda: commons.Covenant(rounds=[0, 4]),
              lambda: commons.Gossip(cost=0.1), lambda: commons.CivicDuty(0.5),
              lambda: commons.CrowdingOut(), lambda: commons.Boundary(HALF, enforcement=0.5),
              lambda: commons.MutualSupport(0.2)]
SANCTIONS = [lambda: commons.GraduatedSanction(forgive_after=2), lambda: commons.QuotaFine(2.0),
             lambda: commons.PeerPunishment(1, antisocial=0.1), lambda: commons.UnitFee(0.1),
             lambda: commons.Appeal(0.05)]


@settings(max_examples=25)
@given(st.lists(st.integers(0, len(MECHANISMS) - 1), unique=True, max_size=5),
       st.lists(st.integers(0, len(SANCTIONS) - 1), unique=True, max_size=3),
       st.integers(0, 10), st.integers(0, 10), st.integers(0, 2**32 - 1),
       st.sampled_from(["peer", "audit"]))
def test_inserting_a_noop_plugin_anywhere_changes_no_draw(mech, sanc, at_m, at_s, seed, mon):
    def build(extra_m=None, extra_s=None):
        ms = [MECHANISMS[k]() for k in mech]
        ss = [SANCTIONS[k]() for k in sanc]
        ms = [m for m in ms if not isinstance(m, commons.MutualSupport)] + \
             [m for m in ms if isinstance(m, commons.MutualSupport)]
        ss = [s for s in ss if not isinstance(s, commons.Appeal)] + \
             [s for s in ss if isinstance(s, commons.Appeal)]
        if extra_m is not None:
            ms.insert(min(at_m, len(ms)), extra_m)
        if extra_s is not None:
            ms.insert(min(at_s, len(ms)), extra_s)
        monitoring = (commons.PeerMonitoring(0.3, 0.4, noise=0.1) if mon == "peer"
                      else commons.CentralAudit(0.5, noise=0.1))
        return commons.Model(
            12, technology=commons.PrivateConcave(commons.Uniform(0.5, 1.5), 0.5, 0.5),
            resource=commons.LogisticStock(120.0, 0.25, shock_prob=0.1, shock_size=0.2),
            network=nx.connected_watts_strogatz_graph(12, 4, 0.3, seed=2),
            quota=commons.StockShareQuota(0.05), monitoring=monitoring, sanctions=ss,
            mechanisms=ms, rule=commons.ReviseOrImitate(0.3, 0.1, 5.0), max_draw=2.0,
            prosociality=0.3)

    base = build().run(12, 3, rng=seed, engine="numpy", record="full")
    more = build(Noop(), Noop(stream="second")).run(12, 3, rng=seed, engine="numpy",
                                                    record="full")
    for k in base.full:
        np.testing.assert_array_equal(more.full[k], base.full[k], err_msg=k)
    for k in base.series:
        np.testing.assert_array_equal(more.series[k], base.series[k], err_msg=k)


def test_two_plugins_of_one_class_get_distinct_streams_and_names_can_be_given():
    m = commons.Model(4, technology=commons.PrivateConcave(1.0, 0.5, 0.5), max_draw=1.0,
                      network=nx.cycle_graph(4), sanctions=[commons.PeerPunishment(1),
                                                            commons.PeerPunishment(2)])
    names = sorted(m.names[p] for p in m.sanctions)
    assert names == ["sanction:PeerPunishment", "sanction:PeerPunishment#2"]
    named = commons.PeerPunishment(2, stream="mine")
    assert named.stream == "mine"
    m2 = m.replace(sanctions=[commons.PeerPunishment(1), named])
    assert m2.names[named] == "mine"
    with pytest.raises(ValueError, match="stream name 'mine'"):
        m.replace(sanctions=[commons.PeerPunishment(1, stream="mine"),
                             commons.PeerPunishment(2, stream="mine")])
    with pytest.raises(TypeError, match="stream must be a non-empty string"):
        commons.QuotaFine(1.0, stream=3)


# ---------------------------------------------------------------- the author's guide
def test_the_worked_example_in_the_plugin_guide_runs():
    doc = plugin_module.__doc__
    start = doc.index("    import numpy as np\n    import commons")
    block = "\n".join(line[4:] for line in doc[start:].splitlines() if
                      line.startswith("    ") or not line.strip())
    namespace: dict = {}
    exec(compile(block, "plugin-guide", "exec"), namespace)
    fine = namespace["ReputationFine"](5.0)
    assert fine in commons.plugins(role="sanction") or fine.role == "sanction"
    # the reputation fine deters: without any fine the stock is drawn down further
    model = commons.scenarios.benchmark_cpr_v1(30)
    with_fine = model.replace(sanctions=[fine]).run(60, 8, rng=3)
    without = model.replace(sanctions=[]).run(60, 8, rng=3)
    assert with_fine.series["stock"][:, -1].mean() > without.series["stock"][:, -1].mean()


# ---------------------------------------------------------------- found at construction
class Misspelt(commons.Plugin):
    role = "sanction"
    phases = ("sanctions",)

    def sanctions(self, st, ctx):
        pass


class NoRole(commons.Plugin):
    phases = ("sanction",)

    def sanction(self, st, ctx):
        pass


def _lab(**slots):
    return commons.Model(12, technology=commons.StageGame(GAME), network=nx.cycle_graph(12),
                         **slots)


@pytest.mark.parametrize(("build", "exc", "match"), [
    (lambda: _lab(sanctions=[Misspelt()]), commons.FlowError,
     "declares the phase 'sanctions', which is not one of"),
    (lambda: _lab(mechanisms=[NoRole()]), TypeError, "whose role is ''"),
    (lambda: _lab(monitoring=commons.GraduatedSanction()), TypeError,
     "monitoring takes a plug-in with role 'monitoring'"),
    (lambda: _lab(quota=commons.CentralAudit(0.5)), TypeError,
     "quota takes a plug-in with role 'quota'.*pass it as monitoring="),
    (lambda: _lab(sanctions=[commons.FixedQuota(1.0)]), TypeError, "pass it as quota="),
    (lambda: _lab(mechanisms=[commons.BestResponse()]), TypeError, "pass it as rule="),
    (lambda: _lab(sanctions=[commons.QuotaFine(1.0)]), commons.FlowError,
     "reads 'detected', which no plug-in of this model writes: add monitoring"),
    (lambda: _lab(mechanisms=[commons.Covenant(audience="met")]), commons.FlowError,
     "reads 'met'.*add Meetings"),
    (lambda: _lab(mechanisms=[commons.Covenant(), commons.Covenant()]), commons.FlowError,
     "both write 'pledge'"),
    (lambda: _lab(monitoring=commons.CentralAudit(0.5),
                  sanctions=[commons.Appeal(0.1), commons.GraduatedSanction()]),
     commons.FlowError, "Appeal .* must act after"),
    (lambda: commons.Model(4, technology=commons.Fishery(1.0, 0.1, 0.1),
                           resource=commons.CareBudget(10.0), max_draw=1.0), ValueError,
     "Fishery's rent benchmark needs a resource with carrying_capacity"),
    (lambda: commons.Model(4, technology=commons.Fishery(1.0, 0.1, 0.1),
                           resource=commons.LogisticStock(10.0, 0.2), max_draw=1.0,
                           rule=commons.PlayNash()), ValueError,
     "PlayNash needs the technology's nash"),
    (lambda: commons.Covenant(rounds=-3), TypeError, "rounds must be None .* or a collection"),
    (lambda: commons.Regulator(1.0, rounds=[-1]), ValueError, "rounds must be >= 0"),
    (lambda: commons.Mixed(commons.BestResponse()), TypeError,
     "assignment must be a list of \\(rule, organisations\\) pairs"),
])
def test_what_can_be_found_at_construction_fails_there(build, exc, match):
    with pytest.raises(exc, match=match):
        build()


def test_quota_vote_binds_after_the_resource_it_reads():
    # the vote reads the resource's reference stock and the technology's optimum: bound first
    for resource in (commons.LogisticStock(120.0, 0.25), commons.CareBudget(10.0)):
        m = commons.Model(12, technology=commons.PrivateConcave(1.0, 0.5, 0.5),
                          resource=resource, quota=commons.QuotaVote(), max_draw=2.0)
        res = m.run(3, 2, rng=0)
        assert np.all(np.isfinite(res.series["rent"]))


@pytest.mark.parametrize("disable", [(), (4,), (6,)])
def test_the_ablation_arms_share_random_numbers(disable):
    # with every principle on (and with one off), a plug-in that does nothing leaves every
    # number of the run unchanged, so the arms of principle_ablation share random numbers
    model = commons.scenarios.ostrom_commons(disable=disable)
    base = model.run(30, 4, rng=5, record="full")
    more = model.replace(mechanisms=[Noop(), *model.mechanisms, commons.CivicDuty(0.0)])
    other = more.run(30, 4, rng=5, record="full")
    for k in base.full:
        np.testing.assert_array_equal(other.full[k], base.full[k], err_msg=k)
