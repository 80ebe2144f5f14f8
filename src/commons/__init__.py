"""commons: when is the tragedy of the commons avoided?

Three layers, one folder each: ``commons.exact`` (the stage game, equilibria, repeated-game
thresholds, bioeconomics, the lake, evolution on graphs), ``commons.sim`` (the vectorised
repeated-game engine and its plug-ins) and ``commons.experiments`` (scenarios, studies, sweeps).

The public face re-exports only; the work lives in the modules named for what they hold. Names
are imported on first use, so ``import commons`` is quick and the exact layer never loads numba.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import _aliases
from ._version import version as __version__

_aliases.install()

#: Public name -> (module, attribute; None for the module itself), imported on first use.
_LAZY: dict[str, tuple[str, str | None]] = {
    "Appeal": ("commons.sim.mechanisms", "Appeal"),
    "BestResponse": ("commons.sim.rules", "BestResponse"),
    "Boundary": ("commons.sim.mechanisms", "Boundary"),
    "CPRGame": ("commons.exact.game", "CPRGame"),
    "CareBudget": ("commons.sim.resources", "CareBudget"),
    "CentralAudit": ("commons.sim.mechanisms", "CentralAudit"),
    "CivicDuty": ("commons.sim.mechanisms", "CivicDuty"),
    "ComplianceTrust": ("commons.sim.trust", "ComplianceTrust"),
    "ConditionalCooperation": ("commons.sim.rules", "ConditionalCooperation"),
    "Covenant": ("commons.sim.mechanisms", "Covenant"),
    "CrowdingOut": ("commons.sim.mechanisms", "CrowdingOut"),
    "EquilibriumResult": ("commons.exact.equilibrium", "EquilibriumResult"),
    "Exponential": ("commons.exact.production", "Exponential"),
    "Fishery": ("commons.sim.technologies", "Fishery"),
    "FixedDraw": ("commons.sim.rules", "FixedDraw"),
    "FixedQuota": ("commons.sim.mechanisms", "FixedQuota"),
    "FlowError": ("commons.sim.flow", "FlowError"),
    "GordonSchaefer": ("commons.exact.bioeconomics", "GordonSchaefer"),
    "Gossip": ("commons.sim.mechanisms", "Gossip"),
    "GraduatedSanction": ("commons.sim.mechanisms", "GraduatedSanction"),
    "Imitation": ("commons.sim.rules", "Imitation"),
    "LakeDamage": ("commons.sim.technologies", "LakeDamage"),
    "LakeStock": ("commons.sim.resources", "LakeStock"),
    "LogisticStock": ("commons.sim.resources", "LogisticStock"),
    "LogitResponse": ("commons.sim.rules", "LogitResponse"),
    "Meetings": ("commons.sim.mechanisms", "Meetings"),
    "Mixed": ("commons.sim.rules", "Mixed"),
    "Model": ("commons.sim.model", "Model"),
    "MutualSupport": ("commons.sim.mechanisms", "MutualSupport"),
    "NoStock": ("commons.sim.resources", "NoStock"),
    "PHASES": ("commons.sim.plugin", "PHASES"),
    "PeerMonitoring": ("commons.sim.mechanisms", "PeerMonitoring"),
    "PeerPunishment": ("commons.sim.mechanisms", "PeerPunishment"),
    "PlayNash": ("commons.sim.rules", "PlayNash"),
    "PlayOptimum": ("commons.sim.rules", "PlayOptimum"),
    "Plugin": ("commons.sim.plugin", "Plugin"),
    "PluginError": ("commons.sim.engine", "PluginError"),
    "PoolPunishment": ("commons.sim.mechanisms", "PoolPunishment"),
    "Power": ("commons.exact.production", "Power"),
    "PrivateConcave": ("commons.sim.technologies", "PrivateConcave"),
    "Production": ("commons.exact.production", "Production"),
    "Quadratic": ("commons.exact.production", "Quadratic"),
    "QuotaFine": ("commons.sim.mechanisms", "QuotaFine"),
    "QuotaVote": ("commons.sim.mechanisms", "QuotaVote"),
    "ROLES": ("commons.sim.plugin", "ROLES"),
    "Regulator": ("commons.sim.mechanisms", "Regulator"),
    "Resource": ("commons.sim.resources", "Resource"),
    "ReviseOrImitate": ("commons.sim.rules", "ReviseOrImitate"),
    "RothErev": ("commons.sim.rules", "RothErev"),
    "Rule": ("commons.sim.rules", "Rule"),
    "RunResult": ("commons.results", "RunResult"),
    "SmithEntry": ("commons.sim.rules", "SmithEntry"),
    "StageGame": ("commons.sim.technologies", "StageGame"),
    "State": ("commons.sim.state", "State"),
    "SteadyState": ("commons.exact.bioeconomics", "SteadyState"),
    "StockShareQuota": ("commons.sim.mechanisms", "StockShareQuota"),
    "Technology": ("commons.sim.technologies", "Technology"),
    "Trigger": ("commons.sim.rules", "Trigger"),
    "TriggerResult": ("commons.exact.repeated", "TriggerResult"),
    "TrustNetwork": ("commons.sim.network", "TrustNetwork"),
    "Uniform": ("commons.sim._params", "Uniform"),
    "UnitFee": ("commons.sim.mechanisms", "UnitFee"),
    "critical_discount_factor": ("commons.exact.repeated", "critical_discount_factor"),
    "evolution": ("commons.exact.evolution", None),
    "fehr_gachter_cost": ("commons.sim.mechanisms", "fehr_gachter_cost"),
    "grim_trigger_sustains": ("commons.exact.repeated", "grim_trigger_sustains"),
    "lake": ("commons.exact.lake", None),
    "nash_equilibrium": ("commons.exact.equilibrium", "nash_equilibrium"),
    "open_access": ("commons.exact.equilibrium", "open_access"),
    "per_org": ("commons.sim._params", "per_org"),
    "per_replicate": ("commons.sim._params", "per_replicate"),
    "pigouvian_fee": ("commons.exact.equilibrium", "pigouvian_fee"),
    "plotting": ("commons.plotting", None),
    "plugins": ("commons.sim.plugin", "plugins"),
    "scenarios": ("commons.experiments.scenarios", None),
    "simulate": ("commons.sim.engine", "simulate"),
    "social_optimum": ("commons.exact.equilibrium", "social_optimum"),
    "studies": ("commons.experiments.studies", None),
    "sweep": ("commons.experiments.sweeps", None),
}


def __getattr__(name: str) -> Any:
    try:
        module, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'commons' has no attribute {name!r}") from None
    mod = importlib.import_module(module)
    value = mod if attr is None else getattr(mod, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from . import plotting
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
