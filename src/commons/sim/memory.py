"""Memory a run needs, estimated before it starts, and refused when the machine lacks it."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = ["InsufficientMemory", "available_memory", "check_memory", "plugin_bytes", "run_bytes"]


class InsufficientMemory(MemoryError):
    """A run or sweep that would need more memory than the machine has available."""


def available_memory() -> int | None:
    """Bytes of memory available now (MemAvailable on Linux; None where unknown).

    Returns
    -------
    int or None
        Available bytes, from ``/proc/meminfo`` or ``os.sysconf``.
    """
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not on Linux
        return None


def run_bytes(R: int, N: int, E: int, T: int, record: Any) -> int:
    """Bytes a run of R replicates, N organisations, E edges and T rounds holds at its peak.

    Series: one float64 per replicate and round for each series the run keeps (13 and the
    derived efficiency for "summary" and "full"; the four the metrics are made from for
    "final"; the named ones, with the efficiency when ``rent`` is named); full records: 3
    float64 per agent-round; the state and its temporaries: about 60 float64 per organisation
    and 8 per edge, per replicate.

    Parameters
    ----------
    R, N, E, T : int
        Replicates, organisations, directed edges and rounds.
    record : {"summary", "full", "final"} or sequence of str
        What the run keeps (see :func:`commons.simulate`).

    Returns
    -------
    int
        The estimate, in bytes.
    """
    from .engine import record_plan
    kept, _, full_kept = record_plan(record)
    n_series = len(kept) + (1 if "rent" in kept and record != "final" else 0)
    series = n_series * R * T * 8
    full = 3 * R * T * N * 8 if full_kept else 0
    state = R * (60 * N + 8 * E) * 8
    return series + full + state


def plugin_bytes(model, R: int) -> int:
    """Bytes of the memory the model's plug-ins declare (their arrays per replicate, e.g. a
    punishment's four numbers per edge), for R replicates.

    Parameters
    ----------
    model : Model
        The model.
    R : int
        Replicates.

    Returns
    -------
    int
        The sum over plug-ins and their memory of the array's size times its item size.
    """
    total = 0
    for p in model.all_plugins():
        for shape, dtype in p.memory_shapes(R, model.n, model.network.n_edges).values():
            total += int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    return total


def check_memory(model, R: int, T: int, record: Any) -> None:
    """Refuse a run that needs more than the available memory, naming what drives it.

    Parameters
    ----------
    model : Model
        The model to run.
    R, T : int
        Replicates and rounds.
    record : {"summary", "full", "final"} or sequence of str
        What the run keeps.

    Raises
    ------
    InsufficientMemory
        When :func:`run_bytes` and :func:`plugin_bytes` together exceed
        :func:`available_memory`, with the estimate and what to change.
    """
    need = run_bytes(R, model.n, model.network.n_edges, T, record) + plugin_bytes(model, R)
    have = available_memory()
    if have is None or need <= have:
        return
    gib = 2.0**30
    what = ("record='full' keeps every draw, grant and payoff (3 numbers per organisation "
            "and round); use record='summary'" if record == "full" else
            "reduce rounds or replicates, or run them in batches")
    raise InsufficientMemory(f"this run needs about {need / gib:.1f} GiB (R = {R}, N = "
                             f"{model.n}, T = {T}, record={record!r}) but {have / gib:.1f} GiB "
                             f"is available: {what}")
