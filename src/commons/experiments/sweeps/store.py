"""The results store: a directory that a sweep writes chunk by chunk and resumes.

Layout::

    STORE/
      study.json          what the study is (model, design, seed entropy, fingerprint)
      manifest.jsonl      a journal: a header, then one line per stored chunk
      chunks/chunk-000000.parquet ...   one row per run: point, replicate, parameters,
                                        metrics, failed, and the stored per-round series as
                                        fixed-size lists (``series.<name>``)
      errors/chunk-000000.json ...       failures of that chunk's points, with their causes
      .lock               held (``filelock``) by the one run writing the store

Each chunk file is written under a temporary name, flushed to disk (``fsync``) and renamed, and
only then is its manifest line appended (and flushed): the line names the file, its size, its
row count, its SHA-256 and the (point, replicate) runs it holds, as spans of the flat index
``point * replicates + replicate``. A line carries its own checksum, so a line torn by a crash is
ignored. What the store holds is what the manifest says: files it does not name (a stray copy,
a file renamed but not yet recorded) are ignored, and a chunk whose file is missing, truncated or
altered is treated as never stored, so a resume recomputes it. When several lines cover a run
(a failed point retried, a damaged chunk recomputed), the last valid one counts.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import secrets
import shutil
import socket
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FORMAT", "StoreError"]

FORMAT = 2
STUDY = "study.json"
MANIFEST = "manifest.jsonl"
LOCK = ".lock"
WRITER = "writer.json"
#: Names a store may hold besides its own (a tragedy map written next to the results).
_TOLERATED = {"tragedy-map.png", "tragedy-map.pdf", "tragedy-map.svg"}


class StoreError(RuntimeError):
    """A results store that cannot be used as asked (another study, in use, unwritable)."""


# ---------------------------------------------------------------------- durable writes
def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory descriptors
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` all or nothing: a temporary file in the same directory,
    flushed to disk, renamed over ``path``, and the directory flushed.

    The file is created like any other (mode 0666 less the umask), not private.
    """
    tmp = path.parent / f".tmp-{os.getpid()}-{secrets.token_hex(4)}-{path.name}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _line(record: Mapping[str, Any]) -> str:
    body = json.dumps(record, sort_keys=True, separators=(",", ":"))
    check = hashlib.sha256(body.encode()).hexdigest()[:16]
    return json.dumps({**record, "check": check}, sort_keys=True, separators=(",", ":"))


def _parse(line: str) -> dict[str, Any] | None:
    try:
        rec = json.loads(line)
        check = rec.pop("check")
    except (ValueError, KeyError, AttributeError, TypeError):
        return None
    body = json.dumps(rec, sort_keys=True, separators=(",", ":"))
    return rec if hashlib.sha256(body.encode()).hexdigest()[:16] == check else None


def spans_of(elements: np.ndarray) -> list[list[int]]:
    """Sorted flat indices as [start, stop) runs."""
    e = np.asarray(elements, dtype=np.int64)
    if e.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(e) != 1)
    starts = np.concatenate([[e[0]], e[breaks + 1]])
    stops = np.concatenate([e[breaks] + 1, [e[-1] + 1]])
    return [[int(a), int(b)] for a, b in zip(starts, stops, strict=True)]


def _scalar_columns(names: list[str]) -> list[str]:
    """The columns of a chunk that are not per-round series."""
    from .chunks import SERIES_PREFIX
    return [n for n in names if not n.startswith(SERIES_PREFIX)]


# ---------------------------------------------------------------------- what is stored
@dataclass(frozen=True)
class Entry:
    """One manifest line: a chunk file and the runs it holds."""

    seq: int
    file: str
    rows: int
    size: int
    sha256: str
    spans: tuple[tuple[int, int], ...]
    failed: tuple[tuple[int, int], ...]
    errors: str | None


@dataclass
class Index:
    """Which entry holds each run: ``owner[e]`` is a position in ``entries`` or -1."""

    entries: list[Entry]
    owner: np.ndarray
    failed: np.ndarray
    damaged: list[str]

    @property
    def live(self) -> list[int]:
        """Positions of the entries that still hold at least one run."""
        return sorted(int(i) for i in np.unique(self.owner) if i >= 0)

    @property
    def runs_done(self) -> int:
        return int((self.owner >= 0).sum())

    def pending(self) -> np.ndarray:
        """Runs a resume computes: never stored, stored in a damaged chunk, or failed."""
        return (self.owner < 0) | self.failed


