"""Same seed, same results; different seeds, different results."""

import pandas as pd

from sim import ClusterModel


def _run(seed, **params):
    model = ClusterModel(rng=seed, scale=0.1, until_year=2022, coupling=0.4, **params)
    model.run_model()
    return model.datacollector.get_model_vars_dataframe(), model.summary()


def test_same_seed_same_frames_and_summary():
    frame_a, summary_a = _run(11, open_innovation=True)
    frame_b, summary_b = _run(11, open_innovation=True)
    pd.testing.assert_frame_equal(frame_a, frame_b)
    assert summary_a == summary_b


def test_different_seeds_differ():
    frame_a, summary_a = _run(11)
    frame_b, summary_b = _run(12)
    assert not frame_a.equals(frame_b)
    assert summary_a != summary_b


def test_agent_ids_and_states_repeat():
    models = [ClusterModel(rng=3, scale=0.05, until_year=2019) for _ in range(2)]
    for model in models:
        model.run_model()
    ids = [sorted(a.unique_id for a in m.agents) for m in models]
    assert ids[0] == ids[1]
    assert (models[0].population.profile == models[1].population.profile).all()
