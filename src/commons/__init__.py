"""commons: when is the tragedy of the commons avoided?

Exact equilibria of the common-pool resource game and (in later modules) a vectorised
repeated-game engine with pluggable sanction and communication mechanisms.

The public face re-exports only; the work lives in the modules named for what they hold.
"""

from ._version import version as __version__
from .bioeconomics import GordonSchaefer, SteadyState
from .equilibrium import EquilibriumResult, nash_equilibrium, open_access, social_optimum
from .game import CPRGame
from .production import Exponential, Power, Production, Quadratic
from .repeated import TriggerResult, critical_discount_factor, grim_trigger_sustains

__all__ = [
    "CPRGame",
    "EquilibriumResult",
    "Exponential",
    "GordonSchaefer",
    "Power",
    "Production",
    "Quadratic",
    "SteadyState",
    "TriggerResult",
    "__version__",
    "critical_discount_factor",
    "grim_trigger_sustains",
    "nash_equilibrium",
    "open_access",
    "social_optimum",
]
