"""How a model runs compiled: fused into one kernel, act by act, or not at all.

numba is an optional dependency (the ``fast`` extra); without it every model runs on the numpy
path. With it, :func:`plan_for` generates (or loads from the cache) the model's compiled plan
(:mod:`commons.sim.codegen`): one fused kernel when every act of the round has a compiled form,
else batch functions for the acts that have one.

Threading layer: unless the user has chosen one (``NUMBA_THREADING_LAYER`` or
``numba.config.THREADING_LAYER``), the first compiled run selects numba's ``"forksafe"`` layer
(TBB when installed, else numba's workqueue). The default GNU OpenMP layer aborts any process
forked after a parallel kernel ran ("fork() called from a process already using GNU OpenMP"),
which would break a user's default ``ProcessPoolExecutor``. Kernel launches are serialised by
a lock, since the workqueue layer does not accept concurrent launches from several threads.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from typing import Any

__all__ = ["LAUNCH", "ensure_threading_layer", "plan_for", "supports", "why_not"]

#: Serialises kernel launches (the workqueue layer takes one at a time).
LAUNCH = threading.Lock()


def ensure_threading_layer() -> None:
    """Select numba's fork-safe threading layer unless the user chose one (see above)."""
    import numba as nb

    if nb.config.THREADING_LAYER == "default" and "NUMBA_THREADING_LAYER" not in os.environ:
        nb.config.THREADING_LAYER = "forksafe"


def have_numba() -> bool:
    """Whether numba is installed."""
    return importlib.util.find_spec("numba") is not None


def missing(model: Any) -> list[str]:
    """The acts of ``model`` that have no compiled form, as "Plugin.phase" strings."""
    from .codegen import compiled_forms
    forms = compiled_forms(model)
    return [f"{type(a.plugin).__name__}.{a.phase}" for a, f in zip(model.acts, forms,
                                                                     strict=True) if f is None]


def why_not(model: Any) -> str:
    """Why ``model`` cannot run as one fused kernel ('' if it can)."""
    if not have_numba():
        return "numba is not installed (pip install 'commons-engine[fast]')"
    gaps = missing(model)
    return ("acts without a compiled form: " + ", ".join(gaps)) if gaps else ""


def supports(model: Any) -> bool:
    """Whether ``model`` runs as one fused kernel."""
    return not why_not(model)


def plan_for(model: Any) -> Any:
    """The model's compiled plan (cached on the model, for the current
    :data:`commons.sim.codegen.FUSE`), or None without numba."""
    if not have_numba():
        return None
    from . import codegen
    fuse, plan = model.__dict__.get("_compiled_plan", (None, None))
    if plan is None or fuse != codegen.FUSE:  # a plan made act by act is not a fused one
        plan = codegen.kernel_for(model)
        model.__dict__["_compiled_plan"] = (codegen.FUSE, plan)
    return plan
