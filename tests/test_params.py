"""Validation of every model input (sim.params.Params) and its use by ClusterModel."""

from __future__ import annotations

import dataclasses
import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim.model
from sim.model import ClusterModel
from sim.params import START_YEAR, ParameterError, Params

FIELDS = dataclasses.fields(Params)
NUMERIC = [f for f in FIELDS if f.metadata["kind"] in (int, float)]
INTS = [f for f in FIELDS if f.metadata["kind"] is int]
BOOLS = [f for f in FIELDS if f.metadata["kind"] is bool]
OPTIONAL = [f for f in FIELDS if f.metadata["optional"]]
RANGE = re.compile(r"([\[(])\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*[\])]")


def _ids(fields: list[dataclasses.Field]) -> list[str]:
    return [f.name for f in fields]


def _valid(name: str, value: object) -> Params:
    """Build Params with ``name=value``, moving the other side of the cross-field rules
    (tie_floor < tie_initial; a second valley needs a first) out of the way."""
    companion = {"tie_initial": {"tie_floor": 0.0}, "tie_floor": {"tie_initial": 1.0},
                 "second_valley_capacity": {"capacity_pangyo": 1300.0}}
    return Params(**{name: value}, **companion.get(name, {}))


def _rejected(name: str, value: object) -> ParameterError:
    """Build Params with ``name=value``; it must raise a ParameterError naming ``name``."""
    with pytest.raises(ParameterError) as caught:
        Params(**{name: value})
    assert name in str(caught.value), str(caught.value)
    return caught.value


def _assert_names_range(error: ParameterError, spec: dataclasses.Field) -> None:
    """The message names the field and gives its range, e.g. ``(0.0, 10.0]``."""
    message = str(error)
    low, high = spec.metadata["low"], spec.metadata["high"]
    assert spec.name in message, message
    opening = "(" if spec.metadata["low_open"] else "["
    ranges = {(m[0], float(m[1]), float(m[2])) for m in RANGE.findall(message)}
    assert (opening, float(low), float(high)) in ranges, (
        f"{message!r} does not give the range {opening}{low}, {high}]")


# --- defaults and metadata ---------------------------------------------------------------
def test_defaults_construct():
    params = Params()
    assert params.as_dict() == {f.name: f.default for f in FIELDS}
    assert params.as_dict().keys() == {f.name for f in FIELDS}


def test_parameter_error_is_a_value_error():
    assert issubclass(ParameterError, ValueError)


def test_params_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Params().coupling = 0.9  # type: ignore[misc]


def test_describe_covers_every_field_with_help():
    described = Params.describe()
    assert list(described) == [f.name for f in FIELDS]
    for name, spec in described.items():
        assert isinstance(spec["help"], str) and spec["help"].strip(), name
        assert spec["default"] == getattr(Params(), name), name


@pytest.mark.parametrize("spec", NUMERIC, ids=_ids(NUMERIC))
def test_numeric_default_lies_in_its_declared_range(spec):
    meta = spec.metadata
    assert meta["low"] is not None and meta["high"] is not None, spec.name
    assert meta["low"] < meta["high"], spec.name
    default = spec.default
    if default is None:
        assert meta["optional"], spec.name
        return
    assert isinstance(default, meta["kind"]) and not isinstance(default, bool), spec.name
    assert math.isfinite(default)
    if meta["low_open"]:
        assert meta["low"] < default <= meta["high"], spec.name
    else:
        assert meta["low"] <= default <= meta["high"], spec.name


@pytest.mark.parametrize("spec", BOOLS, ids=_ids(BOOLS))
def test_bool_defaults_are_bools(spec):
    assert type(spec.default) is bool


# --- ranges of every numeric field -------------------------------------------------------
@pytest.mark.parametrize("spec", NUMERIC, ids=_ids(NUMERIC))
def test_below_low_is_rejected_naming_range(spec):
    low = spec.metadata["low"]
    _assert_names_range(_rejected(spec.name, low - 1), spec)
    if spec.metadata["kind"] is float:
        _assert_names_range(_rejected(spec.name, math.nextafter(low, -math.inf)), spec)


@pytest.mark.parametrize("spec", NUMERIC, ids=_ids(NUMERIC))
def test_low_bound_itself(spec):
    low = spec.metadata["low"]
    if spec.metadata["low_open"]:
        _assert_names_range(_rejected(spec.name, low), spec)
        if spec.metadata["kind"] is float:
            above = math.nextafter(low, math.inf)
            assert getattr(_valid(spec.name, above), spec.name) == above
    else:
        assert getattr(_valid(spec.name, low), spec.name) == low


