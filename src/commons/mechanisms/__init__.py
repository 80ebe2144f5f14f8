"""Mechanism plug-ins: rules in use, monitoring, sanctions."""

from .governance import FixedQuota, StockShareQuota
from .monitoring import CentralAudit, PeerMonitoring
from .sanctions import QuotaFine

__all__ = ["CentralAudit", "FixedQuota", "PeerMonitoring", "QuotaFine", "StockShareQuota"]
