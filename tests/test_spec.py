"""The TOML toolkit both input files share (sim/experiment/spec.py): one declaration
checks a file and documents it, and the same mistake reads the same in either file."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.experiment.design import EXPERIMENT_FILE
from sim.experiment.design import load as load_experiment
from sim.experiment.spec import REQUIRED, ExperimentError, Key, Section, read_document
from sim.inference.problem import CALIBRATION_FILE
from sim.inference.problem import load as load_calibration

EXPERIMENT = """[experiment]
name = "spec"
master_seed = 1
{extra}
[fixed]
scale = 0.05
until_year = 2019

[grid]
coupling = [0.0, 0.5]
"""
CALIBRATION = """[calibration]
name = "spec"
master_seed = 1
population_size = 4
generations = 1
{extra}
[fixed]
scale = 0.05
until_year = 2019

[priors]
entry_rate = {{ low = 0.0, high = 0.06 }}
"""
FILES = {"experiment": (EXPERIMENT, load_experiment, "experiment"),
         "calibration": (CALIBRATION, load_calibration, "calibration")}


def _refusal(tmp_path: Path, kind: str, extra: str, drop: str = "") -> str:
    template, load, _head = FILES[kind]
    text = template.format(extra=extra)
    if drop:
        text = text.replace(drop, "")
    path = tmp_path / f"{kind}.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExperimentError) as refusal:
        load(path)
    message = str(refusal.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


@pytest.mark.parametrize("kind", sorted(FILES))
def test_the_same_mistake_reads_the_same_in_both_files(tmp_path: Path, kind: str) -> None:
    head = f"[{FILES[kind][2]}]"
    assert f"{head}: unknown key 'seed' (allowed: " in _refusal(tmp_path, kind, "seed = 3")
    assert f"{head}: missing key 'master_seed'" in _refusal(tmp_path, kind, "",
                                                           drop="master_seed = 1\n")
    assert f"{head}: description must be str, got 3" in _refusal(tmp_path, kind,
                                                                  "description = 3")
    assert "unknown top-level table 'extras'" in _refusal(tmp_path, kind, "[extras]\nx = 1")


@pytest.mark.parametrize("kind", sorted(FILES))
def test_a_wrong_type_and_a_bad_name_are_refused_alike(tmp_path: Path, kind: str) -> None:
    template, load, head = FILES[kind]
    for line, words in (("master_seed = true", "master_seed must be int, got True"),
                        ('name = "../up"', "name must be a plain name")):
        text = template.format(extra="").replace(
            "master_seed = 1" if line.startswith("master") else 'name = "spec"', line)
        path = tmp_path / f"{kind}.toml"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ExperimentError, match=rf"\[{head}\]: {words}"):
            load(path)


@pytest.mark.parametrize("schema", [EXPERIMENT_FILE, CALIBRATION_FILE],
                         ids=["experiment", "calibration"])
def test_the_reference_page_names_every_table_and_key(schema) -> None:
    page = schema.markdown()
    assert page.startswith(f"## {schema.title}")
    for section in schema.sections:
        assert f"### `[{section.name}]`" in page
        for key in section.keys:
            row = next(line for line in page.splitlines() if line.startswith(f"| `{key.name}` |"))
            assert key.meaning in row
            assert ("required" in row) == (key.default is REQUIRED)


def test_a_declared_key_checks_type_range_and_choices() -> None:
    key = Key("level", int, "a level", default=2, low=1, high=3)
    assert key.read({}, "f") == 2
    assert key.read({"level": 3}, "f") == 3
    for value, words in ((0, "level must be in [1, 3], got 0"),
                         (2.0, "level must be int, got 2.0"),
                         (True, "level must be int, got True")):
        with pytest.raises(ExperimentError, match=words.replace("[", r"\[").replace("]", r"\]")):
            key.read({"level": value}, "f")
    choice = Key("method", str, "a method", choices=lambda: ("a", "b"))
    with pytest.raises(ExperimentError, match="method must be one of a, b, got 'c'"):
        choice.read({"method": "c"}, "f")
    with pytest.raises(ExperimentError, match="missing key 'method'"):
        choice.read({}, "f")
    assert Key("share", float, "a share").read({"share": 1}, "f") == 1.0


def test_a_section_refuses_what_it_does_not_declare() -> None:
    section = Section("run", "a run", keys=(Key("n", int, "count", default=1),))
    assert section.read({}, "f") == {"n": 1}
    with pytest.raises(ExperimentError, match=r"f: \[run\]: unknown key 'm' \(allowed: n\)"):
        section.read({"run": {"m": 1}}, "f")
    with pytest.raises(ExperimentError, match=r"f: \[run\] must be a table"):
        section.read({"run": 3}, "f")


@pytest.mark.parametrize(("content", "words"), [
    (b"\xff[experiment]", "not UTF-8 text (byte 0xff on line 1)"),
    (b"[experiment\n", "not valid TOML"),
])
def test_reading_a_file_fails_in_one_line(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(content)
    with pytest.raises(ExperimentError, match=words.replace("(", r"\(").replace(")", r"\)")):
        read_document(path, "experiment file", 1_000)
    with pytest.raises(ExperimentError, match="too large for an experiment file"):
        read_document(path, "experiment file", 2)
    with pytest.raises(ExperimentError, match="experiment file not found"):
        read_document(tmp_path / "missing.toml", "experiment file", 1_000)