@pytest.mark.parametrize("spec", NUMERIC, ids=_ids(NUMERIC))
def test_above_high_is_rejected_naming_range(spec):
    high = spec.metadata["high"]
    _assert_names_range(_rejected(spec.name, high + 1), spec)
    if spec.metadata["kind"] is float:
        _assert_names_range(_rejected(spec.name, math.nextafter(high, math.inf)), spec)


@pytest.mark.parametrize("spec", NUMERIC, ids=_ids(NUMERIC))
def test_high_bound_itself_is_accepted(spec):
    high = spec.metadata["high"]
    if spec.name == "tie_floor":  # tie_floor < tie_initial <= 1: 1 itself is never valid
        high = math.nextafter(high, 0.0)
    assert getattr(_valid(spec.name, high), spec.name) == high


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("spec", NUMERIC, ids=_ids(NUMERIC))
def test_non_finite_is_rejected(spec, value):
    _rejected(spec.name, value)


@pytest.mark.parametrize("value", ["0.5", "1", "", b"1", [0.5], {}, 1j],
                         ids=["str", "str-int", "empty", "bytes", "list", "dict", "complex"])
@pytest.mark.parametrize("spec", NUMERIC, ids=_ids(NUMERIC))
def test_non_number_is_rejected(spec, value):
    _rejected(spec.name, value)


@pytest.mark.parametrize("value", [True, False])
@pytest.mark.parametrize("spec", NUMERIC, ids=_ids(NUMERIC))
def test_bool_is_rejected_for_numeric_field(spec, value):
    _rejected(spec.name, value)


@pytest.mark.parametrize("spec", [f for f in NUMERIC if not f.metadata["optional"]],
                         ids=_ids([f for f in NUMERIC if not f.metadata["optional"]]))
def test_none_is_rejected_for_required_field(spec):
    _rejected(spec.name, None)


# --- integer fields ----------------------------------------------------------------------
def test_search_candidates_rejects_fraction():
    error = _rejected("search_candidates", 2.5)
    assert "2.5" in str(error)


@pytest.mark.parametrize("spec", INTS, ids=_ids(INTS))
def test_int_field_rejects_fraction(spec):
    _rejected(spec.name, spec.default + 0.5)


@pytest.mark.parametrize("spec", INTS, ids=_ids(INTS))
def test_int_field_accepts_integral_float_as_int(spec):
    value = getattr(Params(**{spec.name: float(spec.default)}), spec.name)
    assert value == spec.default
    assert type(value) is int


def test_search_candidates_four_point_zero_is_four():
    params = Params(search_candidates=4.0)
    assert params.search_candidates == 4 and type(params.search_candidates) is int
    assert params == Params(search_candidates=4)


# --- bool fields -------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["yes", "true", "", 2, -1, 0.5, 1.0, None],
                         ids=["yes", "true", "empty", "2", "-1", "0.5", "1.0", "None"])
@pytest.mark.parametrize("spec", BOOLS, ids=_ids(BOOLS))
def test_bool_field_rejects_non_bool(spec, value):
    _rejected(spec.name, value)


@pytest.mark.parametrize("spec", BOOLS, ids=_ids(BOOLS))
def test_bool_field_accepts_bools(spec):
    assert getattr(Params(**{spec.name: True}), spec.name) is True
    assert getattr(Params(**{spec.name: False}), spec.name) is False
    # 0 and 1 are tolerated and normalised to bool
    assert getattr(Params(**{spec.name: 1}), spec.name) is True
    assert getattr(Params(**{spec.name: 0}), spec.name) is False


# --- optional fields: per-cluster capabilities, schedules -----------------------------------
def test_the_optional_fields():
    assert {f.name for f in OPTIONAL} == {"capability_daedeok", "capability_pangyo",
                                          "coupling_after", "capability_investment_after",
                                          "capacity_daedeok", "capacity_pangyo"}


@pytest.mark.parametrize("spec", OPTIONAL, ids=_ids(OPTIONAL))
def test_optional_field_accepts_none_and_rejects_out_of_range(spec):
    # no first valley leaves no room for a second one
    companion = {"second_valley_capacity": 0.0} if spec.name == "capacity_pangyo" else {}
    assert getattr(Params(**{spec.name: None}, **companion), spec.name) is None
    assert getattr(Params(**{spec.name: 0.7}), spec.name) == 0.7
    _assert_names_range(_rejected(spec.name, spec.metadata["high"] + 0.5), spec)
    _rejected(spec.name, "0.7")


