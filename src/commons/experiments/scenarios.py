"""The scenario catalog: calibrated models to start from."""

from __future__ import annotations

from typing import Any

import networkx as nx

from .._validation import check_integer
from ..sim._params import Uniform
from ..sim.engine import Model
from ..sim.mechanisms import PeerMonitoring, QuotaFine, StockShareQuota
from ..sim.resources import LogisticStock
from ..sim.rules import ReviseOrImitate
from ..sim.technologies import PrivateConcave
from ..sim.trust import ComplianceTrust
from .ics import ICS_TYPES, integrated_care_system

__all__ = ["ICS_TYPES", "PRINCIPLES", "REGISTRY", "benchmark_cpr_v1", "cpr_v1_graph", "fishery",
           "integrated_care_system", "lab_game", "lake_game", "ostrom_commons"]


def cpr_v1_graph(n: int, *, k: int = 4, rewiring: float = 0.1, seed: int = 0) -> nx.Graph:
    """The CPR-v1 network: a connected Watts–Strogatz graph, mean degree k, rewiring 0.1.

    Built with ``networkx.connected_watts_strogatz_graph``; nodes 0..n-1 (for n <= k a
    complete graph). Watts & Strogatz (1998): a ring lattice whose edges are rewired with
    probability ``rewiring``, clustered yet with short paths.

    Parameters
    ----------
    n : int
        Number of nodes >= 1.
    k : int
        Each node's neighbours in the ring lattice before rewiring (the mean degree).
    rewiring : float
        Probability in [0, 1] that an edge is rewired.
    seed : int
        Seed of the rewiring.

    Returns
    -------
    networkx.Graph
        A connected graph on nodes 0..n-1.
    """
    n = check_integer("n", n, low=1)
    if n <= k:
        return nx.complete_graph(n)
    return nx.connected_watts_strogatz_graph(n, k, rewiring, tries=1000, seed=seed)


def benchmark_cpr_v1(n: int = 100, *, graph: nx.Graph | None = None, seed: int = 0,
                     fine: Any = 2.0, growth: Any = 0.25) -> Model:
    r"""CPR-v1, the benchmark model of the engine's speed measurements, from public parts.

    N organisations on a connected Watts–Strogatz graph (k = 4, rewiring 0.1); a logistic stock
    with K = 10 N, g = 0.25; quota q = 0.05 S / N; peer monitoring p_i = 0.1 + 0.4 m_i; a fine of
    2 per unit over the quota when detected; payoff a_i h**0.5 - 0.5 x with a_i ~ U(0.5, 1.5);
    trust smoothing with lam = 0.1 from w0 = 0.5; learning by noisy best response with
    probability 0.1 (sigma = 0.1), else trust-weighted Fermi imitation with s = 10; draws in
    [0, 2], initially U(0, 2).

    From N = 100 upwards the mean draw falls from about 1.0 to about 0.43 and the stock settles
    near 0.82 K by round 200; at N = 10 roughly three replicates in ten drive the stock to 0.

    ``fine`` (per unit over the quota) and ``growth`` (g) may be arrays over replicates, for
    sweeps in one batch.

    Parameters
    ----------
    n : int
        Number of organisations N >= 1.
    graph : networkx.Graph, optional
        The trust network on N nodes (default :func:`cpr_v1_graph`).
    seed : int
        Seed of the default graph.
    fine : float or (R,) array
        Fine per resource unit over the quota, when detected (money per unit).
    growth : float or (R,) array
        Intrinsic growth rate g of the logistic stock, per round.

    Returns
    -------
    Model
        The CPR-v1 model (Watts & Strogatz 1998 for the graph; Szabó & Fáth 2007 for Fermi
        imitation).
    """
    n = check_integer("n", n, low=1)
    g = cpr_v1_graph(n, seed=seed) if graph is None else graph
    return Model(
        n,
        network=g,
        resource=LogisticStock(capacity=10.0 * n, growth=growth),
        technology=PrivateConcave(productivity=Uniform(0.5, 1.5), elasticity=0.5, cost=0.5),
        quota=StockShareQuota(0.05),
        monitoring=PeerMonitoring(base=0.1, slope=0.4),
        sanctions=[QuotaFine(rate=fine)],
        trust=ComplianceTrust(rate=0.1, initial=0.5),
        rule=ReviseOrImitate(revision_rate=0.1, noise=0.1, selection=10.0),
        max_draw=2.0,
        initial_draws=Uniform(0.0, 2.0),
        name="CPR-v1",
    )


