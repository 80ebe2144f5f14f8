r"""The State: one dataclass of arrays, the only thing the phases of a round read and write.

Every field is declared here once, with its shape, type, units, initial value and who may write
it; plug-ins name the fields they read and write (:class:`commons.Plugin`), and the model checks
the flow at construction (:func:`commons.sim.flow.check_flow`). The table of fields is
:data:`FIELDS`; ``State.describe_fields()`` prints it.

Shapes: R replicates, N organisations, E directed edges of the trust network.

* ``replicate``: (R,), one value per replicate;
* ``org``: (R, N), one per organisation;
* ``edge``: (R, E), one per directed edge i -> j (the network's CSR order);
* ``charges``: (R, 6, N), one per organisation for each (kind, recipient) pair.

Money. Plug-ins never edit payoffs directly: they :meth:`~State.charge` an organisation a fine
(for an offence) or a cost (a fee, an effort) with a recipient (the regulator, burned, or the
members, who share it equally) and :meth:`~State.transfer` money between members. After the
sanction phase the engine settles the round,

.. math:: \pi_i = g_i - \text{fines}_i - \text{costs}_i + \text{transfers}_i,

and summed over organisations, payoffs + regulator income + burned = gross: nothing is created
or lost unaccounted.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

__all__ = ["FIELDS", "KINDS", "RECIPIENTS", "FieldSpec", "State", "charge_index"]

#: What an organisation pays: a fine (for an offence) or a cost (a fee, an effort).
KINDS = ("fine", "cost")
#: Where money paid goes: the regulator, nowhere (burned), or back to the members equally.
RECIPIENTS = ("regulator", "burned", "members")


def charge_index(kind: str, recipient: str) -> int:
    """Row of ``State.charges`` holding charges of ``kind`` paid to ``recipient``.

    Rows are ordered kind-major: index = KINDS.index(kind) * 3 + RECIPIENTS.index(recipient).
    Compiled forms write ``S.charges[r, charge_index(kind, recipient), i]`` directly.

    Parameters
    ----------
    kind : {"fine", "cost"}
        A fine (for an offence) or a cost (a fee, an effort).
    recipient : {"regulator", "burned", "members"}
        Who receives the money.

    Returns
    -------
    int
        The row, in 0..5.

    Raises
    ------
    ValueError
        An unknown kind or recipient.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    if recipient not in RECIPIENTS:
        raise ValueError(f"recipient must be one of {RECIPIENTS}, got {recipient!r}")
    return KINDS.index(kind) * len(RECIPIENTS) + RECIPIENTS.index(recipient)


@dataclass(frozen=True)
class FieldSpec:
    """What a State field is.

    Attributes
    ----------
    name : str
    shape : {"replicate", "org", "edge", "charges"}
    dtype : type
        ``float``, ``bool`` or ``int``.
    units : str
        Units of the values ("" if dimensionless).
    doc : str
        What it holds.
    initial : str
        Its value before any plug-in writes it, in words ("" when it has no meaning until a
        plug-in of the model writes it: a reader then needs a writer; the flow check says so).
    reset : object
        The value it is reset to at the start of every round (None: it persists).
    accumulate : bool
        Whether several plug-ins may write it, each updating what the others left (sums such
        as expected charges, successive refinements such as the quota, trust moved by several
        mechanisms). A field that is not accumulating has at most one writer.
    engine : tuple of str
        Where the engine itself writes it ("begin", "decide", "appropriate", "settle",
        "learn"), for the flow check.
    """

    name: str
    shape: str
    dtype: type
    units: str
    doc: str
    initial: str
    reset: Any
    accumulate: bool
    engine: tuple[str, ...]

    @property
    def needs_writer(self) -> bool:
        """True if the field has no meaningful value until a plug-in writes it."""
        return self.initial == ""


def _f(shape: str, dtype: type, units: str, doc: str, *, initial: str = "0",
       reset: Any = None, accumulate: bool = False, engine: tuple[str, ...] = ()) -> Any:
    meta = {"spec": (shape, dtype, units, doc, initial, reset, accumulate, engine)}
    return field(default=None, metadata=meta)


