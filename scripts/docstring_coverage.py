"""List the public objects whose docstring lacks a numpydoc section it needs.

Public objects: every name of ``commons`` (``commons._LAZY``), every name in the ``__all__`` of
the public modules, and the public methods and properties those classes define. Each is checked
with ``numpydoc.validate`` for:

* GL08: no docstring at all;
* PR01: parameters of the signature missing from a Parameters section;
* RT01: a function that returns a value without a Returns section;

and for mentions of files that do not ship with the package. Usage::

    python scripts/docstring_coverage.py            # the list, grouped by file, and totals
    python scripts/docstring_coverage.py --summary  # totals only

It exits with status 0 whatever it finds: it reports, it does not gate.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import sys
from collections import defaultdict

from numpydoc.docscrape import NumpyDocString
from numpydoc.validate import validate

#: Modules whose ``__all__`` is public (besides the names of ``commons`` itself).
MODULES = (
    "commons.exact.game", "commons.exact.production", "commons.exact.equilibrium",
    "commons.exact.repeated", "commons.exact.bioeconomics", "commons.exact.lake",
    "commons.exact.evolution",
    "commons.sim.state", "commons.sim.plugin", "commons.sim.model", "commons.sim.engine",
    "commons.sim.network", "commons.sim.trust", "commons.sim.resources",
    "commons.sim.technologies", "commons.sim.streams", "commons.sim.flow",
    "commons.sim.memory", "commons.sim.mechanisms", "commons.sim.rules",
    *(f"commons.sim.mechanisms.{m}" for m in (
        "boundaries", "communication", "conflict", "governance", "monitoring", "motivation",
        "punishment", "sanctions")),
    *(f"commons.sim.rules.{m}" for m in (
        "base", "imitation", "reciprocity", "reinforcement", "response")),
    "commons.experiments.scenarios", "commons.experiments.studies", "commons.experiments.ics",
    "commons.experiments.ics_boundary", "commons.experiments.studyfile",
    "commons.experiments.sweeps", "commons.results", "commons.plotting",
    "commons.testing",
)
CHECKS = {"GL08": "no docstring", "PR01": "Parameters", "RT01": "Returns"}
#: Words that point at files that do not ship with the package.
NOT_SHIPPED = re.compile(r"\bDESIGN\b|\bREFERENCES\b|BENCHMARK_MODEL|seed texts?|shared/|"
                         r"\b(?:tests|benchmarks|notebooks|scripts)/")


def _home(obj: object) -> str:
    """The import path under which an object is defined."""
    module = getattr(obj, "__module__", None) or ""
    name = getattr(obj, "__qualname__", getattr(obj, "__name__", ""))
    if "<locals>" in name:  # a decorated function (a hypothesis strategy): its public name
        name = getattr(obj, "__name__", name)
    return f"{module}.{name}"


def _documented_above(cls: type, name: str) -> bool:
    """Whether a base class of ``cls`` documents the member ``name``."""
    for base in cls.__mro__[1:]:
        member = vars(base).get(name)
        if member is not None and getattr(member, "__doc__", None):
            return True
    return False


def _attributes_cover(cls: type) -> bool:
    """Whether the Attributes section of a class documents every constructor parameter."""
    try:
        params = set(inspect.signature(cls).parameters) - {"self", "args", "kwargs"}
        if cls.__module__ != "commons.sim.plugin" and hasattr(cls, "phases"):
            params.discard("stream")
    except (TypeError, ValueError):
        return False
    documented: set[str] = set()
    for section in ("Attributes", "Parameters"):
        for item in NumpyDocString(inspect.getdoc(cls) or "")[section]:
            documented |= {n.strip() for n in item.name.split(",")}
    return params <= documented


def public_objects() -> dict[str, object]:
    """Every public object by its home import path (functions, classes, their members)."""
    import commons
    found: dict[str, object] = {}

    def add(obj: object) -> None:
        if inspect.ismodule(obj) or not (inspect.isclass(obj) or inspect.isfunction(obj)):
            return
        if not getattr(obj, "__module__", "").startswith("commons"):
            return
        found.setdefault(_home(obj), obj)
        if inspect.isclass(obj):
            for name, member in vars(obj).items():
                if name.startswith("_"):
                    continue
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if not (inspect.isfunction(member) or isinstance(member, property)):
                    continue
                if not member.__doc__ and _documented_above(obj, name):
                    continue  # an override: help() shows the base class's docstring
                found.setdefault(f"{_home(obj)}.{name}", member)

    for name in commons._LAZY:
        add(getattr(commons, name))
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            add(getattr(module, name))
    return found


def report() -> dict[str, dict[str, list[str]]]:
    """{file: {object path: [what is missing]}} over every public object."""
    out: dict[str, dict[str, list[str]]] = defaultdict(dict)
    for module_name in MODULES:  # module docstrings: only the files they may not cite
        module = importlib.import_module(module_name)
        if NOT_SHIPPED.search(module.__doc__ or ""):
            rel = (module.__file__ or "?").split("/src/", 1)[-1]
            out[rel][module_name] = ["mentions a file that does not ship"]
    for path, obj in sorted(public_objects().items()):
        try:
            result = validate(path)
        except Exception as exc:  # an object numpydoc cannot load or parse
            missing = [f"numpydoc could not validate it ({type(exc).__name__}: {exc})"]
            source = getattr(inspect.getmodule(obj), "__file__", "?")
        else:
            codes = {code for code, _ in result["errors"]}
            if "PR01" in codes and inspect.isclass(obj) and _attributes_cover(obj):
                codes.discard("PR01")  # a record: its fields are its Attributes, or the one
                # parameter left undocumented is the stream= every plug-in takes (on Plugin)
            missing = [what for code, what in CHECKS.items() if code in codes]
            source = result.get("file") or "?"
        doc = inspect.getdoc(obj) or ""
        if NOT_SHIPPED.search(doc):
            missing.append("mentions a file that does not ship")
        if missing:
            rel = source.split("/src/", 1)[-1]
            out[rel][path] = missing
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", action="store_true", help="print the totals only")
    args = parser.parse_args(argv)
    objects = public_objects()
    found = report()
    counts: dict[str, int] = defaultdict(int)
    for file in sorted(found):
        if not args.summary:
            print(file)
        for path, missing in found[file].items():
            for what in missing:
                counts[what] += 1
            if not args.summary:
                print(f"    {path}: {', '.join(missing)}")
    lacking = sum(len(v) for v in found.values())
    print(f"\n{len(objects)} public objects; {lacking} lack something: "
          + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
