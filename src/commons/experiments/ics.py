r"""The Integrated Care System scenario and its three scenario-specific plug-ins (the
deterrence boundary derived for it is in :mod:`commons.experiments.ics_boundary`).

The plug-ins follow the plug-in author's guide (:mod:`commons.sim.plugin`): each declares its
role, phases, reads and writes, and has a compiled form beside its numpy form (the technology
inherits those of :class:`~commons.PrivateConcave`). They are specific to this scenario, so they
stay out of :func:`commons.plugins` (``registered = False``); each passes
:func:`commons.testing.check_plugin`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import networkx as nx
import numpy as np

from .._validation import check_array, check_integer
from ..sim._gather import take
from ..sim._jit import jitable
from ..sim._params import per_replicate
from ..sim.engine import Model
from ..sim.plugin import Plugin, compiled
from ..sim.streams import normal_quantile
from ..sim.technologies import ConcaveValues, PrivateConcave

if TYPE_CHECKING:  # pragma: no cover
    from ..sim.engine import Context
    from ..sim.state import State

__all__ = ["ICS_NETWORKS", "ICS_TYPES", "BudgetShares", "ContactTrust", "UncertainDemand",
           "ics_graph", "integrated_care_system"]

#: Organisation types of a place: (name, value per unit of the budget drawn a, the most it can
#: claim per year).
ICS_TYPES = (("acute trust", 1.4, 200.0), ("community and mental health trust", 1.1, 120.0),
             ("primary care network", 1.0, 100.0), ("primary care network", 1.0, 100.0),
             ("primary care network", 1.0, 100.0), ("council (social care)", 1.2, 150.0),
             ("voluntary organisation", 0.8, 60.0), ("voluntary organisation", 0.8, 60.0))

#: The trust networks :func:`integrated_care_system` builds.
ICS_NETWORKS = ("places", "hub", "random")

# The stylised constants of the scenario (the table in integrated_care_system's docstring).
_ELASTICITY = 0.5       # beta
_CLAIM_COST = 0.5       # c, value lost per unit claimed
_SHARE = 0.95           # v, share of the budget the quotas allocate
_PROSOCIALITY = 0.3     # theta0, civic duty's weight
_CIVIC = 0.5            # k, conscience per unit over the quota per unit of theta
_MEET_SLOPE = 0.8       # meeting probability per unit of communication and of tie overlap
_MEET_BOOST = 0.3       # b, a meeting closes this share of the gap to full trust
_COVENANT = 6.0         # covenant strength per unit of communication
_TRUST_DECAY = 0.1      # delta, trust fades toward its floor at this rate a year
_TRUST_FLOOR = 0.1      # w_f
_BETRAYAL = 0.5         # trust in an organisation seen over its quota is halved
_PEER = (0.2, 0.6)      # peer detection: base + slope x share of neighbours complying
_SCHEDULE = (0.0, 0.5, 1.0)
_AUDIT = 0.3            # central audit probability
_CENTRAL_FINE = 2.0     # central fine per unit over the quota, per unit of sanction
_REVISION = 0.3         # chance an organisation re-plans its claim in a year
_THRESHOLD = 0.8        # tragedy: tail efficiency below this


# ---------------------------------------------------------------------- plug-ins
class UncertainDemand(PrivateConcave):
    r"""Private concave returns whose need grows at a rate drawn once per replicate.

    As :class:`~commons.PrivateConcave`, gross_i = a_i n_t**(1 - beta) h_i**beta - c x_i with
    need n_t = (1 + gamma)**t, but each replicate's growth is drawn from the plug-in's set-up
    stream: gamma = max(0, g + sigma z), z ~ N(0, 1) (the normal quantile of a set-up uniform). A
    persistent shock to demand: nobody knows in advance how fast need will grow, and the
    organisations' best replies, the optimum and the rent benchmark all follow the realised
    path. With sigma = 0 it is PrivateConcave.

    Parameters
    ----------
    productivity, elasticity, cost : see :class:`~commons.PrivateConcave`
    need_growth : float or (R,)
        g >= 0, the median growth of need per round.
    volatility : float or (R,)
        sigma >= 0, the standard deviation of a replicate's growth rate.
    """

    registered: ClassVar[bool] = False

    def __init__(self, productivity: Any, elasticity: Any, cost: Any, *,
                 need_growth: Any = 0.0, volatility: Any = 0.0) -> None:
        super().__init__(productivity, elasticity, cost, need_growth=need_growth)
        self.volatility = volatility

    @property
    def stochastic(self) -> bool:  # type: ignore[override]
        return bool(np.any(np.asarray(self.volatility) > 0))

    def bind(self, ctx: Context) -> ConcaveValues:
        values = super().bind(ctx)
        sigma = per_replicate("volatility", self.volatility, ctx.R, low=0.0)
        u = ctx.setup_uniforms(self)[:, 0, :]
        z = normal_quantile(u[:, 1])
        return values._replace(gamma=np.maximum(values.gamma + sigma * z, 0.0))


class BudgetShares(Plugin):
    r"""Each organisation's quota is a fixed share of the budget in hand.

    q_i = v w_i S_t / sum_j w_j at the start of every round, S_t the budget (the pool's stock),
    w_i the weights (here each organisation's need in year 0, a_i**2), v the share of the
    budget allocated. Agreed by the organisations themselves it is their own rule; with
    ``imposed=True`` it is a central target, an external control (which crowding-out reads).

    Parameters
    ----------
    share : float or (R,)
        v >= 0.
    weights : (N,) array
        w_i > 0.
    imposed : bool
        Whether the rule is imposed from outside the group.
    """

    role: ClassVar[str] = "quota"
    registered: ClassVar[bool] = False
    phases: ClassVar[tuple[str, ...]] = ("communicate",)
    cparams: ClassVar[tuple[str, ...]] = ("w", "imposed")

    def __init__(self, share: Any, weights: Any, *, imposed: bool = False) -> None:
        self.share = share
        self.weights = check_array("weights", weights, low=0.0, low_open=True)
        if self.weights.ndim != 1 or self.weights.size == 0:
            raise ValueError("weights must be a non-empty 1-d array (one weight per "
                             f"organisation), got shape {self.weights.shape}")
        self.imposed = bool(imposed)

    @property
    def external(self) -> bool:  # type: ignore[override]
        return self.imposed

    def view(self, phase: str) -> tuple[str, ...]:
        return ("stock", "quota", "external")  # the one compiled form serves both options

    def access(self, phase: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
        return ("stock",), ("quota", "external") if self.imposed else ("quota",)

    def bind(self, ctx: Context) -> dict[str, Any]:
        if self.weights.size != ctx.N:
            raise ValueError(f"weights must have one weight per organisation (n = {ctx.N}), "
                             f"got {self.weights.size}")
        v = per_replicate("share", self.share, ctx.R, low=0.0)
        return {"w": np.ascontiguousarray(v[:, None] * (self.weights / self.weights.sum())),
                "imposed": self.imposed}

    def communicate(self, st: State, ctx: Context) -> None:
        """The communicate phase: q_i = v w_i S_t / sum_j w_j; an imposed rule also marks the round
        as externally controlled.

        Parameters
        ----------
        st : State
            The state (the fields read and written depend on the options: :meth:`access`).
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        st.quota = ctx.params[self]["w"] * st.stock[:, None]
        if self.imposed:
            st.external[:] = True


class ContactTrust(Plugin):
    r"""Trust kept up by contact: it fades without meetings and falls on a violation seen.

    On every directed edge i -> j, each round (learn phase), after the round's meetings
    (:class:`~commons.Meetings` raise it, w <- w + b (1 - w)):

        w <- w + delta (w_f - w),  then  w <- (1 - lambda) w  if j drew over its quota,

    so trust relaxes toward the floor w_f at rate ``decay`` (turnover, distance: relationships
    need nurturing) and a partner seen over its quota loses the share ``betrayal`` of it.
    Starting in [0, 1] it stays in [0, 1]. Under full compliance the expected trust on an edge
    whose pair meets with probability p settles at

        m = ((1 - delta) b p + delta w_f) / (delta + b p - delta b p)

    at the start of a round, and at u = m + b p (1 - m) after its meetings (what a covenant
    reads): E[w'] = (1 - delta)(m + b p (1 - m)) + delta w_f, the meeting independent of w.

    Parameters
    ----------
    decay : float or (R,)
        delta in [0, 1].
    floor : float or (R,)
        w_f in [0, 1].
    betrayal : float or (R,)
        lambda in [0, 1].
    initial : float or (R,), optional
        Initial trust (default: the floor: trust has to be built).
    """

    role: ClassVar[str] = "trust"
    registered: ClassVar[bool] = False
    phases: ClassVar[tuple[str, ...]] = ("learn",)
    reads: ClassVar[dict[str, tuple[str, ...]]] = {"learn": ("trust", "granted", "quota")}
    writes: ClassVar[dict[str, tuple[str, ...]]] = {"learn": ("trust",)}
    cparams: ClassVar[tuple[str, ...]] = ("decay", "floor", "betrayal")
    # scratch of the compiled form: what trust in each organisation is multiplied by this
    # round, 1 - lambda if it drew over its quota, else 1; and that factor on each edge
    memory: ClassVar[dict[str, tuple]] = {"factor": ("org", float), "along": ("edge", float)}

    def __init__(self, decay: Any = 0.1, floor: Any = 0.1, *, betrayal: Any = 0.5,
                 initial: Any = None) -> None:
        self.decay = decay
        self.floor = floor
        self.betrayal = betrayal
        self.initial = initial

    def bind(self, ctx: Context) -> dict[str, Any]:
        R = ctx.R
        floor = per_replicate("floor", self.floor, R, low=0.0, high=1.0)
        return {"decay": per_replicate("decay", self.decay, R, low=0.0, high=1.0),
                "floor": floor,
                "betrayal": per_replicate("betrayal", self.betrayal, R, low=0.0, high=1.0),
                "w0": (floor if self.initial is None
                       else per_replicate("initial", self.initial, R, low=0.0, high=1.0))}

    def setup(self, st: State, ctx: Context) -> None:
        st.trust = np.broadcast_to(ctx.params[self]["w0"][:, None],
                                   (ctx.R, ctx.network.n_edges)).copy()

    def learn(self, st: State, ctx: Context) -> None:
        """The learn phase: trust fades toward the floor, w <- w + decay (floor - w), and falls by
        ``betrayal`` on an edge i -> j whose j claimed over its quota.

        Parameters
        ----------
        st : State
            The state; reads ``trust``, ``granted``, ``quota``; writes ``trust``.
        ctx : Context
            The run's context (parameters in ``ctx.params[self]``).
        """
        P = ctx.params[self]
        net = ctx.network
        w = st.trust + P["decay"][:, None] * (P["floor"][:, None] - st.trust)
        over = (st.granted > st.quota)[:, net.indices]
        st.trust = np.where(over, (1.0 - P["betrayal"][:, None]) * w, w)


@compiled(BudgetShares, "communicate")
@jitable
def _budget_shares(r, t, S, P, M, rng, net, TP):
    w, imposed = P
    for i in range(S.quota.shape[1]):
        S.quota[r, i] = w[r, i] * S.stock[r]
    if imposed:
        S.external[r] = True


@compiled(ContactTrust, "learn")
@jitable
def _contact_trust(r, t, S, P, M, rng, net, TP):
    decay, floor, betrayal = P
    factor, along = M
    d = decay[r]
    f = floor[r]
    keep = 1.0 - betrayal[r]
    for j in range(S.granted.shape[1]):  # each partner's factor once, not once per edge
        factor[r, j] = keep if S.granted[r, j] > S.quota[r, j] else 1.0
    E = net.indices.shape[0]
    take(along[r], factor[r], net.indices, 0, E)  # the partner's factor on each edge, gathered
    for e in range(E):  # then one loop over the edges, in SIMD lanes
        w = S.trust[r, e] + d * (f - S.trust[r, e])
        S.trust[r, e] = along[r, e] * w  # 1.0 * w is w, to the bit


# ---------------------------------------------------------------------- the scenario
def ics_graph(places: int, network: str = "places", seed: int = 0) -> nx.Graph:
    """The trust network of :func:`integrated_care_system` (nodes 0..8 places - 1).

    "places": each place a clique, and the acute trusts (first of each place) and the councils
    (sixth) linked across places; "hub": each place a clique, and the first acute trust linked
    to every organisation; "random": a connected G(n, m) graph with as many ties as "places"
    (the first connected draw of seeds ``seed``, ``seed + 1``, ...).

    Parameters
    ----------
    places : int
        Number of places >= 1, 8 organisations each.
    network : {"places", "hub", "random"}
        The structure of the ties.
    seed : int
        Seed of the random graph, >= 0.

    Returns
    -------
    networkx.Graph
        The network on nodes 0..8 places - 1.
    """
    places = check_integer("places", places, low=1)
    if network not in ICS_NETWORKS:
        raise ValueError(f"network must be one of {ICS_NETWORKS}, got {network!r}")
    seed = check_integer("seed", seed, low=0)
    per = len(ICS_TYPES)
    n = places * per
    g = nx.Graph()
    g.add_nodes_from(range(n))
    for p in range(places):
        members = range(p * per, (p + 1) * per)
        g.add_edges_from((i, j) for i in members for j in members if i < j)
    if network == "hub":
        g.add_edges_from((0, j) for j in range(1, n))
        return g
    for role in (0, 5):  # acute trusts and councils meet across places
        hubs = [p * per + role for p in range(places)]
        g.add_edges_from((i, j) for i in hubs for j in hubs if i < j)
    if network == "random":
        m = g.number_of_edges()
        for k in range(1000):
            g = nx.gnm_random_graph(n, m, seed=seed + k)
            if nx.is_connected(g):
                break
    return g


def integrated_care_system(*, places: int = 3, sanction: Any = 1.0, communication: Any = 0.5,
                           governance: str = "self", demand_growth: Any = 0.04,
                           budget_growth: Any = 0.01, demand_volatility: Any = 0.005,
                           network: str = "places", seed: int = 0) -> Model:
    r"""An Integrated Care System: organisations of places nested in a system, one care budget.

    Stylised: the argument modelled (Ham & Hall, on governing Integrated Care Systems by
    Ostrom's 1990 design principles) gives no numbers, and every value below is illustrative,
    chosen so that each mechanism has work to do. One round is one financial year.

    Each of ``places`` place-based partnerships has an acute trust, a community and mental
    health trust, three primary care networks, a council (social care) and two voluntary
    organisations (:data:`ICS_TYPES`). One budget, refilled every year, is shared by all;
    each organisation claims from it, claims beyond the budget are rationed in proportion, and
    need grows faster than the budget, so that claims outgrow it: tragedy is the default.

    ======================  ==============================================  ===================
    quantity                value (unit)                                    range accepted
    ======================  ==============================================  ===================
    round                   one financial year
    N                       8 ``places`` organisations                      places >= 1
    a_i                     0.8 ... 1.4 by type (value per unit**beta)      :data:`ICS_TYPES`
    beta, c                 1/2; 0.5 value lost per unit claimed
    claim cap               60 ... 200 budget units a year, by type
    B_0                     sum_i a_i**2 budget units (year-0 claims)
    ``budget_growth``       g_B = 0.01 a year: B_t = B_0 (1 + g_B)**t       > -1
    ``demand_growth``       g_D = 0.04 a year (median): need n_t            >= 0
    ``demand_volatility``   sigma_D = 0.005 a year: each replicate's need   >= 0
                            grows at max(0, g_D + sigma_D z), z ~ N(0, 1)
    quota                   q_i = 0.95 B_t a_i**2 / B_0 (share of budget)
    ``sanction``            s >= 0 (value per budget unit over the quota)   >= 0
    ``communication``       c in [0, 1] (meetings and covenants)            [0, 1]
    meetings                0.8 c O_e a year on a tie of overlap O_e; one
                            closes 0.3 of the gap to full trust
    covenant                6 c x trust in partners (conscience, value per
                            unit over the quota)
    peer detection          0.2 + 0.6 x share of neighbours complying
    graduated fines         s x (0, 0.5, 1) per unit over, by offence
    central control         audit 0.3 a year; fine 2 s per unit over
    civic duty              0.5 theta per unit over the quota, theta = 0.3
    trust                   fades 0.1 a year toward 0.1; halved on a
                            violation seen; starts at 0.1
    planning                each organisation re-plans its claim with
                            probability 0.3 a year (myopic best reply)
    tragedy                 tail efficiency (last tenth) below 0.8
    ======================  ==============================================  ===================

    An organisation's myopic best claim is its private optimum a_i**2 n_t, so claims outgrow
    the budget at the rate ``demand_growth`` - ``budget_growth`` (the budget pressure). Each
    organisation's quota is its need-weighted share of 95 % of the budget in hand, the same
    allocation under both governances (so that they differ only in how the rule is kept);
    the marginal gain of a unit over the quota is then the same for every organisation,
    MG_t = beta (n_t / (0.95 B_t / B_0))**(1 - beta) - c.

    ``governance="self"`` (the stewardship Ham & Hall argue for): the partners agree the shares;
    pairs of organisations linked in the trust network meet with probability 0.8 c O_e a year
    (O_e the overlap of the tie: places meet often, distant partners rarely), a meeting raising
    their trust (:class:`ContactTrust`); every year each pledges to keep to its quota and feels
    bound by the pledge at 6 c times its trust in its partners; peers watch each other
    (detection 0.2 + 0.6 x the share of its neighbours complying, observation noise 0.05), and
    fine graduated s x (0, 0.5, 1) per unit over the quota by offence (forgiven after two clean
    years), with cheap appeals (0.02) and mutual support (0.2 of a surplus); civic duty (0.5
    theta) stands. ``governance="central"``: the centre imposes the same shares, audits each
    organisation with probability 0.3 a year (0.05 per audit, paid by the centre) and fines 2 s
    per unit over the quota; the imposed target, the audits and the fines crowd out civic duty
    (theta falls 20 % a year under them); communication plays no part.

    The network carries trust: meetings happen along its ties, more often in dense places, so
    "random" (low overlap) builds less trust than "places", and "hub" leaves the hub's many
    ties to distant partners thin. It matters only under self-governance and only with
    communication (c > 0: at c = 0 there are no meetings and no covenant; the peer detection
    rate is the same on every network while everyone complies); and with one place all three
    networks are the same complete graph. Where deterrence holds is derived in
    :func:`commons.experiments.ics_boundary.deterrence_boundary`.

    ``sanction``, ``communication``, ``demand_growth``, ``budget_growth`` and
    ``demand_volatility`` may be arrays over replicates (a sweep in one batch).

    Parameters
    ----------
    places : int
        Number of place-based partnerships (>= 1), 8 organisations each.
    sanction : float or (R,) array
        Sanction strength s >= 0, in value per budget unit claimed over the quota.
    communication : float or (R,) array
        Communication c in [0, 1]: meetings and covenants (self-governance only).
    governance : {"self", "central"}
        Self-governance by the partners, or central control.
    demand_growth : float or (R,) array
        Median growth g_D >= 0 of need, per year.
    budget_growth : float or (R,) array
        Growth g_B > -1 of the budget, per year.
    demand_volatility : float or (R,) array
        Standard deviation sigma_D >= 0 of each replicate's growth of need, per year.
    network : {"places", "hub", "random"}
        The trust network (:func:`ics_graph`).
    seed : int
        Seed of the network's construction (random networks only).

    Returns
    -------
    Model
        The care system, ``8 * places`` organisations on the chosen network.

    Notes
    -----
    A replicate ends in tragedy when over its last tenth it earns less than 0.8 of the best
    value the (realised) need and budget allowed: organisations claim so far beyond their
    quotas that rationing and wasted claims cost a fifth of what the budget could buy. At the
    looser 0.5, the verdict would fall decades after deterrence failed, when claims had grown
    to several times the budget.
    """
    from ..sim.mechanisms import (
        Appeal,
        CentralAudit,
        CivicDuty,
        Covenant,
        CrowdingOut,
        GraduatedSanction,
        Meetings,
        MutualSupport,
        PeerMonitoring,
        QuotaFine,
    )
    from ..sim.resources import CareBudget
    from ..sim.rules import BestResponse

    if governance not in ("self", "central"):
        raise ValueError(f"governance must be 'self' or 'central', got {governance!r}")
    g = ics_graph(places, network, seed)
    n = g.number_of_nodes()
    sanc = check_array("sanction", sanction, low=0.0)
    comm = check_array("communication", communication, low=0.0, high=1.0)
    check_array("demand_growth", demand_growth, low=0.0)
    check_array("budget_growth", budget_growth, low=-1.0, low_open=True)
    check_array("demand_volatility", demand_volatility, low=0.0)
    a = np.array([t[1] for t in ICS_TYPES] * (n // len(ICS_TYPES)))
    cap = np.array([t[2] for t in ICS_TYPES] * (n // len(ICS_TYPES)))
    need = a**2  # unconstrained claims in year 0: (a beta / c)**(1 / (1 - beta))
    tech = UncertainDemand(a, _ELASTICITY, _CLAIM_COST, need_growth=demand_growth,
                           volatility=demand_volatility)
    resource = CareBudget(float(need.sum()), growth=budget_growth)
    mechanisms: list = []
    if governance == "self":
        quota = BudgetShares(_SHARE, need)
        mechanisms += [Meetings(0.0, _MEET_SLOPE * comm, by="overlap", boost=_MEET_BOOST),
                       Covenant(strength=_COVENANT * comm, target=cap, binding=False,
                                rate=0.0),
                       CivicDuty(_CIVIC), MutualSupport(0.2), CrowdingOut(0.2, 0.05)]
        monitoring = PeerMonitoring(*_PEER, noise=0.05)
        sanctions = [GraduatedSanction(_SCHEDULE, forgive_after=2, scale=sanc), Appeal(0.02)]
    else:
        quota = BudgetShares(_SHARE, need, imposed=True)
        mechanisms += [CivicDuty(_CIVIC), CrowdingOut(0.2, 0.05)]
        monitoring = CentralAudit(_AUDIT, cost=0.05)
        sanctions = [QuotaFine(_CENTRAL_FINE * sanc)]
    return Model(n, network=g, resource=resource, technology=tech, monitoring=monitoring,
                 quota=quota, sanctions=sanctions, mechanisms=mechanisms,
                 trust=ContactTrust(_TRUST_DECAY, _TRUST_FLOOR, betrayal=_BETRAYAL),
                 rule=BestResponse(_REVISION), max_draw=cap,
                 # the year-0 quotas, computed as BudgetShares computes them (to the bit)
                 initial_draws=_SHARE * (need / need.sum()) * need.sum(),
                 prosociality=_PROSOCIALITY, tragedy_threshold=_THRESHOLD,
                 name=f"Integrated Care System ({governance} governance)")
