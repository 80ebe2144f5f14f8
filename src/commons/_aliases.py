"""Old module paths (``commons.game``, ``commons.sweep``, ...) kept importable after the layout
moved them into ``commons.exact``, ``commons.sim`` and ``commons.experiments``.

A finder at the front of ``sys.meta_path`` answers only for names under the old paths and hands
back the module already imported under its new name, so ``commons.engine.Model`` and
``commons.sim.engine.Model`` are the same object (no module is loaded twice).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

__all__ = ["ALIASES", "install"]

#: old module path -> new module path (submodules follow their package)
ALIASES: dict[str, str] = {
    **{f"commons.{m}": f"commons.exact.{m}"
       for m in ("game", "production", "equilibrium", "repeated", "bioeconomics", "lake",
                 "evolution")},
    **{f"commons.{m}": f"commons.sim.{m}"
       for m in ("state", "plugin", "engine", "streams", "network", "trust", "mechanisms",
                 "rules")},
    "commons.resource": "commons.sim.resources",
    "commons.payoffs": "commons.sim.technologies",
    **{f"commons.{m}": f"commons.experiments.{m}"
       for m in ("scenarios", "studies", "studyfile")},
    "commons.sweep": "commons.experiments.sweeps",
    "commons.experiments.sweep": "commons.experiments.sweeps",
}


def _target(fullname: str) -> str | None:
    for old, new in ALIASES.items():
        if fullname == old or fullname.startswith(old + "."):
            return new + fullname[len(old):]
    return None


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec):
        return importlib.import_module(self.target)

    def exec_module(self, module) -> None:
        return None


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        new = _target(fullname)
        if new is None:
            return None
        return importlib.util.spec_from_loader(fullname, _AliasLoader(new))


def install() -> None:
    """Put the alias finder at the front of ``sys.meta_path`` (once)."""
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _AliasFinder())
