"""ClusterModel as Mesa's tools see it: keyword defaults, horizon, DataCollector, summary."""

import gc
import json
import re
import subprocess
import sys
import textwrap
import weakref

import mesa
import numpy as np
import pytest

from sim import ClusterModel
from sim.model import QUARTERLY_SERIES
from sim.params import ParameterError
from sim.scenarios import COUPLING_TYPES, SCENARIOS

SUMMARY_KEYS = {"scenario", "coupling_type", "capability_index", "cooperation_index",
                "distinctiveness", "innovations_total", "innovations_inter",
                "ventures_alive", "scale_ups", "seed"}


def test_runs_from_2018q1_to_the_horizon():
    model = ClusterModel(rng=1, scale=0.05, until_year=2020)
    model.run_model()
    assert model.steps == 12 and not model.running
    assert model.quarter == "2020Q4"
    frame = model.datacollector.get_model_vars_dataframe()
    assert len(frame) == 12
    assert set(QUARTERLY_SERIES) <= set(frame.columns)


def test_default_horizon_is_52_quarters():
    assert ClusterModel(rng=1, scale=0.01).params.steps == 52


def test_summary_keys_and_values():
    model = ClusterModel(rng=2, scale=0.05, until_year=2020, coupling=0.5)
    model.run_model()
    summary = model.summary()
    assert SUMMARY_KEYS <= set(summary)
    assert summary["scenario"] in SCENARIOS
    assert summary["coupling_type"] in COUPLING_TYPES
    assert summary["seed"] == 2
    assert summary["innovations_total"] == model.datacollector.get_model_vars_dataframe()[
        "innovations"].sum()


def test_summary_before_any_step_is_an_error():
    with pytest.raises(RuntimeError):
        ClusterModel(rng=1, scale=0.05).summary()


def test_mesa_batch_run_drives_the_model_and_its_rows_carry_the_end_state():
    results = mesa.batch_run(ClusterModel, parameters={"coupling": [0.0, 0.5],
                                                       "scale": 0.05, "until_year": 2018},
                             rng=[1], max_steps=4, number_processes=1,
                             display_progress=False)
    assert len(results) == 2 and {"coupling", "innovations"} <= set(results[0])
    for row in results:
        model = ClusterModel(rng=1, scale=0.05, until_year=2018, coupling=row["coupling"])
        model.run_model()
        summary = model.summary()
        assert (row["scenario"], row["coupling_type"]) == (summary["scenario"],
                                                           summary["coupling_type"])


def test_the_datacollector_is_indexed_by_quarter_and_records_agents_when_asked():
    model = ClusterModel(rng=2, scale=0.05, until_year=2018)
    model.run_model()
    frame = model.datacollector.get_model_vars_dataframe()
    assert list(frame.index) == ["2018Q1", "2018Q2", "2018Q3", "2018Q4"]
    assert not model.datacollector.agent_reporters  # off: nothing recorded per agent
    with pytest.raises(RuntimeError, match="record_agents=True"):
        model.datacollector.get_agent_vars_dataframe()
    watched = ClusterModel(rng=2, scale=0.05, until_year=2018, record_agents=True)
    watched.run_model()
    assert watched.history == model.history  # watching changes nothing
    agents = watched.datacollector.get_agent_vars_dataframe()
    assert agents.index.names == ["quarter", "AgentID"]
    assert list(agents.columns) == ["kind", "cluster", "stage", "cash", "absorptive"]
    last = agents.loc["2018Q4"]
    ventures = last[last["kind"] == "Venture"]
    assert len(ventures) == model.history[-1]["ventures_daedeok"] + model.history[-1][
        "ventures_pangyo"]
    assert set(last["cluster"]) == {"Daedeok", "Pangyo"}
    assert last["absorptive"].between(0, 1).all()