def test_cluster_capability_uses_overrides():
    assert Params(capability=0.4).cluster_capability(0) == 0.4
    assert Params(capability=0.4).cluster_capability(1) == 0.4
    params = Params(capability=0.4, capability_daedeok=0.9)
    assert params.cluster_capability(0) == 0.9
    assert params.cluster_capability(1) == 0.4
    params = Params(capability=0.4, capability_pangyo=0.1)
    assert params.cluster_capability(0) == 0.4
    assert params.cluster_capability(1) == 0.1
    # an override of 0 is an override, not "unset"
    params = Params(capability=0.4, capability_daedeok=0.0, capability_pangyo=1.0)
    assert (params.cluster_capability(0), params.cluster_capability(1)) == (0.0, 1.0)


# --- cross-field rule ---------------------------------------------------------------------
@pytest.mark.parametrize("floor, initial", [(0.3, 0.3), (0.5, 0.3), (0.2, 0.1)])
def test_tie_floor_must_be_below_tie_initial(floor, initial):
    with pytest.raises(ParameterError, match="tie_floor") as caught:
        Params(tie_floor=floor, tie_initial=initial)
    assert "tie_initial" in str(caught.value)


def test_tie_floor_just_below_tie_initial_is_fine():
    params = Params(tie_floor=0.29, tie_initial=0.3)
    assert params.tie_floor < params.tie_initial
    Params(tie_floor=0.0, tie_initial=1e-9)


# --- ClusterModel builds Params first -------------------------------------------------------
def test_model_rejects_bad_coupling_before_creating_agents(monkeypatch):
    calls: list[str] = []
    original = ClusterModel._populate

    def spy(self):
        calls.append("populate")
        return original(self)

    monkeypatch.setattr(ClusterModel, "_populate", spy)
    population = sim.model.Population
    monkeypatch.setattr(sim.model, "Population",
                        lambda *a, **k: calls.append("population") or population(*a, **k))

    with pytest.raises(ParameterError, match="coupling") as caught:
        ClusterModel(rng=1, coupling=1.5)
    assert "1.5" in str(caught.value)
    assert calls == []

    # control: the spies do see a valid construction
    model = ClusterModel(rng=1, scale=0.05, coupling=0.3)
    assert calls == ["population", "populate"]
    assert model.params.coupling == 0.3


def test_model_rejects_unknown_keyword():
    with pytest.raises(ParameterError, match="'couplin' \\(did you mean 'coupling'\\?\\)"):
        ClusterModel(couplin=0.3)


def test_model_params_normalised():
    model = ClusterModel(rng=3, scale=0.05, search_candidates=3.0)
    assert isinstance(model.params, Params)
    assert model.params.search_candidates == 3 and type(model.params.search_candidates) is int


# --- derived values -----------------------------------------------------------------------------
def test_steps():
    assert Params().steps == 52
    assert Params(until_year=START_YEAR).steps == 4
    assert Params(until_year=2018).steps == 4
    assert Params(until_year=2019).steps == 8
    assert Params(until_year=2100).steps == (2100 - 2018 + 1) * 4


# --- properties -----------------------------------------------------------------------------
UNIT = st.floats(min_value=0.0, max_value=1.0)
OUTSIDE_UNIT = st.one_of(st.floats(max_value=0.0, exclude_max=True),
                         st.floats(min_value=1.0, exclude_min=True),
                         st.just(math.nan))


@settings(max_examples=200, deadline=None)
@given(coupling=UNIT, capability=UNIT)
def test_any_unit_coupling_and_capability_construct(coupling, capability):
    params = Params(coupling=coupling, capability=capability)
    assert params.coupling == coupling and params.capability == capability
    assert params.cluster_capability(0) == params.cluster_capability(1) == capability


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(["coupling", "capability", "capability_daedeok",
                             "capability_pangyo"]),
       value=OUTSIDE_UNIT)
def test_any_coupling_or_capability_outside_unit_is_rejected(name, value):
    with pytest.raises(ParameterError, match=name):
        Params(**{name: value})


def test_numpy_scalars_are_accepted_and_normalised():
    """Sweeps over numpy grids pass numpy scalars; they become plain Python values."""
    import numpy as np

    params = Params(coupling=np.float32(0.5), search_candidates=np.int64(4),
                    shared_vision=np.bool_(True))
    assert type(params.coupling) is float and params.coupling == 0.5
    assert type(params.search_candidates) is int and params.search_candidates == 4
    assert params.shared_vision is True
