"""Shared test configuration: hypothesis profiles and the seed of statistical tests."""

import os

import pytest
from hypothesis import HealthCheck, settings


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