def test_the_totals_and_the_datacollector_read_the_one_history():
    model = ClusterModel(rng=2, scale=0.05, until_year=2018, coupling=0.5)
    model.run_model()
    frame = model.datacollector.get_model_vars_dataframe()
    assert model.totals["births"] == int((frame["births_daedeok"] + frame["births_pangyo"]).sum())
    assert model.totals["innovations"] == model.history[-1]["innovations_cumulative"]
    # one record, no copies: a change to it is what the collector and the totals show
    model.history[0]["innovations"] += 1
    assert model.datacollector.get_model_vars_dataframe()["innovations"].iloc[0] == (
        frame["innovations"].iloc[0] + 1)
    assert model.totals["innovations"] == frame["innovations"].sum() + 1


def test_a_model_is_freed_once_nothing_refers_to_it():
    # agents, model and population refer to one another: the cycle collector must see
    # every link, or each run stays in memory for good
    model = ClusterModel(rng=1, scale=0.05, until_year=2018, coupling=0.5, record_agents=True)
    model.run_model()
    model.summary()
    gone = weakref.ref(model)
    del model
    gc.collect()
    assert gone() is None


@pytest.mark.slow
def test_batch_run_with_processes_runs_under_a_main_guard(tmp_path):
    # Mesa's batch_run starts processes that import the calling script again: without
    # the guard each would start its own batch_run (the example in
    # docs/tutorials/first-run.md has it)
    script = tmp_path / "batch.py"
    script.write_text(textwrap.dedent("""\
        import mesa
        from sim import ClusterModel

        if __name__ == "__main__":
            rows = mesa.batch_run(ClusterModel, parameters={"coupling": [0.0, 0.5],
                                  "scale": 0.05, "until_year": 2018}, rng=[1, 2],
                                  number_processes=2, display_progress=False)
            print(len(rows), sorted({row["scenario"] is not None for row in rows}))
        """))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "4 [True]"


def test_shared_vision_ramps_coupling_in_stages():
    model = ClusterModel(rng=1, scale=0.05, coupling=0.8, shared_vision=True,
                         vision_stages=4, vision_ramp_years=2, until_year=2020)
    model.run_model()
    ramp = model.datacollector.get_model_vars_dataframe()["coupling_now"].tolist()
    assert ramp[:8] == pytest.approx([0.2, 0.2, 0.4, 0.4, 0.6, 0.6, 0.8, 0.8])
    assert ramp[8:] == pytest.approx([0.8] * 4)


def test_collaboration_graph_matches_the_ties(small_model):
    small_model.step()
    graph = small_model.collaboration_graph()
    assert graph.number_of_edges() == len(small_model.ties)
    node, attributes = next(iter(graph.nodes(data=True)))
    assert attributes["agent"].index == node


def test_summary_network_measures_are_those_of_the_collaboration_graph():
    import networkx as nx

    model = ClusterModel(rng=3, scale=0.1, coupling=0.6, until_year=2019)
    model.run_model()
    summary, graph = model.summary(), model.collaboration_graph()
    cluster = dict(graph.nodes(data="cluster"))
    crossing = sum(cluster[u] != cluster[v] for u, v in graph.edges)
    communities = [{n for n, c in cluster.items() if c == k} for k in (0, 1)]
    assert crossing > 0
    assert summary["ties"] == graph.number_of_edges()
    assert summary["inter_cluster_ties"] == crossing
    assert summary["density"] == nx.density(graph)
    assert summary["modularity"] == pytest.approx(
        nx.algorithms.community.modularity(graph, communities, weight="weight"), rel=1e-12)


def test_a_step_past_the_horizon_changes_nothing():
    model = ClusterModel(rng=1, scale=0.05, until_year=2018)
    model.run_model()
    record, steps, quarter = list(model.history), model.steps, model.quarter
    profile = model.population.profile.copy()
    model.step()
    model.step()
    assert not model.running
    assert model.history == record and model.steps == steps and model.quarter == quarter
    assert (model.population.profile == profile).all()
    assert len(model.datacollector.get_model_vars_dataframe()) == 4


