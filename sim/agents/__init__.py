"""The four kinds of agent, one module each."""

from sim.agents.agency import SupportAgency
from sim.agents.base import ClusterAgent
from sim.agents.institute import ResearchInstitute
from sim.agents.university import University
from sim.agents.venture import Venture

__all__ = ["ClusterAgent", "ResearchInstitute", "SupportAgency", "University", "Venture"]