@dataclass(eq=False)
class State:
    """Everything that changes during a run, for R replicates and N organisations at once.

    Build one with :meth:`empty`; the engine does. Each field is an array whose shape, units
    and writers are declared in :data:`FIELDS`; :meth:`describe_fields` prints that table
    (name, shape, type, units, meaning). Plug-ins read and write fields in place or by
    assignment, and keep private memory in ``memory[plugin.name]`` (declared by the
    plug-in's ``memory``).

    The constructor, generated from the fields, takes each of them as a keyword argument
    (default None, unallocated); it is not meant to be called directly: :meth:`empty`
    allocates every field with its shape, dtype and initial value. Its parameters, listed
    below, are written from :data:`FIELDS` when the module loads, so they never drift from it.
    """

    # --- the pool
    stock: np.ndarray = _f("replicate", float, "resource units",
                           "The pool: after appropriation, then after regeneration.",
                           initial="the resource's initial stock")
    stock_start: np.ndarray = _f("replicate", float, "resource units",
                                 "The pool at the start of the round.", engine=("begin",))
    ration: np.ndarray = _f("replicate", float, "",
                            "Share of every claim the pool granted this round (1: no "
                            "rationing).", initial="1", reset=1.0)
    collapsed: np.ndarray = _f("replicate", bool, "",
                               "Whether the resource has collapsed (absorbing).",
                               initial="False")
    collapse_round: np.ndarray = _f("replicate", int, "round",
                                    "Round of the collapse (-1 if none).", initial="-1")
    # --- draws
    draws: np.ndarray = _f("org", float, "resource units per round",
                           "Intended draws this round, clipped to [0, max_draw] and 0 for "
                           "excluded organisations.", engine=("decide",))
    next_draws: np.ndarray = _f("org", float, "resource units per round",
                                "Draws chosen in the learn phase for the next round.",
                                initial="the model's initial draws", engine=("learn",))
    demand: np.ndarray = _f("org", float, "resource units",
                            "Claims on the pool implied by the draws (the technology's).")
    granted: np.ndarray = _f("org", float, "resource units",
                             "What the pool granted (claims, rationed proportionally).")
    quota: np.ndarray = _f("org", float, "resource units per round",
                           "Each organisation's quota in force (inf: none). Rules in use set "
                           "it; later mechanisms refine it.", initial="inf (no quota)",
                           accumulate=True)
    compliant: np.ndarray = _f("org", bool, "", "granted <= quota (the truth).",
                               initial="True", engine=("appropriate",))
    # --- monitoring
    detect_prob: np.ndarray = _f("org", float, "probability",
                                 "Probability of being inspected this round.", initial="",
                                 reset=0.0)
    inspected: np.ndarray = _f("org", bool, "", "Whether monitoring looked this round.",
                               initial="", reset=False)
    observed: np.ndarray = _f("org", float, "resource units",
                              "The draw monitoring saw (granted, unless observation is "
                              "noisy).", initial="")
    detected: np.ndarray = _f("org", bool, "",
                              "Inspected and seen over the quota: the sanctions' target. "
                              "Wrong when a compliant organisation is misread (wrongful).",
                              initial="", reset=False)
    # --- what best replies weigh
    penalty_rate: np.ndarray = _f("org", float, "money per resource unit",
                                  "Expected charge per unit over the quota (fines times "
                                  "detection, conscience), which best replies weigh.",
                                  reset=0.0, accumulate=True)
    unit_charge: np.ndarray = _f("org", float, "money per resource unit",
                                 "Charge per unit drawn (fees), which best replies weigh.",
                                 reset=0.0, accumulate=True)
    # --- money
    gross: np.ndarray = _f("org", float, "money",
                           "Payoffs before the round's charges and transfers.")
    charges: np.ndarray = _f("charges", float, "money",
                             "Charges of the round by (kind, recipient), see charge_index.",
                             reset=0.0, accumulate=True)
    transfers: np.ndarray = _f("org", float, "money",
                               "Money received from other members this round (negative: "
                               "given).", reset=0.0, accumulate=True, engine=("settle",))
    fines: np.ndarray = _f("org", float, "money", "Settled fines of the round.",
                           engine=("settle",))
    costs: np.ndarray = _f("org", float, "money", "Settled costs of the round.",
                           engine=("settle",))
    payoffs: np.ndarray = _f("org", float, "money",
                             "gross - fines - costs + transfers.", engine=("settle",))
    regulator_spending: np.ndarray = _f("replicate", float, "money",
                                        "What the regulator spent this round (audits), from "
                                        "outside the group.", reset=0.0, accumulate=True)
    external: np.ndarray = _f("replicate", bool, "",
                              "Whether an external control acted on the group this round.",
                              initial="False", reset=False, accumulate=True)
    # --- sanctions and their record
    sanctioned: np.ndarray = _f("org", bool, "", "Fined or punished this round.",
                                initial="False", reset=False, accumulate=True)
    recorded: np.ndarray = _f("org", bool, "", "Offences put on record this round.",
                              initial="False", reset=False, accumulate=True)
    offences: np.ndarray = _f("org", int, "offences", "Offences on record.",
                              accumulate=True)
    excluded_now: np.ndarray = _f("org", bool, "", "Exclusions imposed this round.",
                                  initial="False", reset=False, accumulate=True)
    excluded: np.ndarray = _f("org", bool, "", "Barred from drawing this round.",
                              initial="False", accumulate=True, engine=("begin",))
    exclusion_left: np.ndarray = _f("org", int, "rounds",
                                    "Rounds of exclusion still to serve after this one.",
                                    accumulate=True, engine=("begin",))
    appealed: np.ndarray = _f("org", bool, "", "Appealed a sanction this round.",
                              initial="", reset=False)
    # --- trust, talk and motivation
    trust: np.ndarray = _f("edge", float, "", "Trust on each directed edge i -> j, in [0, 1].",
                           initial="the trust plug-in's initial trust", accumulate=True)
    met: np.ndarray = _f("edge", bool, "",
                         "Whether the pair on each edge met this round (symmetric).",
                         initial="", reset=False)
    pledge: np.ndarray = _f("org", float, "resource units per round",
                            "The draw each organisation last pledged (inf before any "
                            "pledge).", initial="")
    called_out: np.ndarray = _f("org", float, "organisations",
                                "How many organisations know of this round's violation.",
                                initial="", reset=0.0)
    motivation: np.ndarray = _f("org", float, "",
                                "Intrinsic motivation theta_i in [0, 1], the weight on the "
                                "group's mean payoff.", initial="the model's prosociality",
                                accumulate=True)
    t: int = 0
    memory: dict[str, dict[str, Any]] = field(default_factory=dict)

    # ------------------------------------------------------------------ construction
    @classmethod
    def empty(cls, R: int, N: int, E: int) -> State:
        """A state for R replicates, N organisations and E edges, every field at its start.

        Parameters
        ----------
        R, N, E : int
            Replicates, organisations and directed edges of the trust network.

        Returns
        -------
        State
            Every field allocated with its declared shape and set to its initial value
            (zeros, except ration 1, quota and pledge inf, compliant True, collapse_round -1).
        """
        shapes = {"replicate": (R,), "org": (R, N), "edge": (R, E),
                  "charges": (R, len(KINDS) * len(RECIPIENTS), N)}
        st = cls()
        for spec in FIELDS.values():
            setattr(st, spec.name, np.zeros(shapes[spec.shape], spec.dtype))
        st.ration.fill(1.0)
        st.quota.fill(np.inf)
        st.compliant.fill(True)
        st.pledge.fill(np.inf)
        st.collapse_round.fill(-1)
        return st

    @property
    def R(self) -> int:
        """Number of replicates."""
        return self.draws.shape[0]

    @property
    def N(self) -> int:
        """Number of organisations."""
        return self.draws.shape[1]

    @property
    def wrongful(self) -> np.ndarray:
        """Detected although compliant (noisy observation), (R, N) bool."""
        return self.detected & self.compliant

    @staticmethod
    def describe_fields() -> str:
        """The table of fields: name, shape, type, units and meaning.

        Returns
        -------
        str
            One line per field of :data:`FIELDS`.
        """
        rows = [f"{s.name:20} {s.shape:10} {s.dtype.__name__:6} {s.units:26} {s.doc}"
                for s in FIELDS.values()]
        return "\n".join(rows)

    def begin_round(self, t: int) -> None:
        """Reset the per-round fields before round t and serve exclusions.

        Copies the stock into ``stock_start``, fills every field that declares a ``reset``
        value with it, and bars from drawing this round the organisations with exclusion
        rounds left (counting one down).

        Parameters
        ----------
        t : int
            The round about to be played (0-based).
        """
        self.t = t
        self.stock_start = self.stock.copy()
        for spec in _RESET:
            getattr(self, spec.name).fill(spec.reset)
        self.excluded = self.exclusion_left > 0
        self.exclusion_left = np.maximum(self.exclusion_left - 1, 0)

    def copy(self) -> State:
        """A deep copy (every array and the plug-in memory copied).

        Returns
        -------
        State
            A state sharing no array with this one.
        """
        out = State(t=self.t, memory=_copy_memory(self.memory))
        for name in FIELDS:
            setattr(out, name, getattr(self, name).copy())
        return out

    # ------------------------------------------------------------------ money
    @property
    def ledger(self) -> dict[str, np.ndarray]:
        """The round's charges as "kind:recipient" -> (R, N) views of ``charges``."""
        return {f"{k}:{r}": self.charges[:, charge_index(k, r)]
                for k in KINDS for r in RECIPIENTS}

    def charge(self, kind: str, amount: np.ndarray, recipient: str) -> None:
        """Charge organisations ``amount`` (R, N) >= 0 as a ``kind`` paid to ``recipient``.

        Charges accumulate over the round and are settled after the sanction phase:
        pi_i = g_i - fines_i - costs_i + transfers_i, what goes to the members being shared
        equally among the N organisations. A plug-in that charges declares ``"charges"`` among
        its writes.

        Parameters
        ----------
        kind : {"fine", "cost"}
            A fine (for an offence) or a cost (a fee, an effort).
        amount : ndarray, shape (R, N)
            Money charged to each organisation, >= 0.
        recipient : {"regulator", "burned", "members"}
            The regulator (outside the group), nobody (burned) or the members (shared equally).
        """
        self.charges[:, charge_index(kind, recipient)] += amount

    def charged(self, kind: str | None = None) -> np.ndarray:
        """Total charged to each organisation so far this round, (R, N) (one kind or both).

        Parameters
        ----------
        kind : {"fine", "cost"}, optional
            One kind of charge, or both (None).

        Returns
        -------
        ndarray, shape (R, N)
            Money charged, summed over recipients.
        """
        if kind is None:
            return self.charges.sum(axis=1)
        k = KINDS.index(kind) * len(RECIPIENTS)
        return self.charges[:, k:k + len(RECIPIENTS)].sum(axis=1)

    def refund(self, kind: str, mask: np.ndarray) -> None:
        """Cancel this round's charges of ``kind`` to the organisations in ``mask`` (R, N).

        Used by appeals that overturn a sanction (Ostrom 1990, principle 6).

        Parameters
        ----------
        kind : {"fine", "cost"}
            The kind of charge cancelled, whatever its recipient.
        mask : ndarray of bool, shape (R, N)
            The organisations whose charges are cancelled.
        """
        for r in RECIPIENTS:
            row = self.charges[:, charge_index(kind, r)]
            row[mask] = 0.0

    def transfer(self, amount: np.ndarray) -> None:
        """Move money between members: ``amount`` (R, N) received (negative: given).

        Each replicate's amounts must sum to zero, so that transfers are budget-balanced. A
        plug-in that transfers declares ``"transfers"`` among its writes.

        Parameters
        ----------
        amount : ndarray, shape (R, N)
            Money received by each organisation (negative: given), rows summing to 0.
        """
        self.transfers += amount

    def settle(self) -> None:
        """Total the round's charges; share what goes to the members; set the payoffs."""
        led = self.ledger
        self.fines = led["fine:regulator"] + led["fine:burned"] + led["fine:members"]
        self.costs = led["cost:regulator"] + led["cost:burned"] + led["cost:members"]
        # added in organisation order, as compiled code adds (numpy's sum of a row adds in
        # eight running sums: another rounding once several organisations pay)
        shared = np.cumsum(led["fine:members"] + led["cost:members"], axis=1)[:, -1:]
        self.transfers = self.transfers + shared / self.N
        self.payoffs = self.gross - self.fines - self.costs + self.transfers

    def income(self, recipient: str) -> np.ndarray:
        """Money received this round by ``recipient`` ("regulator" or "burned"), (R,).

        Parameters
        ----------
        recipient : {"regulator", "burned"}
            Who received it.

        Returns
        -------
        ndarray, shape (R,)
            Fines and costs paid to ``recipient``, summed over organisations.
        """
        return (self.charges[:, charge_index("fine", recipient)]
                + self.charges[:, charge_index("cost", recipient)]).sum(axis=1)


