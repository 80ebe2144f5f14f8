"""Parameter sweeps: designs, chunked batches on any executor, and a resumable on-disk store.

A sweep runs a model factory at every point of a :class:`Design`, many replicates each. The
(point, replicate) runs are cut into chunks; each chunk runs on an executor (this process, a
process pool of our own, ``dask.distributed``'s ``client.get_executor(pure=False)`` or
:class:`RayExecutor`) and is stored the moment it finishes: written, flushed to disk and
renamed, then recorded with its checksum in the store's manifest. Run (p, r) is seeded by
``SeedSequence(entropy, spawn_key=(p, r))``, so the numbers do not depend on the chunk size, the
executor, the order in which chunks finish, or on interrupting and resuming.

Modules: :mod:`.design` (the points), :mod:`.chunks` (the work of one chunk), :mod:`.executors`
(where chunks run), :mod:`.schedule` (feeding an executor, isolating failures), :mod:`.store`
(the directory and its manifest), :mod:`.run` (checks and :func:`run_sweep`) and
:mod:`.result` (:class:`SweepResult`, :func:`open_store`).
"""

from .design import Design
from .executors import RayExecutor
from .result import SweepResult, open_store
from .run import SweepInterrupted, estimate_run_memory, run_sweep
from .store import StoreError

__all__ = ["Design", "RayExecutor", "StoreError", "SweepInterrupted", "SweepResult",
           "estimate_run_memory", "open_store", "run_sweep"]
