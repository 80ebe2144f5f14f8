"""Studies described in TOML files, for ``commons sweep study.toml``.

A study file::

    [study]
    name = "sanctions on the ICS"
    scenario = "ics"            # a name of commons.scenarios.REGISTRY
    rounds = 100
    replicates = 20
    seed = 1
    store = "results/ics"       # relative to the file

    [fixed]                     # scenario arguments kept fixed
    network = "places"

    [design.grid]               # or [design.sample] with bounds, n, method
    sanction = [0.0, 0.5, 1.0]
    communication = [0.0, 0.25]
    governance = ["self", "central"]   # strings and integers keep their type

Optional keys of ``[study]``: ``chunk_size``, ``engine`` ("auto", "numba" or "numpy"),
``timeout`` (seconds per point), ``series`` (true, or a list of per-round series to store) and
``series_dtype`` ("float64" or "float32"). Integers given for a parameter whose default is a
real number (``fine = [0, 1, 2]``) are read as reals.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from .sweeps import Design

__all__ = ["load_study"]

_STUDY_KEYS = {"name", "scenario", "rounds", "replicates", "seed", "store", "chunk_size",
               "engine", "timeout", "series", "series_dtype"}


class StudyFileError(ValueError):
    """A study file that cannot be run as written."""


def load_study(path: str | Path) -> dict[str, Any]:
    """Read and check a study file; returns keyword arguments for :func:`run_sweep`.

    Parameters
    ----------
    path : str or Path
        The TOML study file (see the module docstring for its tables and keys).

    Returns
    -------
    dict
        Keyword arguments of :func:`commons.experiments.sweeps.run_sweep`: the scenario, the
        :class:`~commons.experiments.sweeps.Design`, rounds, replicates, seed, store (relative
        to the file) and the optional keys.

    Raises
    ------
    StudyFileError
        A file that cannot be read, is not TOML, or names an unknown key, scenario or
        parameter (the message names the file and the key).
    """
    from .scenarios import REGISTRY
    from .sweeps.run import ENGINES, _check_params, numeric_defaults

    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text())
    except OSError as exc:
        raise StudyFileError(f"{path}: cannot read the study file ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise StudyFileError(f"{path}: not valid TOML ({exc})") from exc
    study = doc.get("study")
    if not isinstance(study, dict):
        raise StudyFileError(f"{path}: a [study] table is required")
    unknown = set(study) - _STUDY_KEYS
    if unknown:
        raise StudyFileError(f"{path}: unknown key(s) in [study]: {sorted(unknown)}; "
                             f"allowed: {sorted(_STUDY_KEYS)}")
    scenario = study.get("scenario")
    if scenario not in REGISTRY:
        raise StudyFileError(f"{path}: [study] scenario must be one of {sorted(REGISTRY)}, "
                             f"got {scenario!r}")
    for key in ("rounds", "replicates"):
        if not isinstance(study.get(key), int) or study[key] < 1:
            raise StudyFileError(f"{path}: [study] {key} must be an integer >= 1, got "
                                 f"{study.get(key)!r}")
    fixed = doc.get("fixed", {})
    if not isinstance(fixed, dict):
        raise StudyFileError(f"{path}: [fixed] must be a table of scenario arguments")
    design_doc = doc.get("design")
    if not isinstance(design_doc, dict) or len(design_doc) != 1 \
            or next(iter(design_doc)) not in ("grid", "sample", "points"):
        raise StudyFileError(f"{path}: [design] must hold exactly one of [design.grid], "
                             "[design.sample] or [[design.points]]")
    kind, body = next(iter(design_doc.items()))
    try:
        if kind == "grid":
            design = Design.grid(**body)
        elif kind == "points":
            design = Design.from_points(body)
        else:
            bounds = {k: tuple(v) for k, v in body.get("bounds", {}).items()}
            design = Design.sample(bounds, int(body["n"]), method=body.get("method", "sobol"),
                                   seed=int(body.get("seed", 0)))
    except (TypeError, ValueError, KeyError) as exc:
        raise StudyFileError(f"{path}: malformed design: {exc}") from exc
    try:
        design = numeric_defaults(scenario, design)
        _check_params(scenario, design.names, fixed, design)
    except ValueError as exc:
        raise StudyFileError(f"{path}: {exc}") from exc
    store = study.get("store")
    store = None if store is None else str((path.parent / store).resolve())
    out = {"model": scenario, "design": design, "replicates": study["replicates"],
           "rounds": study["rounds"], "rng": study.get("seed"), "store": store,
           "fixed": fixed, "name": study.get("name", path.stem)}
    if "chunk_size" in study:
        if not isinstance(study["chunk_size"], int) or study["chunk_size"] < 1:
            raise StudyFileError(f"{path}: [study] chunk_size must be an integer >= 1, got "
                                 f"{study['chunk_size']!r}")
        out["chunk_size"] = study["chunk_size"]
    if "engine" in study:
        if study["engine"] not in ENGINES:
            raise StudyFileError(f"{path}: [study] engine must be one of "
                                 f"{', '.join(map(repr, ENGINES))}, got {study['engine']!r}")
        out["engine"] = study["engine"]
    if "timeout" in study:
        t = study["timeout"]
        if isinstance(t, bool) or not isinstance(t, int | float) or not t > 0:
            raise StudyFileError(f"{path}: [study] timeout must be a positive number of "
                                 f"seconds, got {t!r}")
        out["timeout"] = float(t)
    if "series" in study:
        from .sweeps.run import _series_arg
        try:
            out["series"] = list(_series_arg(study["series"]))
        except (TypeError, ValueError) as exc:
            raise StudyFileError(f"{path}: [study] {exc}") from exc
    if "series_dtype" in study:
        if study["series_dtype"] not in ("float64", "float32"):
            raise StudyFileError(f"{path}: [study] series_dtype must be 'float64' or "
                                 f"'float32', got {study['series_dtype']!r}")
        out["series_dtype"] = study["series_dtype"]
    seed = study.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise StudyFileError(f"{path}: [study] seed must be an integer >= 0, got {seed!r}")
    if not isinstance(out["name"], str):
        raise StudyFileError(f"{path}: [study] name must be a string, got {out['name']!r}")
    return out
