"""commons: when is the tragedy of the commons avoided?

Three layers, one folder each: ``commons.exact`` (the stage game, equilibria, repeated-game
thresholds, bioeconomics, the lake, evolution on graphs), ``commons.sim`` (the vectorised
repeated-game engine and its plug-ins) and ``commons.experiments`` (scenarios, studies, sweeps).

The public face re-exports only; the work lives in the modules named for what they hold.
"""

from . import _aliases, plotting
from ._version import version as __version__
from .exact import evolution, lake
from .exact.bioeconomics import GordonSchaefer, SteadyState
from .exact.equilibrium import (
    EquilibriumResult,
    nash_equilibrium,
    open_access,
    pigouvian_fee,
    social_optimum,
)
from .exact.game import CPRGame
from .exact.production import Exponential, Power, Production, Quadratic
from .exact.repeated import TriggerResult, critical_discount_factor, grim_trigger_sustains
from .experiments import scenarios, studies
from .experiments import sweeps as sweep
from .results import RunResult
from .sim._params import Uniform, per_org, per_replicate
from .sim.engine import PluginError, simulate
from .sim.flow import FlowError
from .sim.mechanisms import (
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
from .sim.model import Model
from .sim.network import TrustNetwork
from .sim.plugin import PHASES, ROLES, Plugin, plugins
from .sim.resources import CareBudget, LakeStock, LogisticStock, NoStock, Resource
from .sim.rules import (
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
from .sim.state import State
from .sim.technologies import Fishery, LakeDamage, PrivateConcave, StageGame, Technology
from .sim.trust import ComplianceTrust

_aliases.install()

__all__ = [
    "PHASES",
    "ROLES",
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
    "FlowError",
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
    "per_org",
    "per_replicate",
    "pigouvian_fee",
    "plotting",
    "plugins",
    "scenarios",
    "simulate",
    "social_optimum",
    "studies",
    "sweep",
]
