"""Two Korean innovation clusters, loosely coupled: an agent-based model on Mesa 3."""

from sim.model import ClusterModel
from sim.params import ParameterError, Params

__all__ = ["ClusterModel", "ParameterError", "Params"]
__version__ = "0.2.0"
"""The package version: its one source (pyproject.toml reads it)."""
