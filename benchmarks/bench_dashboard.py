"""Benchmark: what one dashboard frame costs, and what a spring layout would cost.

What is measured
----------------
For each scale (default: the dashboard's 0.25, and full scale 1.0), a model
(``coupling=0.3``, seed 0) is stepped to quarter ``--quarter`` (default 24, mid-run), then:

* **step**: one more ``model.step()`` (the median over ``--repeats`` consecutive quarters);
* **each picture**: building the figure (``network_figure``, ``indices_figure``,
  ``scenario_figure``, ``capability_figure``, ``moves_figure``) and encoding it as PNG
  at 100 dpi, as the dashboard does (``solara.FigureMatplotlib(..., format="png",
  dpi=RENDER_DPI)``); median of ``--repeats``;
* **frame** = the five pictures: the work the server does after a Step besides the step;
* **spring layout** for comparison: ``networkx.spring_layout`` (seed 0, its default 50
  iterations) of the same collaboration graph, the layout the dashboard avoids (it runs
  again whenever a tie appears and moves every node); median of 3.

Timings are wall-clock with ``time.perf_counter`` in this process; matplotlib's Agg
backend. Sending the PNGs to the browser and drawing them there is not included (the
browser test, tests/test_browser.py, reports the time three Steps take end to end).

Run it (not part of the test suite)::

    .venv/bin/python benchmarks/bench_dashboard.py
    .venv/bin/python benchmarks/bench_dashboard.py --scales 0.25 1.0 --repeats 7
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from typing import Any

from bench_model import environment


def median_seconds(action: Callable[[], Any], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_scale(scale: float, quarter: int, repeats: int) -> dict[str, Any]:
    import networkx as nx

    from sim.dashboard.app import DashboardModel
    from sim.dashboard.plots import (
        RENDER_DPI,
        capability_figure,
        indices_figure,
        moves_figure,
        network_figure,
        scenario_figure,
    )

    model = DashboardModel(rng=0, scale=scale, coupling=0.3)
    for _ in range(quarter):
        model.step()

    def png(draw: Callable[[Any], Any]) -> Callable[[], bytes]:
        def render() -> bytes:
            buffer = io.BytesIO()
            draw(model).savefig(buffer, format="png", dpi=RENDER_DPI)
            return buffer.getvalue()
        return render

    pictures = {draw.__name__: median_seconds(png(draw), repeats)
                for draw in (network_figure, indices_figure, scenario_figure,
                             capability_figure, moves_figure)}
    graph = model.collaboration_graph()
    spring = median_seconds(lambda: nx.spring_layout(graph, seed=0), 3)
    step = median_seconds(model.step, repeats)
    return {"scale": scale, "quarter": quarter, "agents": graph.number_of_nodes(),
            "ties": graph.number_of_edges(), "step_s": step, **{f"{k}_s": v for k, v in
                                                                 pictures.items()},
            "frame_s": sum(pictures.values()), "spring_layout_s": spring}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", type=float, nargs="+", default=[0.25, 1.0])
    parser.add_argument("--quarter", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    env = environment()
    print(f"python {env['python']}, mesa {env['mesa']}, {env['cpu_model']}, "
          f"load average {env['load_average']}")
    print(f"{'scale':>5} {'agents':>6} {'ties':>5} {'step':>8} {'network':>8} "
          f"{'indices':>8} {'scenario':>8} {'capab.':>8} {'moves':>8} {'frame':>8} "
          f"{'spring':>8} {'spring/network':>14}")
    for scale in args.scales:
        r = bench_scale(scale, args.quarter, args.repeats)
        print(f"{r['scale']:5.2f} {r['agents']:6d} {r['ties']:5d} {r['step_s']:7.3f}s "
              f"{r['network_figure_s']:7.3f}s {r['indices_figure_s']:7.3f}s "
              f"{r['scenario_figure_s']:7.3f}s {r['capability_figure_s']:7.3f}s "
              f"{r['moves_figure_s']:7.3f}s {r['frame_s']:7.3f}s "
              f"{r['spring_layout_s']:7.3f}s "
              f"{r['spring_layout_s'] / r['network_figure_s']:13.1f}x")


if __name__ == "__main__":
    main()