@pytest.mark.parametrize("seed", [np.int64(4), np.uint32(4), np.int8(4)])
def test_numpy_integer_seeds_are_the_same_seed(seed):
    plain = ClusterModel(rng=4, scale=0.05, until_year=2018)
    typed = ClusterModel(rng=seed, scale=0.05, until_year=2018)
    for model in (plain, typed):
        model.run_model()
    assert typed.history == plain.history
    assert typed.summary()["seed"] == 4 and type(typed.summary()["seed"]) is int


@pytest.mark.parametrize("rng", [np.random.default_rng(5), np.random.SeedSequence(5), None])
def test_generators_and_seed_sequences_give_json_safe_summaries(rng):
    model = ClusterModel(rng=rng, scale=0.05, until_year=2018)
    model.run_model()
    summary = model.summary()
    assert summary["seed"] is None
    json.loads(json.dumps(summary, allow_nan=False))  # no NaN, nothing unserialisable


@pytest.mark.parametrize("arguments, named", [
    ({"couplng": 0.3}, "'couplng' (did you mean 'coupling'?)"),
    ({"rng": -1}, "rng"), ({"rng": 1.5}, "rng"), ({"rng": "7"}, "rng"), ({"rng": True}, "rng"),
    ({"coupling": "high"}, "coupling"),
])
def test_every_bad_argument_is_a_parameter_error_naming_it(arguments, named):
    with pytest.raises(ParameterError, match=re.escape(named)):
        ClusterModel(scale=0.05, **arguments)


def test_profiles_stay_defined_at_the_smallest_concentrations():
    model = ClusterModel(rng=3, scale=1.0, until_year=2018, profile_concentration=0.001)
    model.run_model()
    assert np.isfinite(model.population.profile).all()
    summary = model.summary()
    assert all(np.isfinite(v) for v in summary.values() if isinstance(v, float))


def test_ventures_by_stage_add_up_and_research_births_are_the_research_parents():
    for spin_off_venture in (0.06, 0.0):
        model = ClusterModel(rng=4, scale=0.1, until_year=2020,
                             spin_off_venture=spin_off_venture)
        model.run_model()
        frame = model.datacollector.get_model_vars_dataframe()
        for cluster in ("daedeok", "pangyo"):
            stages = sum(frame[f"ventures_{stage}_{cluster}"]
                         for stage in ("startup", "growth", "global"))
            assert (stages == frame[f"ventures_{cluster}"]).all()
            research = frame[f"births_research_{cluster}"]
            assert (research <= frame[f"births_{cluster}"]).all()
            if spin_off_venture == 0.0:  # only institutes and universities spin off
                assert (research == frame[f"births_{cluster}"]).all()
        assert frame["births_research_daedeok"].sum() > 0
        if spin_off_venture > 0.0:  # ventures spin off too: not every birth is research's
            assert (frame["births_research_daedeok"] < frame["births_daedeok"]).any()


def test_the_inputs_show_themselves_and_a_typed_params_is_accepted():
    import dataclasses
    import inspect

    from sim.params import Params

    signature = inspect.signature(ClusterModel)
    for field in dataclasses.fields(Params):
        parameter = signature.parameters[field.name]
        assert (parameter.default, parameter.annotation) == (field.default, field.type)
        assert f"        {field.name}: {field.type} = {field.default!r}" in ClusterModel.__doc__
    assert "coupling: float = 0.2 in [0, 1]:" in ClusterModel.__doc__
    # a typed Params, keyword values over it: the same run as keywords alone
    typed = ClusterModel(Params(scale=0.05, until_year=2018), rng=3, coupling=0.4)
    plain = ClusterModel(rng=3, scale=0.05, until_year=2018, coupling=0.4)
    typed.run_model()
    plain.run_model()
    assert typed.params == plain.params and typed.history == plain.history
    with pytest.raises(ParameterError, match="params must be a sim.params.Params, got dict"):
        ClusterModel({"scale": 0.05})
    with pytest.raises(ParameterError, match="coupling must be in"):
        ClusterModel(Params(scale=0.05), coupling=7)
