"""Mechanism plug-ins: rules in use, monitoring, sanctions, punishment, appeals, boundaries."""

from .boundaries import Boundary
from .conflict import Appeal
from .governance import FixedQuota, StockShareQuota
from .monitoring import CentralAudit, PeerMonitoring
from .punishment import PeerPunishment, fehr_gachter_cost
from .sanctions import GraduatedSanction, PoolPunishment, QuotaFine, UnitFee

__all__ = [
    "Appeal",
    "Boundary",
    "CentralAudit",
    "FixedQuota",
    "GraduatedSanction",
    "PeerMonitoring",
    "PeerPunishment",
    "PoolPunishment",
    "QuotaFine",
    "StockShareQuota",
    "UnitFee",
    "fehr_gachter_cost",
]
