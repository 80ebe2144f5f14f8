"""Shared test configuration: hypothesis profiles, the seed of statistical tests, and the
compiled path run act by act.

Every compiled form is compiled once for all models when models run act by act, while a fused
kernel is compiled per composition; so the suite runs act by act (``COMMONS_FUSE=0``, inherited
by the command-line tests' subprocesses) and tests marked ``fused`` run fused kernels.
"""

import os

os.environ.setdefault("COMMONS_FUSE", "0")

import pytest
from hypothesis import HealthCheck, settings


@pytest.fixture(autouse=True)
def _fused_when_marked(request, monkeypatch):
    if request.node.get_closest_marker("fused") is not None:
        from commons.sim import codegen
        monkeypatch.setattr(codegen, "FUSE", True)


@pytest.fixture(autouse=True)
def _default_ctrl_c():
    """Each test starts with Python's own Ctrl-C handling in the main thread, and leaves it
    so: a library that installs a handler and leaves it behind (asyncio's no-op handler after
    a notebook kernel that failed to start) would otherwise silence the tests that send
    SIGINT, depending on which tests ran before them in the same worker."""
    import signal
    import threading
    main = threading.current_thread() is threading.main_thread()
    if main:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    yield
    if main:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture
def seed() -> int:
    """The seed of a statistical test: ``COMMONS_TEST_SEED`` (default 0).

    Statistical tests (marked ``statistical``) take their randomness from this fixture and are
    sized to pass for any seed; ``python scripts/seed_robustness.py`` runs them over 30 seeds
    and prints each test's pass rate.
    """
    return int(os.environ.get("COMMONS_TEST_SEED", "0"))

settings.register_profile(
    "default", deadline=None, max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", deadline=None, max_examples=1000,
                          suppress_health_check=[HealthCheck.too_slow])
# for mutation testing (scripts/mutation.sh), where every mutant reruns the tests that reach it
settings.register_profile("quick", deadline=None, max_examples=10, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
