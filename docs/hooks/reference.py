"""MkDocs hook: the reference pages generated from the code at every build.

Nothing written here is committed; each page is made in memory from the code it
describes, so a changed option, parameter or module changes the site and nothing else:

- ``reference/cli.md``: every subcommand's usage and options, from the argparse parser
  of :mod:`sim.cli` (``build_parser``);
- ``reference/parameters.md``: one table of every field of :class:`sim.params.Params`
  (unit, default, allowed range, description from the declaration; the source or
  assumption from the parameter table of docs/ODD.md, Section 8; whether the calibration
  sets it, from the shipped profile and posterior);
- ``reference/experiment-files.md``: the experiment-file schema, from the experiment
  package's ``schema_markdown()``;
- ``reference/api/<module>.md``: one mkdocstrings page per public module of ``sim``,
  found by walking the package's folders (no module is named here, so a module that
  moves needs no edit), and ``reference/api.md`` listing them.

The figures of the repository's ``figures/`` folder are served under ``figures/`` so
that the explanation pages can show them without a copy in ``docs/``.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import importlib.util
import logging
import os
import pkgutil
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

log = logging.getLogger("mkdocs.hooks.reference")

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # document this checkout's code, not an installed copy
    sys.path.insert(0, str(ROOT))
PACKAGE = "sim"
API_PAGE = "reference/api.md"
API_DIR = "reference/api"
FIGURES = ROOT / "figures"
ODD = ROOT / "docs" / "ODD.md"

GENERATED_NOTE = ("<!-- generated at build time by docs/hooks/reference.py; "
                  "edit the code, not this page -->\n\n")


# --- API pages ---------------------------------------------------------------------

def public_modules(package: str = PACKAGE) -> list[str]:
    """Every public module and package under ``package``, found on disk without
    importing it: names with a part that starts with an underscore (``__main__``
    included) are left out."""
    root = importlib.util.find_spec(package)
    assert root is not None and root.submodule_search_locations is not None

    def walk(paths: list[str], prefix: str) -> Iterator[str]:
        for info in sorted(pkgutil.iter_modules(paths), key=lambda m: m.name):
            if info.name.startswith("_"):
                continue
            name = f"{prefix}.{info.name}"
            yield name
            if info.ispkg:
                yield from walk([os.path.join(paths[0], info.name)], name)

    return [package, *walk(list(root.submodule_search_locations), package)]


def api_page(module: str) -> str:
    return f"{API_DIR}/{module}.md"


def api_nav(modules: list[str]) -> list[Any]:
    return [{"Index": API_PAGE}, *({module: api_page(module)} for module in modules)]


def api_index(modules: list[str]) -> str:
    lines = ["# API", "", GENERATED_NOTE.strip(), "",
             "One page per public module of the `sim` package, drawn from its docstrings "
             "(found by walking the package at build time). Private modules (a leading "
             "underscore) and `__main__` are left out.", ""]
    for module in modules:
        depth = module.count(".")
        lines.append(f"{'  ' * depth}- [`{module}`]({API_DIR.split('/')[-1]}/{module}.md)")
    return "\n".join(lines) + "\n"


def api_module(module: str) -> str:
    return (f"# `{module}`\n\n{GENERATED_NOTE}::: {module}\n"
            "    options:\n      show_submodules: false\n")


# --- CLI ---------------------------------------------------------------------------

@contextlib.contextmanager
def columns(width: int) -> Iterator[None]:
    """argparse wraps its help to the terminal's width: fix it, so the page does not
    depend on the terminal that builds it."""
    before = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        yield
    finally:
        if before is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = before


def cli_page() -> str:
    from sim.cli import build_parser

    with columns(88):
        parser = build_parser()
        subcommands = next(action for action in parser._actions
                           if isinstance(action, argparse._SubParsersAction))
        helps = {choice.dest: choice.help for choice in subcommands._choices_actions}
        lines = ["# Command line", "", GENERATED_NOTE.strip(), "",
                 "`python -m sim` (installed as `cluster-sim` too) has one subcommand per "
                 "task. Every subcommand's usage and options below are printed by the "
                 "parser itself (`python -m sim SUBCOMMAND --help`). A bad value stops "
                 "with one line and exit code 2.", "",
                 "```text", parser.format_help().rstrip(), "```", ""]
        for name, sub in subcommands.choices.items():
            lines += [f"## `{name}`", ""]
            if helps.get(name):
                lines += [helps[name][0].upper() + helps[name][1:] + ".", ""]
            lines += ["```text", sub.format_help().rstrip(), "```", ""]
    lines += ["The dashboard has a command of its own, `python -m sim.dashboard` "
              "(`make dashboard`).", ""]
    return "\n".join(lines)


# --- parameters --------------------------------------------------------------------

def _cells(row: str) -> list[str]:
    """The cells of one Markdown table row (pipes inside code or escaped kept)."""
    cells, current, code = [], "", False
    body = row.strip().strip("|")
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\" and index + 1 < len(body):
            current += body[index:index + 2]
            index += 2
            continue
        if char == "`":
            code = not code
        if char == "|" and not code:
            cells.append(current.strip())
            current = ""
        else:
            current += char
        index += 1
    cells.append(current.strip())
    return cells


def odd_table(path: Path = ODD) -> dict[str, dict[str, str]]:
    """The rows of the ODD's parameter table (Section 8), by parameter name: each a
    mapping from the table's column names to the row's cells."""
    text = path.read_text(encoding="utf-8")
    start = text.index("\n## 8. Parameters")
    end = text.index("\n## ", start + 1)
    rows: dict[str, dict[str, str]] = {}
    header: list[str] | None = None
    for line in text[start:end].splitlines():
        if not line.startswith("|"):
            continue
        cells = _cells(line)
        if header is None:
            header = [cell.lower() for cell in cells]
            continue
        match = re.fullmatch(r"`([A-Za-z_][A-Za-z0-9_]*)`", cells[0])
        if match and len(cells) == len(header):
            rows[match.group(1)] = dict(zip(header, cells, strict=True))
    return rows


def _range(meta: dict[str, Any]) -> str:
    if meta["kind"] is bool:
        span = "true / false"
    else:
        low, high = meta["low"], meta["high"]
        opening = "(" if meta["low_open"] else "["
        span = (f"{opening}{'−∞' if low is None else _number(low)}, "
                f"{'∞' if high is None else _number(high)}]")
    return f"unset or {span}" if meta["optional"] else span


def _number(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "unset"
    return repr(value)


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def parameters_page() -> str:
    from sim.params import Params
    from sim.profile import load_posterior

    fitted = set(load_posterior("calibrated").parameters)
    odd = odd_table()
    missing = [f.name for f in dataclasses.fields(Params)
               if not odd.get(f.name, {}).get("source / rationale")]
    if missing:
        log.warning("docs/ODD.md, Section 8, gives no source for parameter(s) %s",
                    ", ".join(missing))
    lines = ["# Parameters", "", GENERATED_NOTE.strip(), "",
             f"Every input of the model: the {len(dataclasses.fields(Params))} fields of "
             "`Params` (`sim.params`), in their declared order. Unit, default, range and "
             "description are the declaration's (the unit, where it declares none, is "
             "the ODD's description: dimensionless, switch...); **default** is the fitted model's "
             "(a value the calibrated profile sets is marked, with the hand-set value it "
             "replaced, kept in the `legacy` profile); **source** is the ODD's parameter "
             "table ([ODD, Section 8](../ODD.md#8-parameters)), where **cal** means "
             "calibrated, **lit** from the literature, **src** from the source paper or "
             "the design of the study and **ASSUMPTION** no source for the number. "
             "`python -m sim params` prints the same declarations; `python -m sim run "
             "--set NAME=VALUE` and an experiment's `[fixed]` table set any of them.", "",
             "| parameter | unit | default | range | description | source |",
             "|---|---|---|---|---|---|"]
    for spec in dataclasses.fields(Params):
        meta = dict(spec.metadata)
        default = f"`{_number(spec.default)}`"
        if "legacy" in meta:
            how = ("fitted: the calibration's posterior median" if spec.name in fitted
                   else "fixed in the calibration")
            default += f" ({how}; hand-set `{_number(meta['legacy'])}`)"
        if meta["from_2018"]:
            default += "; from 2018Q1"
        description = meta["help"]
        description = description[0].upper() + description[1:]
        described = odd.get(spec.name, {})
        unit = meta["unit"] or described.get("unit", "")
        row = [f"`{spec.name}`", unit, default, _range(meta), description,
               described.get("source / rationale", "not stated")]
        lines.append("| " + " | ".join(_escape(cell) for cell in row) + " |")
    lines += ["", "\"from 2018Q1\": the input takes effect from 2018Q1 only, so the "
              "spin-up never sees it and runs that differ only in such inputs share "
              "their 2018 state.", ""]
    return "\n".join(lines)


# --- experiment files --------------------------------------------------------------

def experiment_files_page() -> str:
    """Both input files, from their declarations (one TOML toolkit checks and documents
    them: sim.experiment.spec)."""
    from sim.experiment.design import EXPERIMENT_FILE
    from sim.inference.problem import CALIBRATION_FILE

    body = ["# Experiment files", "",
            "Two kinds of TOML file drive the tool: an experiment file (a sweep's design) "
            "and a calibration file. Both are checked in full before any run; a problem is "
            "one line naming the file, the table and the key.", "",
            EXPERIMENT_FILE.markdown(), CALIBRATION_FILE.markdown()]
    return GENERATED_NOTE + "\n".join(body)


# --- hooks -------------------------------------------------------------------------

def _replace_api(nav: list[Any], modules: list[str]) -> bool:
    """Put the module pages where the nav names ``reference/api.md``."""
    for index, item in enumerate(nav):
        if item == API_PAGE or (isinstance(item, dict) and list(item.values()) == [API_PAGE]):
            title = next(iter(item)) if isinstance(item, dict) else "API"
            nav[index] = {title: api_nav(modules)}
            return True
        if isinstance(item, dict):
            for value in item.values():
                if isinstance(value, list) and _replace_api(value, modules):
                    return True
    return False


def on_config(config: Any) -> Any:
    modules = public_modules()
    config.extra["api_modules"] = modules
    if config.nav is not None and not _replace_api(config.nav, modules):
        log.warning("the nav names no %s: the API pages are not in it", API_PAGE)
    return config


def on_files(files: Files, config: Any) -> Files:
    modules = config.extra["api_modules"]
    pages = {
        "reference/cli.md": cli_page(),
        "reference/parameters.md": parameters_page(),
        "reference/experiment-files.md": experiment_files_page(),
        API_PAGE: api_index(modules),
        **{api_page(module): api_module(module) for module in modules},
    }
    for uri, content in pages.items():
        if files.get_file_from_path(uri) is not None:
            log.warning("%s is generated: remove the file of that name from docs/", uri)
            files.remove(files.get_file_from_path(uri))
        files.append(File.generated(config, uri, content=content))
    for figure in sorted(FIGURES.glob("*.png")):
        files.append(File.generated(config, f"figures/{figure.name}",
                                    abs_src_path=str(figure)))
    return files
