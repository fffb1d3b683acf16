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


def test_run_takes_a_profile_file_by_its_path(tmp_path, capsys):
    """``run --profile PATH`` reads a user's profile; its values win over the defaults
    and lose to what the command line sets."""
    from tests.conftest import invoke

    mine = tmp_path / "mine.toml"
    mine.write_text('[profile]\nname = "mine"\n\n[parameters]\nentry_rate = 0.05\n'
                    "coupling = 0.9\n", encoding="utf-8")
    code, out, err = invoke(capsys, ["run", "--profile", str(mine), "--coupling", "0.2",
                                     "--scale", "0.05", "--until", "2018", "--json"])
    assert code == 0, err
    used = json.loads(out)["parameters"]
    assert used["entry_rate"] == 0.05 and used["coupling"] == 0.2
    shipped = invoke(capsys, ["run", "--profile", "legacy", "--scale", "0.05", "--until",
                              "2018", "--json"])
    assert shipped[0] == 0 and json.loads(shipped[1])["parameters"]["entry_rate"] == (
        load_profile("legacy").get("entry_rate", Params().entry_rate))


def test_a_profile_that_is_neither_shipped_nor_a_file_is_one_line(tmp_path, capsys):
    from tests.conftest import invoke

    for given, words in ((str(tmp_path / "absent.toml"), "profile file not found"),
                         ("nonesuch", "unknown profile 'nonesuch' (known: ")):
        code, out, err = invoke(capsys, ["run", "--profile", given])
        assert code == 2 and out == "" and len(err.splitlines()) == 1, err
        assert words in err and "Traceback" not in err
    bad = tmp_path / "bad.toml"
    bad.write_text("[parameters]\ncoupling = 3.0\n", encoding="utf-8")
    code, _, err = invoke(capsys, ["run", "--profile", str(bad)])
    assert code == 2 and len(err.splitlines()) == 1 and "coupling" in err, err
