"""Mechanism plug-ins: rules in use, monitoring, sanctions, punishment, appeals, boundaries."""

from .boundaries import Boundary
from .communication import Covenant, Gossip, Meetings, MutualSupport
from .conflict import Appeal
from .governance import FixedQuota, QuotaVote, Regulator, StockShareQuota
from .monitoring import CentralAudit, PeerMonitoring
from .motivation import CivicDuty, CrowdingOut
from .punishment import PeerPunishment, fehr_gachter_cost
from .sanctions import GraduatedSanction, PoolPunishment, QuotaFine, UnitFee

__all__ = [
    "Appeal",
    "Boundary",
    "CentralAudit",
    "CivicDuty",
    "Covenant",
    "CrowdingOut",
    "FixedQuota",
    "Gossip",
    "GraduatedSanction",
    "Meetings",
    "MutualSupport",
    "PeerMonitoring",
    "PeerPunishment",
    "PoolPunishment",
    "QuotaFine",
    "QuotaVote",
    "Regulator",
    "StockShareQuota",
    "UnitFee",
    "fehr_gachter_cost",
]
