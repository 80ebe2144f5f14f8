"""The plug-in models the engine benchmarks time beside CPR-v1 (about 100 organisations each).

* ``ostrom``: :func:`commons.scenarios.ostrom_commons` with 4 places of 25;
* ``ics-self`` and ``ics-central``: the Integrated Care System with 12 places (96
  organisations) under self-governance and under central control;
* ``lab-sanctions``: a 100-organisation CPR game (F(X) = 23 X - 0.25 X**2, outside return 5,
  25 tokens each) on the CPR-v1 network, with a quota at the optimal share, central audits,
  graduated sanctions and peer punishment, learned by noisy best response;
* ``lab-talk``: the same game with meetings, covenants and gossip instead of sanctions.
"""

from __future__ import annotations

import commons
from commons.experiments.scenarios import cpr_v1_graph


def _lab(n: int = 100, **slots):
    game = commons.CPRGame(n, commons.Quadratic(23.0, 0.25), 5.0, 25.0)
    share = float(commons.social_optimum(game).draws[0])
    return commons.Model(n, technology=commons.StageGame(game), network=cpr_v1_graph(n),
                         quota=commons.FixedQuota(share),
                         rule=commons.BestResponse(0.3, noise=0.5), **slots)


def lab_sanctions(n: int = 100) -> commons.Model:
    """CentralAudit + GraduatedSanction + PeerPunishment."""
    return _lab(n, monitoring=commons.CentralAudit(0.5),
                sanctions=[commons.GraduatedSanction((0.0, 10.0, 20.0), forgive_after=2),
                           commons.PeerPunishment(1)])


def lab_talk(n: int = 100) -> commons.Model:
    """Meetings + Covenant + Gossip."""
    return _lab(n, mechanisms=[commons.Meetings(0.1, 0.5), commons.Covenant(),
                               commons.Gossip(see=0.5, tell=0.5)])


MODELS = {
    "ostrom": lambda: commons.scenarios.ostrom_commons(places=4, per_place=25),
    "ics-self": lambda: commons.scenarios.integrated_care_system(places=12, governance="self"),
    "ics-central": lambda: commons.scenarios.integrated_care_system(places=12,
                                                                    governance="central"),
    "lab-sanctions": lab_sanctions,
    "lab-talk": lab_talk,
}