def _copy_memory(memory: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {k: {n: (np.array(v, copy=True) if isinstance(v, np.ndarray) else v)
                for n, v in mem.items()} for k, mem in memory.items()}


def _specs() -> dict[str, FieldSpec]:
    out = {}
    for f in fields(State):
        if "spec" in f.metadata:
            out[f.name] = FieldSpec(f.name, *f.metadata["spec"])
    return out


#: Every State field by name, with its declared shape, type, units and writers.
FIELDS: dict[str, FieldSpec] = _specs()
_RESET = tuple(s for s in FIELDS.values() if s.reset is not None)


def _parameters_section() -> str:
    """The Parameters section of State's docstring, one entry per field of FIELDS."""
    shapes = {"replicate": "(R,)", "org": "(R, N)", "edge": "(R, E)", "charges": "(R, 6, N)"}
    lines = ["", "    Parameters", "    ----------"]
    for s in FIELDS.values():
        lines.append(f"    {s.name} : ndarray of {s.dtype.__name__}, shape {shapes[s.shape]}")
        units = f" Units: {s.units}." if s.units else ""
        lines.append(f"        {s.doc}{units}")
    lines += ["    t : int",
              "        The current round (0-based).",
              "    memory : dict",
              "        Plug-in memory: ``memory[name][key]`` is an array declared by the plug-in",
              "        called ``name`` (its stable stream name), with leading axis R.", ""]
    return "\n".join(lines)


State.__doc__ = (State.__doc__ or "").rstrip() + "\n" + _parameters_section()
