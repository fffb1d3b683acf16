"""Interactive views of a running model: a SolaraViz dashboard and the pictures it shows.

``sim.dashboard.plots`` draws with matplotlib only; ``sim.dashboard.app`` needs the
``dashboard`` extra (Solara). Start the dashboard with ``python -m sim.dashboard``.
"""
