"""Shared fixtures: small models that build in milliseconds."""

from __future__ import annotations

import pytest

from sim import ClusterModel

SMALL = 0.05
"""Scale of the test models: about 125 agents."""


@pytest.fixture
def small_model() -> ClusterModel:
    """A freshly built small model (not yet stepped)."""
    return ClusterModel(rng=7, scale=SMALL)
