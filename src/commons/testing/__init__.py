"""Testing helpers users import in their own tests.

* :func:`check_plugin`: the contract test of a plug-in (built-in or your own): it does what it
  declares, and the engine's guarantees hold with it in a model;
* :mod:`commons.testing.strategies`: hypothesis strategies for CPR games (``productions``,
  ``endowments``, ``games``), also importable from here (they need hypothesis, the ``test``
  extra, and are imported on first use).
"""

from __future__ import annotations

from typing import Any

from .contract import ContractError, ContractReport, check_plugin, host_model

__all__ = ["ContractError", "ContractReport", "check_plugin", "endowments", "games",
           "host_model", "productions"]


def __getattr__(name: str) -> Any:
    if name in ("endowments", "games", "productions"):
        from . import strategies
        return getattr(strategies, name)
    raise AttributeError(f"module 'commons.testing' has no attribute {name!r}")