#: Ostrom (1990, Table 3.1), numbered as in the design principles.
PRINCIPLES = {
    1: "clearly defined boundaries",
    2: "congruence with local conditions",
    3: "collective-choice arrangements",
    4: "monitoring",
    5: "graduated sanctions",
    6: "conflict-resolution mechanisms",
    7: "minimal recognition of rights to organise",
    8: "nested enterprises",
}


def ostrom_commons(*, places: int = 3, per_place: int = 8, outsiders: int = 3,
                   disable: tuple[int, ...] | list[int] = (), seed: int = 0) -> Model:
    r"""A renewable commons governed by Ostrom's eight principles, each of which can be removed.

    ``places`` communities of ``per_place`` organisations (dense inside, sparse between: a
    planted-partition trust network) draw on one logistic stock (K = 10 N, g = 0.25) struck by
    shocks (5 % a round, 40 % of the stock). Places differ in productivity (a = 0.6 ... 1.4), and
    ``outsiders`` organisations (one per place, the last of each) draw the most they can.
    Members best-respond (noisily) and hold a civic duty to the rules in force, which external
    control crowds out. With every principle in place:

    1. boundaries: outsiders are refused (``Boundary``); off: open access;
    2. congruence: the voted quota tracks the stock; off: fixed between votes;
    3. collective choice: members vote the quota (median); off: a central quota is imposed;
    4. monitoring: peers watch with noise; off: nobody watches;
    5. graduated sanctions: warning, then half, then full fine, forgiven after 2 clean rounds;
       off: the full fine every time;
    6. conflict resolution: cheap appeals; off: none;
    7. right to organise: a supportive regulator; off: it overrides local quotas with a flat
       central target;
    8. nested enterprises: each place votes its own quota (autonomy 0.7) inside the system's;
       off: one system-wide vote.

    Parameters are stylised, chosen so that each principle has work to do.

    Parameters
    ----------
    places : int
        Number of communities (places), >= 1.
    per_place : int
        Organisations per place, outsiders included.
    outsiders : int
        Number of outsiders (one per place, the last of each), <= places.
    disable : sequence of int
        The principles (1..8, numbered as in Ostrom 1990, Table 3.1) to switch off.
    seed : int
        Seed of the planted-partition network.

    Returns
    -------
    Model
        The commons, with the principles in ``disable`` removed.
    """
    from ..sim.mechanisms import (
        Appeal,
        Boundary,
        CivicDuty,
        CrowdingOut,
        FixedQuota,
        GraduatedSanction,
        PeerMonitoring,
        QuotaFine,
        QuotaVote,
        Regulator,
    )
    from ..sim.rules import BestResponse, FixedDraw, Mixed

    off = {check_integer("disable", int(k), low=1) for k in disable}
    if not off <= set(PRINCIPLES):
        raise ValueError(f"disable must name principles 1..8, got {sorted(off)}")
    n = places * per_place
    graph = nx.planted_partition_graph(places, per_place, 0.7, 0.03, seed=seed)
    labels = [i // per_place for i in range(n)]
    outsider = [(p + 1) * per_place - 1 for p in range(places)][:outsiders]
    members = [i for i in range(n) if i not in outsider]
    a = [0.6 + 0.8 * (i // per_place) / max(places - 1, 1) for i in range(n)]
    tech = PrivateConcave(productivity=a, elasticity=0.5, cost=0.5)
    resource = LogisticStock(capacity=10.0 * n, growth=0.25, shock_prob=0.05, shock_size=0.4)
    top = 2.0
    # a flat central target: the sustainable yield per organisation (g K / 4 / n = 0.625), a
    # fifth over and blind to the differences between places
    central = 1.2 * 0.25 * 10.0 / 4
    mechanisms: list = [CivicDuty(1.0), CrowdingOut(down=0.2, up=0.05)]
    if 3 in off:
        quota = FixedQuota(central)
    else:
        quota = QuotaVote("median", greed=0.9, congruent=2 not in off, voters=members,
                          places=None if 8 in off else labels, autonomy=0.7)
    mechanisms.append(Regulator(central, stance="overriding" if 7 in off else "supportive"))
    mechanisms.append(Boundary(members, enforcement=0.0 if 1 in off else 1.0))
    monitoring = None if 4 in off else PeerMonitoring(0.2, 0.6, noise=0.15)
    # without monitoring no violation is ever detected, so fines have nothing to act on
    sanctions: list = [] if 4 in off else [
        QuotaFine(top) if 5 in off else GraduatedSanction((0.0, top / 2, top), forgive_after=2)]
    if 6 not in off:
        sanctions.append(Appeal(0.05))
    rule = Mixed([(BestResponse(0.3, noise=0.05), members), (FixedDraw(2.0), outsider)])
    return Model(n, network=graph, resource=resource, technology=tech, quota=quota,
                 monitoring=monitoring, sanctions=sanctions, mechanisms=mechanisms,
                 rule=rule, max_draw=2.0, initial_draws=Uniform(0.0, 2.0), prosociality=0.5,
                 name="Ostrom commons" + (f" without {sorted(off)}" if off else ""))


REGISTRY = {"ics": integrated_care_system, "cpr-v1": benchmark_cpr_v1,
            "ostrom": ostrom_commons}
"""Scenario factories by name, for sweeps and study files (extended below)."""


def lab_game(*, endowment: float = 25.0, rule=None, mechanisms=(), sanctions=(),
             monitoring=None, quota=None, network: nx.Graph | None = None,
             initial_draws: Any = None) -> Model:
    r"""The laboratory CPR game of Walker, Gardner & Ostrom (1990), repeated.

    8 players, F(X) = 23 X - 0.25 X**2, outside return 5 per token, 10 ("low") or 25 ("high")
    tokens each (Ostrom, Gardner & Walker 1994, ch. 5). Stage Nash 8 tokens each (64 in all),
    optimum 36, open access 72; rent at Nash 39.5 % of the maximum. Default rule: noisy myopic
    best response with inertia; any rule and mechanisms can be passed.

    Parameters
    ----------
    endowment : float
        Tokens per player (10 or 25 in the experiments).
    rule : Plugin, optional
        The players' decision rule (default ``BestResponse(0.3, noise=1.0)``).
    mechanisms, sanctions : sequence of Plugin
        Mechanisms and sanctions, as for :class:`commons.Model`.
    monitoring, quota : Plugin, optional
        Monitoring and the quota rule.
    network : networkx.Graph, optional
        Who sees whom (default: no edges).
    initial_draws : float, array or Uniform, optional
        Tokens invested in round 0.

    Returns
    -------
    Model
        The repeated laboratory game.
    """
    from ..exact.game import CPRGame
    from ..exact.production import Quadratic
    from ..sim.rules import BestResponse
    from ..sim.technologies import StageGame

    game = CPRGame(8, Quadratic(23.0, 0.25), 5.0, endowment)
    return Model(8, technology=StageGame(game), network=network,
                 rule=rule if rule is not None else BestResponse(0.3, noise=1.0),
                 mechanisms=list(mechanisms), sanctions=list(sanctions), monitoring=monitoring,
                 quota=quota, initial_draws=initial_draws,
                 name=f"lab game ({endowment:g} tokens)")


def fishery(n_firms: int = 5, *, r: Any = 0.5, K: Any = 100.0, q: Any = 0.01,
            price: Any = 1.0, cost: Any = 0.3, rule=None, max_effort: float = 50.0,
            initial_effort: Any = 1.0) -> Model:
    r"""A Gordon–Schaefer fishery with ``n_firms`` firms (Gordon 1954; Schaefer 1957; Clark 1990).

    Logistic stock (r, K); each firm's draw is its fishing effort E_i, catching q E_i S, earning
    p q E_i S - c E_i. Defaults: a textbook example (r = 0.5, K = 100, q = 0.01, p = 1,
    c = 0.3; Clark 1990, ch. 2): MSY rK/4 = 12.5 at S = K/2 = 50, MEY at
    S = (K/2)(1 + c/(pqK)) = 65, open access at S = c / (p q) = 30.
    Default rule: open-access entry (Smith 1968), which drives the stock to 30; compare
    :class:`commons.GordonSchaefer` for the closed forms.

    Parameters
    ----------
    n_firms : int
        Number of firms N >= 1.
    r : float or (R,) array
        Intrinsic growth rate of the logistic stock, per round.
    K : float or (R,) array
        Carrying capacity, in stock units.
    q : float or (R,) array
        Catchability: catch per unit of effort and of stock.
    price : float or (R,) array
        Price p per unit caught.
    cost : float or (R,) array
        Cost c per unit of effort.
    rule : Plugin, optional
        The firms' decision rule (default :class:`commons.SmithEntry` with rate 0.5).
    max_effort : float
        Cap on each firm's effort.
    initial_effort : float or array
        Each firm's effort in round 0.

    Returns
    -------
    Model
        The fishery; each organisation's draw is its fishing effort.
    """
    from ..sim.resources import LogisticStock
    from ..sim.rules import SmithEntry
    from ..sim.technologies import Fishery

    n = check_integer("n_firms", n_firms, low=1)
    return Model(n, resource=LogisticStock(K, r), technology=Fishery(price, q, cost),
                 rule=rule if rule is not None else SmithEntry(0.5), max_draw=max_effort,
                 initial_draws=initial_effort, name=f"Gordon–Schaefer fishery ({n} firms)")


def lake_game(n: int = 4, *, loss: float = 0.42, recycling: float = 2.0,
              benefit: Any = 0.4, damage: Any = 1.0, max_release: float = 0.1,
              inflow_sd: float = 0.001, rule=None, mechanisms=(), quota=None) -> Model:
    r"""The shallow-lake commons (Carpenter, Ludwig & Brock 1999; Mäler et al. 2003).

    n communities release phosphorus (up to ``max_release`` a year each) into a lake with loss
    b = 0.42 and recycling exponent q = 2 (irreversible: critical level 0.5445); each gains
    ``benefit`` per unit released and suffers ``damage`` P**2. Myopic release is the maximum,
    which flips the lake (0.4 a year in all, against about 0.026 that it can absorb in steady
    state below p_crit: ``LakeStock.sustainable_yield``). The continuous-time
    game's steady states are in :func:`commons.lake.lake_steady_states`.

    Parameters
    ----------
    n : int
        Number of communities >= 1.
    loss : float
        Loss rate b of the lake, per year.
    recycling : float
        Recycling exponent q > 1.
    benefit : float or (R,)
        Benefit alpha per unit released.
    damage : float or (R,)
        Damage d per unit of P**2, per community and year.
    max_release : float
        Cap on each community's release per year.
    inflow_sd : float
        Standard deviation of the natural inflow per year.
    rule : Plugin, optional
        The communities' decision rule (default: myopic best response).
    mechanisms : sequence of Plugin
        Mechanisms, as for :class:`commons.Model`.
    quota : Plugin, optional
        The quota rule.

    Returns
    -------
    Model
        The lake game, starting from a clean lake (P = 0) and no releases.
    """
    from ..sim.resources import LakeStock
    from ..sim.rules import BestResponse
    from ..sim.technologies import LakeDamage

    n = check_integer("n", n, low=1)
    return Model(n, resource=LakeStock(loss=loss, recycling=recycling, inflow_sd=inflow_sd),
                 technology=LakeDamage(benefit, damage),
                 rule=rule if rule is not None else BestResponse(1.0),
                 mechanisms=list(mechanisms), quota=quota, max_draw=max_release,
                 initial_draws=0.0, name=f"shallow lake ({n} communities)")


REGISTRY.update({"lab": lab_game, "fishery": fishery, "lake": lake_game})
