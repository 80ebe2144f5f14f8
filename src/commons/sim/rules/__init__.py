"""Decision rules (each a plug-in of the decide and learn phases)."""

from .base import FixedDraw, Mixed, PlayNash, PlayOptimum, Rule
from .imitation import Imitation, ReviseOrImitate
from .reciprocity import ConditionalCooperation, Trigger
from .reinforcement import RothErev
from .response import BestResponse, LogitResponse, SmithEntry

__all__ = [
    "BestResponse",
    "ConditionalCooperation",
    "FixedDraw",
    "Imitation",
    "LogitResponse",
    "Mixed",
    "PlayNash",
    "PlayOptimum",
    "ReviseOrImitate",
    "RothErev",
    "Rule",
    "SmithEntry",
    "Trigger",
]
