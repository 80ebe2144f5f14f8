"""Compiled fast path (placeholder until the fused kernel lands)."""

from __future__ import annotations


def why_not(model) -> str:
    """Why ``model`` cannot run on the compiled kernel ('' if it can)."""
    return "the compiled kernel is not available"


def supports(model) -> bool:
    """Whether ``model`` can run on the compiled kernel."""
    return not why_not(model)


def run(model, ctx, record, bind, recorder):  # pragma: no cover - placeholder
    raise NotImplementedError
