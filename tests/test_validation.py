"""Every parameter of every mechanism is checked where it is bound, and the error names it.

For each parameter, a value just outside its range is refused with a message naming the
parameter and the range (``rate must be >= 0``, ``see must be <= 1``), and a value just inside
is accepted.
"""

import networkx as nx
import numpy as np
import pytest

import commons

GAME = commons.CPRGame(8, commons.Quadratic(23, 0.25), 5, 25)
N = 8


def build(plugin):
    """A laboratory model on a ring with ``plugin`` in its slot (and what it needs)."""
    kw = {"quota": commons.FixedQuota(4.5), "monitoring": commons.CentralAudit(0.5),
          "sanctions": [], "mechanisms": []}
    if plugin.role == "sanction":
        kw["sanctions"] = [plugin]
    elif plugin.role == "mechanism":
        kw["mechanisms"] = [plugin]
    else:
        kw[plugin.role] = plugin
    return commons.Model(N, technology=commons.StageGame(GAME), network=nx.cycle_graph(N),
                         rule=commons.BestResponse(0.3), **kw)


UNIT = ">= 0"                            # non-negative parameters
PROB = (r"in \[0, 1\]", r"in \[0, 1\]")    # probabilities and shares

#: (factory taking the parameter's value, the parameter's name in messages, its range)
PARAMETERS = [
    (lambda v: commons.QuotaFine(v), "rate", UNIT),
    (lambda v: commons.UnitFee(v), "rate", UNIT),
    (lambda v: commons.GraduatedSanction(scale=v), "scale", UNIT),
    (lambda v: commons.PoolPunishment(v, 1.0), "fee", UNIT),
    (lambda v: commons.PoolPunishment(1.0, v), "rate", UNIT),
    (lambda v: commons.PoolPunishment(1.0, 1.0, second_order=v), "second_order", UNIT),
    (lambda v: commons.PeerPunishment(propensity=v), "propensity", PROB),
    (lambda v: commons.PeerPunishment(unit_cost=v), "unit_cost", UNIT),
    (lambda v: commons.PeerPunishment(ratio=v), "ratio", UNIT),
    (lambda v: commons.PeerPunishment(antisocial=v), "antisocial", PROB),
    (lambda v: commons.PeerPunishment(revenge=v), "revenge", PROB),
    (lambda v: commons.CentralAudit(v), "probability", PROB),
    (lambda v: commons.CentralAudit(0.5, cost=v), "cost", UNIT),
    (lambda v: commons.CentralAudit(0.5, noise=v), "noise", UNIT),
    (lambda v: commons.PeerMonitoring(v, 0.0), "base", PROB),
    (lambda v: commons.PeerMonitoring(0.0, v), "slope", PROB),
    (lambda v: commons.PeerMonitoring(cost=v), "cost", UNIT),
    (lambda v: commons.PeerMonitoring(noise=v), "noise", UNIT),
    (lambda v: commons.Appeal(v), "cost", UNIT),
    (lambda v: commons.Appeal(1.0, accuracy=v), "accuracy", PROB),
    (lambda v: commons.Boundary([0, 1], enforcement=v), "enforcement", PROB),
    (lambda v: commons.Meetings(v, 0.0), "base", PROB),
    (lambda v: commons.Meetings(0.0, v), "slope", PROB),
    (lambda v: commons.Meetings(boost=v), "boost", PROB),
    (lambda v: commons.Covenant(strength=v), "strength", UNIT),
    (lambda v: commons.Covenant(decay=v), "decay", PROB),
    (lambda v: commons.Covenant(rate=v), "rate", PROB),
    (lambda v: commons.Gossip(see=v), "see", PROB),
    (lambda v: commons.Gossip(tell=v), "tell", PROB),
    (lambda v: commons.Gossip(drop=v), "drop", PROB),
    (lambda v: commons.Gossip(cost=v), "cost", UNIT),
    (lambda v: commons.MutualSupport(v), "share", PROB),
    (lambda v: commons.CrowdingOut(down=v), "down", PROB),
    (lambda v: commons.CrowdingOut(up=v), "up", PROB),
    (lambda v: commons.CivicDuty(v), "strength", UNIT),
    (lambda v: commons.StockShareQuota(v), "share", UNIT),
    (lambda v: commons.FixedQuota(v), "quota", UNIT),
    (lambda v: commons.QuotaVote(greed=v), "greed", UNIT),
    (lambda v: commons.QuotaVote(autonomy=v), "autonomy", PROB),
    (lambda v: commons.Regulator(v), "target", UNIT),
    (lambda v: commons.ComplianceTrust(rate=v), "rate", PROB),
    (lambda v: commons.ComplianceTrust(initial=v), "initial", PROB),
]
IDS = [f"{make(0.5).__class__.__name__}-{name}" for make, name, _ in PARAMETERS]


@pytest.mark.parametrize(("make", "name", "bounds"), PARAMETERS, ids=IDS)
def test_out_of_range_parameters_are_refused_by_name(make, name, bounds):
    low, high = (bounds, None) if isinstance(bounds, str) else bounds
    with pytest.raises(ValueError, match=f"^{name} must be {low}"):
        build(make(-0.25)).run(1)
    if high is not None:
        with pytest.raises(ValueError, match=f"^{name} must be {high}"):
            build(make(1.5)).run(1)
    else:
        build(make(1.5)).run(1)          # no upper bound
    for ok in (0.0, 1.0):                # the ends of the range are allowed
        build(make(ok)).run(1)


@pytest.mark.parametrize(("make", "name", "bounds"), PARAMETERS, ids=IDS)
def test_parameters_may_vary_over_replicates(make, name, bounds):
    # any scalar parameter may be an array over replicates (per-organisation ones: an array
    # over replicates and organisations); a wrong shape is named
    good = np.array([0.0, 0.5, 1.0])
    if name in PER_ORG:
        good = np.broadcast_to(good[:, None], (3, N))
    build(make(good)).run(1, 3)
    with pytest.raises(ValueError, match=f"^{name} must be a scalar"):
        build(make(np.array([0.0, 0.5]))).run(1, 3)


PER_ORG = {"greed", "target"}


def test_a_run_too_large_for_its_plug_ins_memory_is_refused(monkeypatch):
    # peer punishment keeps per edge: whom it punished (bool), the points (float64) and the
    # round's four numbers (float64): 1 + 8 + 32 = 41 bytes per edge and replicate
    from commons.sim import memory

    g = nx.connected_watts_strogatz_graph(20, 4, 0.1, seed=1)
    model = commons.Model(20, network=g, technology=commons.PrivateConcave(1.0, 0.5, 0.5),
                          resource=commons.NoStock(), monitoring=commons.CentralAudit(0.5),
                          sanctions=[commons.PeerPunishment(1)], max_draw=2.0)
    R, T, E = 50, 10, g.number_of_edges() * 2
    assert memory.plugin_bytes(model, R) >= R * E * 41
    base = memory.run_bytes(R, 20, E, T, "summary")
    monkeypatch.setattr(memory, "available_memory", lambda: base + R * E * 40)
    with pytest.raises(memory.InsufficientMemory, match="R = 50"):
        model.run(T, R, rng=0)
    monkeypatch.setattr(memory, "available_memory",
                        lambda: base + memory.plugin_bytes(model, R))
    model.run(T, R, rng=0)  # room for the plug-ins' memory: it runs