class Store:
    """A results directory (see the module docstring)."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)
        self._lock: Any = None
        self._next = 0

    def __repr__(self) -> str:
        return f"Store({str(self.root)!r})"

    @property
    def study_path(self) -> Path:
        return self.root / STUDY

    @property
    def manifest_path(self) -> Path:
        return self.root / MANIFEST

    # ------------------------------------------------------------------ reading
    def read_study(self) -> dict[str, Any] | None:
        """study.json, or None when absent; StoreError when unreadable."""
        try:
            text = self.study_path.read_text()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StoreError(f"store {str(self.root)!r}: cannot read study.json ({exc})") \
                from exc
        try:
            study = json.loads(text)
            if not isinstance(study, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            raise StoreError(f"store {str(self.root)!r} has an unreadable study.json ({exc}); "
                             "use another path") from exc
        return study

    def read_manifest(self) -> tuple[dict[str, Any] | None, list[Entry]]:
        """The header and the valid chunk lines of the manifest (torn lines skipped)."""
        try:
            text = self.manifest_path.read_text()
        except FileNotFoundError:
            return None, []
        except OSError as exc:
            raise StoreError(f"store {str(self.root)!r}: cannot read {MANIFEST} ({exc})") \
                from exc
        header = None
        entries = []
        for raw in text.splitlines():
            rec = _parse(raw)
            if rec is None:
                continue
            if rec.get("kind") == "header" and header is None:
                header = rec
            elif rec.get("kind") == "chunk":
                try:
                    entries.append(Entry(int(rec["seq"]), str(rec["file"]), int(rec["rows"]),
                                         int(rec["size"]), str(rec["sha256"]),
                                         tuple(tuple(s) for s in rec["spans"]),
                                         tuple(tuple(s) for s in rec["failed"]),
                                         rec.get("errors")))
                except (KeyError, TypeError, ValueError):
                    continue
        return header, entries

    def version(self) -> Any:
        """Changes whenever a chunk is recorded (the manifest's size and time)."""
        try:
            st = self.manifest_path.stat()
        except OSError:
            return None
        return (st.st_size, st.st_mtime_ns)

    def read_chunk_bytes(self, entry: Entry) -> bytes | None:
        """The chunk's bytes when the file is there and matches its checksum, else None."""
        try:
            data = (self.root / entry.file).read_bytes()
        except OSError:
            return None
        if len(data) != entry.size or hashlib.sha256(data).hexdigest() != entry.sha256:
            return None
        return data

    def index(self, runs: int, *, verify: bool = True) -> Index:
        """Which valid entry holds each of ``runs`` runs (the last valid one wins)."""
        _, entries = self.read_manifest()
        owner = np.full(runs, -1, dtype=np.int64)
        failed = np.zeros(runs, dtype=bool)
        valid: list[Entry] = []
        broken: list[tuple[int, Entry]] = []
        when = np.full(runs, -1, dtype=np.int64)  # manifest position of each run's owner
        for pos, e in enumerate(entries):
            if verify:
                ok = self.read_chunk_bytes(e) is not None
            else:
                try:
                    ok = (self.root / e.file).stat().st_size == e.size
                except OSError:
                    ok = False
            ok = ok and all(0 <= a < b <= runs for a, b in e.spans)
            if not ok:
                broken.append((pos, e))
                continue
            k = len(valid)
            valid.append(e)
            for a, b in e.spans:
                owner[a:b] = k
                when[a:b] = pos
                failed[a:b] = False
            for a, b in e.failed:
                failed[a:b] = True
        # a damaged chunk whose runs were all computed again later is no longer worth a word
        damaged = [e.file for pos, e in broken
                   if any((when[max(a, 0):min(b, runs)] < pos).any() for a, b in e.spans)]
        return Index(valid, owner, failed, damaged)

    def table(self, entry: Entry, *, series: bool = True) -> Any:
        """The chunk's rows as a pyarrow Table, or None when its file is missing or damaged;
        without the per-round series columns when ``series`` is False."""
        import pyarrow as pa
        import pyarrow.parquet as pq
        data = self.read_chunk_bytes(entry)
        if data is None:
            return None
        pf = pq.ParquetFile(pa.BufferReader(data))
        columns = None if series else _scalar_columns(pf.schema_arrow.names)
        return pf.read(columns=columns, use_threads=False)

    def read_errors(self, entry: Entry) -> list[dict[str, Any]]:
        if entry.errors is None:
            return []
        try:
            out = json.loads((self.root / entry.errors).read_text())
        except (OSError, ValueError):
            return [{"point": None, "replicates": [], "error": f"(the record {entry.errors} "
                     "cannot be read)"}]
        return out if isinstance(out, list) else []

    # ------------------------------------------------------------------ writing
    def peek_entropy(self, base: str) -> tuple[int, list[int]] | None:
        """The entropy a store recorded for a study whose seedless fingerprint is ``base``."""
        with contextlib.suppress(StoreError):
            for rec in (self.read_study(), self.read_manifest()[0]):
                if rec and rec.get("format") == FORMAT and rec.get("base") == base:
                    return int(rec["entropy"]), list(rec["prefix"])
        return None

    def _own_files(self) -> list[str]:
        names = []
        for p in self.root.iterdir():
            if p.name in (LOCK, WRITER) or p.name in _TOLERATED or p.name.startswith(".tmp-"):
                continue
            if p.name in ("chunks", "errors") and p.is_dir() and not any(p.iterdir()):
                continue
            names.append(p.name)
        return sorted(names)

    def open(self, study: dict[str, Any], *, resume: bool, runs: int,
             expected_bytes: int = 0) -> Index:
        """Take the store for writing ``study``: lock it, check it holds this study (or
        nothing), probe that it can be written, and return what it already holds."""
        import filelock

        root = str(self.root)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            lock = filelock.FileLock(self.root / LOCK, blocking=False)
            lock.acquire()
        except filelock.Timeout:
            who = ""
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                w = json.loads((self.root / WRITER).read_text())
                who = (f" (pid {w['pid']} on {w['host']}, since "
                       f"{time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(w['since']))})")
            raise StoreError(f"store {root!r} is being written by another run{who}; wait for "
                             "it to finish or use another path") from None
        except OSError as exc:
            raise StoreError(f"store {root!r} is not writable: {exc}") from exc
        self._lock = lock
        try:
            index = self._check(study, resume=resume, runs=runs, expected_bytes=expected_bytes)
        except BaseException:
            self.close()
            raise
        return index

    def _check(self, study: dict[str, Any], *, resume: bool, runs: int,
               expected_bytes: int) -> Index:
        root = str(self.root)
        old = self.read_study()
        header, _ = self.read_manifest()
        if old is None and header is None:
            stray = self._own_files()
            if stray:
                raise StoreError(
                    f"store {root!r} is not empty ({', '.join(stray[:5])}"
                    f"{', ...' if len(stray) > 5 else ''}) and holds no commons study "
                    "(no study.json, no manifest): it may hold another study's results; "
                    "use a new or empty directory")
        for what, rec in (("study.json", old), (MANIFEST, header)):
            if rec is None:
                continue
            if rec.get("format") != FORMAT:
                raise StoreError(f"store {root!r} was written in store format "
                                 f"{rec.get('format')!r} ({what}); this version writes format "
                                 f"{FORMAT}: use another path")
            if rec.get("fingerprint") != study["fingerprint"]:
                raise StoreError(
                    f"store {root!r} holds a different study "
                    f"({rec.get('name', '?')!r}, fingerprint {rec.get('fingerprint')}; this "
                    f"one is {study['fingerprint']}, by {what}); use another path (the store "
                    "was left as it is)")
        # the store is ours: clear what a killed writer left half-written
        for d in (self.root, self.root / "chunks", self.root / "errors"):
            if d.is_dir():
                for stale in d.glob(".tmp-*"):
                    with contextlib.suppress(OSError):
                        stale.unlink()
        index = self.index(runs)
        if index.runs_done and not resume:
            raise StoreError(f"store {root!r} already holds {index.runs_done} of {runs} runs "
                             "of this study; pass resume=True to continue it, or use another "
                             "path")
        try:
            (self.root / "chunks").mkdir(exist_ok=True)
            (self.root / "errors").mkdir(exist_ok=True)
            write_atomic(self.root / WRITER, json.dumps(
                {"pid": os.getpid(), "host": socket.gethostname(),
                 "since": time.time()}).encode())
            if old is None:
                write_atomic(self.study_path, json.dumps(study, indent=1).encode())
            if header is None:
                keys = ("format", "name", "fingerprint", "base", "entropy", "prefix")
                rec = {"kind": "header", "runs": runs, **{k: study[k] for k in keys}}
                write_atomic(self.manifest_path, (_line(rec) + "\n").encode())
        except OSError as exc:
            raise StoreError(f"store {root!r} is not writable: {exc}") from exc
        free = shutil.disk_usage(self.root).free
        if expected_bytes > free:
            raise StoreError(f"store {root!r}: the results need about "
                             f"{expected_bytes / 2**20:.0f} MiB and the disk has "
                             f"{free / 2**20:.0f} MiB free; free some space or use another "
                             "path")
        try:
            with open(self.manifest_path, "rb+") as fh:  # a line torn by a crash ends here
                fh.seek(0, os.SEEK_END)
                if fh.tell():
                    fh.seek(-1, os.SEEK_END)
                    if fh.read(1) != b"\n":
                        fh.write(b"\n")
                        fh.flush()
                        os.fsync(fh.fileno())
        except OSError as exc:
            raise StoreError(f"store {root!r} is not writable: {exc}") from exc
        _, entries = self.read_manifest()
        used = [int(p.stem.split("-")[-1]) for p in (self.root / "chunks").glob("chunk-*.parquet")
                if p.stem.split("-")[-1].isdigit()]
        self._next = max([e.seq for e in entries] + used, default=-1) + 1
        if index.damaged:
            warnings.warn(f"store {root!r}: {len(index.damaged)} chunk file(s) are missing or "
                          f"damaged ({', '.join(index.damaged[:3])}); their runs are computed "
                          "again", RuntimeWarning, stacklevel=3)
        return index

    def write(self, columns: Mapping[str, np.ndarray], elements: np.ndarray,
              failed: np.ndarray, errors: list[dict[str, Any]]) -> Entry:
        """Store one chunk: its rows (``columns``), the runs they are (``elements``, flat
        indices, sorted), which of them failed, and the failures' causes."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        seq = self._next
        name = f"chunk-{seq:06d}"
        buf = pa.BufferOutputStream()
        pq.write_table(pa.table(dict(columns)), buf)
        data = buf.getvalue().to_pybytes()
        err_file = None
        try:
            if errors:
                err_file = f"errors/{name}.json"
                write_atomic(self.root / err_file, json.dumps(errors, indent=1).encode())
            write_atomic(self.root / "chunks" / f"{name}.parquet", data)
            entry = Entry(seq, f"chunks/{name}.parquet", int(elements.size), len(data),
                          hashlib.sha256(data).hexdigest(),
                          tuple(map(tuple, spans_of(elements))),
                          tuple(map(tuple, spans_of(elements[failed]))), err_file)
            rec = {"kind": "chunk", "seq": seq, "file": entry.file, "rows": entry.rows,
                   "size": entry.size, "sha256": entry.sha256,
                   "spans": [list(s) for s in entry.spans],
                   "failed": [list(s) for s in entry.failed], "errors": err_file}
            fd = os.open(self.manifest_path, os.O_WRONLY | os.O_APPEND)
            try:
                os.write(fd, (_line(rec) + "\n").encode())
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            full = " (the disk is full)" if exc.errno == errno.ENOSPC else ""
            raise StoreError(f"cannot write to store {str(self.root)!r}{full}: {exc}; the "
                             "chunks written so far are kept: fix this and run the study "
                             "again to resume") from exc
        self._next = seq + 1
        return entry

    def close(self) -> None:
        """Release the store (the lock)."""
        if self._lock is not None:
            with contextlib.suppress(OSError):
                (self.root / WRITER).unlink()
            self._lock.release()
            self._lock = None


class MemoryStore:
    """Where a sweep without a store keeps its chunks (the same reading face as Store)."""

    def __init__(self) -> None:
        self._entries: list[Entry] = []
        self._tables: dict[int, Any] = {}
        self._errors: dict[int, list[dict[str, Any]]] = {}

    def write(self, columns: Mapping[str, np.ndarray], elements: np.ndarray,
              failed: np.ndarray, errors: list[dict[str, Any]]) -> Entry:
        import pyarrow as pa
        seq = len(self._entries)
        entry = Entry(seq, "", int(elements.size), 0, "", tuple(map(tuple, spans_of(elements))),
                      tuple(map(tuple, spans_of(elements[failed]))), None)
        self._entries.append(entry)
        self._tables[seq] = pa.table(dict(columns))
        self._errors[seq] = list(errors)
        return entry

    def index(self, runs: int, *, verify: bool = True) -> Index:
        owner = np.full(runs, -1, dtype=np.int64)
        failed = np.zeros(runs, dtype=bool)
        for k, e in enumerate(self._entries):
            for a, b in e.spans:
                owner[a:b] = k
                failed[a:b] = False
            for a, b in e.failed:
                failed[a:b] = True
        return Index(list(self._entries), owner, failed, [])

    def version(self) -> Any:
        return len(self._entries)

    def table(self, entry: Entry, *, series: bool = True) -> Any:
        table = self._tables[entry.seq]
        return table if series else table.select(_scalar_columns(table.column_names))

    def read_errors(self, entry: Entry) -> list[dict[str, Any]]:
        return self._errors[entry.seq]
