"""The defaults are the fitted model; the hand-set model before it is the legacy profile."""

import dataclasses
import hashlib
import json

from sim import ClusterModel
from sim.params import CALIBRATED_PROFILE, Params
from sim.profile import available, load_posterior, load_profile, read_profile

#: Fingerprint of three runs of the hand-set model (commit 3eccd02, before the history
#: calibration): their quarterly counts and indices and their totals.
LEGACY_RUNS = "8685a6af9f46fbae"


def _fingerprint(**profile: object) -> str:
    digest = hashlib.sha256()
    for change in ({}, {"coupling": 0.8, "capability": 0.8}, {"coupling": 0.0}):
        model = ClusterModel(rng=11, scale=0.3, **{**profile, **change})
        model.run_model()
        for record in model.history:
            digest.update(json.dumps({key: record[key] for key in (
                "quarter", "ventures_daedeok", "ventures_pangyo", "innovations",
                "collaborations_inter", "capability_index", "cooperation_index", "ties")},
                sort_keys=True).encode())
        digest.update(json.dumps(model.totals, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def test_the_legacy_profile_reproduces_the_hand_set_model_exactly():
    assert "legacy" in available()
    assert _fingerprint(**load_profile("legacy")) == LEGACY_RUNS


def test_the_defaults_are_the_calibrated_profile():
    calibrated, provenance = read_profile(CALIBRATED_PROFILE)
    assert provenance["name"] == "calibrated"
    defaults = Params()
    assert {name: getattr(defaults, name) for name in calibrated} == calibrated
    fitted = {f.name for f in dataclasses.fields(Params) if "legacy" in f.metadata}
    assert fitted == set(calibrated)


def test_the_legacy_profile_restores_every_fitted_default():
    legacy = load_profile("legacy")
    for spec in dataclasses.fields(Params):
        if "legacy" in spec.metadata:
            assert legacy[spec.name] == spec.metadata["legacy"], spec.name


def test_the_calibrated_posterior_sample_holds_the_fitted_constants():
    posterior = load_posterior("calibrated")
    calibrated = load_profile("calibrated")
    assert set(posterior.parameters) <= set(calibrated)
    assert abs(posterior.weights.sum() - 1.0) < 1e-12
    for column, name in enumerate(posterior.parameters):
        values = posterior.particles[:, column]
        assert values.min() <= calibrated[name] <= values.max(), name
