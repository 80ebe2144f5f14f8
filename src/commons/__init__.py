"""commons: when is the tragedy of the commons avoided?

Exact equilibria of the common-pool resource game and (in later modules) a vectorised
repeated-game engine with pluggable sanction and communication mechanisms.

The public face re-exports only; the work lives in the modules named for what they hold.
"""

from . import evolution, lake, plotting, scenarios, studies, sweep
from ._params import Uniform
from ._version import version as __version__
from .bioeconomics import GordonSchaefer, SteadyState
from .engine import Model, PluginError, simulate
from .equilibrium import (
    EquilibriumResult,
    nash_equilibrium,
    open_access,
    pigouvian_fee,
    social_optimum,
)
from .game import CPRGame
from .mechanisms import (
    Appeal,
    Boundary,
    CentralAudit,
    CivicDuty,
    Covenant,
    CrowdingOut,
    FixedQuota,
    Gossip,
    GraduatedSanction,
    Meetings,
    MutualSupport,
    PeerMonitoring,
    PeerPunishment,
    PoolPunishment,
    QuotaFine,
    QuotaVote,
    Regulator,
    StockShareQuota,
    UnitFee,
    fehr_gachter_cost,
)
from .network import TrustNetwork
from .payoffs import Fishery, LakeDamage, PrivateConcave, StageGame, Technology
from .plugin import PHASES, Plugin
from .production import Exponential, Power, Production, Quadratic
from .repeated import TriggerResult, critical_discount_factor, grim_trigger_sustains
from .resource import CareBudget, LakeStock, LogisticStock, NoStock, Resource
from .results import RunResult
from .rules import (
    BestResponse,
    ConditionalCooperation,
    FixedDraw,
    Imitation,
    LogitResponse,
    Mixed,
    PlayNash,
    PlayOptimum,
    ReviseOrImitate,
    RothErev,
    Rule,
    SmithEntry,
    Trigger,
)
from .state import State
from .trust import ComplianceTrust

__all__ = [
    "PHASES",
    "Appeal",
    "BestResponse",
    "Boundary",
    "CPRGame",
    "CareBudget",
    "CentralAudit",
    "CivicDuty",
    "ComplianceTrust",
    "ConditionalCooperation",
    "Covenant",
    "CrowdingOut",
    "EquilibriumResult",
    "Exponential",
    "Fishery",
    "FixedDraw",
    "FixedQuota",
    "GordonSchaefer",
    "Gossip",
    "GraduatedSanction",
    "Imitation",
    "LakeDamage",
    "LakeStock",
    "LogisticStock",
    "LogitResponse",
    "Meetings",
    "Mixed",
    "Model",
    "MutualSupport",
    "NoStock",
    "PeerMonitoring",
    "PeerPunishment",
    "PlayNash",
    "PlayOptimum",
    "Plugin",
    "PluginError",
    "PoolPunishment",
    "Power",
    "PrivateConcave",
    "Production",
    "Quadratic",
    "QuotaFine",
    "QuotaVote",
    "Regulator",
    "Resource",
    "ReviseOrImitate",
    "RothErev",
    "Rule",
    "RunResult",
    "SmithEntry",
    "StageGame",
    "State",
    "SteadyState",
    "StockShareQuota",
    "Technology",
    "Trigger",
    "TriggerResult",
    "TrustNetwork",
    "Uniform",
    "UnitFee",
    "__version__",
    "critical_discount_factor",
    "evolution",
    "fehr_gachter_cost",
    "grim_trigger_sustains",
    "lake",
    "nash_equilibrium",
    "open_access",
    "pigouvian_fee",
    "plotting",
    "scenarios",
    "simulate",
    "social_optimum",
    "studies",
    "sweep",
]
