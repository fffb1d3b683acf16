"""The TOML toolkit every input file shares: reading a file, declaring its tables and keys,
checking a document against the declaration, and documenting it.

An input file (an experiment design, :mod:`sim.experiment.design`; a calibration,
:mod:`sim.inference.problem`) is declared once as a :class:`FileSchema`: its tables
(:class:`Section`), each with its keys (:class:`Key`: type, default or required, range or
choices, meaning). The same declaration checks a document (:meth:`Section.read`: unknown
keys, missing keys, wrong types, values out of range, each one :class:`ExperimentError`
line naming the file, the table and the key) and writes the file's reference page
(:meth:`FileSchema.markdown`). Rules that tie several keys together stay with the parser
that owns the file.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["DESCRIPTION", "MAX_NAME_LENGTH", "REQUIRED", "ExperimentError", "FileSchema", "Key",
           "Section", "check_name", "name_key", "read_document", "refuse_unknown"]

MAX_NAME_LENGTH = 100
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

#: How a TOML value's Python type is called on the reference page.
_KIND_NAMES = {str: "string", int: "integer", float: "number", bool: "boolean", dict: "table"}

REQUIRED: Any = object()
"""The default of a key that has none: the file must give it."""


class ExperimentError(ValueError):
    """A problem with an experiment or calibration file, or with a results directory, in
    one line."""


def check_name(name: str, where: str = "experiment", key: str = "name") -> None:
    """Refuse an experiment name that is not a plain name.

    The name becomes a folder (``results/NAME``), so it may hold only ASCII letters,
    digits, '-', '_' and '.', must start with a letter or digit, must not contain '..'
    and is at most :data:`MAX_NAME_LENGTH` characters: no path separator, parent
    folder, absolute path or control character can take a sweep outside ``results/``.
    """
    plain = (len(name) <= MAX_NAME_LENGTH and _NAME.fullmatch(name) is not None
             and ".." not in name)
    if not plain:
        raise ExperimentError(
            f"{where}: {key} must be a plain name (ASCII letters, digits, "
            f"'-', '_', '.', starting with a letter or digit, no '..', at most "
            f"{MAX_NAME_LENGTH} characters), got {name[:MAX_NAME_LENGTH + 20]!r}")


def refuse_unknown(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    """Refuse a key of ``table`` not in ``allowed``, naming the allowed ones."""
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ExperimentError(f"{where}: unknown key {unknown[0]!r} (allowed: "
                              f"{', '.join(sorted(allowed))})")


def read_document(path: str | Path, what: str, max_bytes: int) -> tuple[str, dict[str, Any]]:
    """The text of a TOML file and the document it holds; every way it cannot be read
    (missing, too large, not UTF-8, not TOML) is one :class:`ExperimentError` line.
    ``what`` names the kind of file in the messages ("experiment file")."""
    path = Path(path)
    if not path.is_file():
        raise ExperimentError(f"{what} not found: {path}")
    size = path.stat().st_size
    if size > max_bytes:
        raise ExperimentError(f"{path}: {size:,} bytes is too large for an {what} "
                              f"(at most {max_bytes:,})")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ExperimentError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise ExperimentError(f"{path}: not UTF-8 text (byte 0x{raw[error.start]:02x} on "
                              f"line {line}); save the file as UTF-8") from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ExperimentError(f"{path}: not valid TOML: {error}") from None


@dataclass(frozen=True)
class Key:
    """One key of a table: its type, its default (or :data:`REQUIRED`), the values it may
    take and what it means."""

    name: str
    kind: type
    """str, int, float (an integer is read as a float) or bool."""
    meaning: str
    default: Any = REQUIRED
    low: float | None = None
    high: float | None = None
    choices: Callable[[], tuple[str, ...]] | None = None
    """The allowed values, asked for when checked (so a registry can be read late)."""
    plain_name: bool = False
    """The value names files or directories: a plain name (:func:`check_name`)."""

    def read(self, table: Mapping[str, Any], where: str) -> Any:
        """The key's value in ``table`` (its default when absent), checked."""
        if self.name not in table:
            if self.default is REQUIRED:
                raise ExperimentError(f"{where}: missing key {self.name!r}")
            return self.default
        value = table[self.name]
        if self.kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, self.kind) or (self.kind is not bool
                                                and isinstance(value, bool)):
            raise ExperimentError(f"{where}: {self.name} must be {self.kind.__name__}, got "
                                  f"{value!r}")
        if self.low is not None and self.high is not None and not (
                self.low <= value <= self.high):
            raise ExperimentError(f"{where}: {self.name} must be in [{_number(self.low)}, "
                                  f"{_number(self.high)}], got {value}")
        if self.low is not None and self.high is None and not value >= self.low:
            raise ExperimentError(f"{where}: {self.name} must be >= {_number(self.low)}, "
                                  f"got {value}")
        if self.choices is not None and value not in self.choices():
            raise ExperimentError(f"{where}: {self.name} must be one of "
                                  f"{', '.join(self.choices())}, got {value!r}")
        if self.plain_name and value != self.default:  # "" is no prefix, not no name
            check_name(value, where, key=self.name)
        return value

    def allowed(self) -> str:
        """The values allowed, in words (for the reference page)."""
        if self.choices is not None:
            return "one of " + ", ".join(f"`{choice}`" for choice in self.choices())
        if self.low is not None and self.high is not None:
            return f"{_number(self.low)} to {_number(self.high)}"
        if self.low is not None:
            return f">= {_number(self.low)}"
        if self.plain_name:
            return "a plain name (letters, digits, - _ .)"
        return ""


DESCRIPTION = Key("description", str, "One sentence for people.", default="")
"""The ``description`` every input file's head table takes."""


def name_key(meaning: str) -> Key:
    """The ``name`` every input file's head table requires: a plain name."""
    return Key("name", str, meaning, plain_name=True)


@dataclass(frozen=True)
class Section:
    """One table of an input file: declared keys, or free entries (``entries`` says what
    they are, e.g. "parameter = value") checked by the file's parser."""

    name: str
    meaning: str
    keys: tuple[Key, ...] = ()
    entries: str = ""
    required: bool = False

    def table(self, document: Mapping[str, Any], where: str) -> dict[str, Any]:
        """This table of ``document`` (empty when absent and not required), checked to be
        a table."""
        if self.name not in document:
            if self.required:
                raise ExperimentError(f"{where}: missing [{self.name}] table")
            return {}
        table = document[self.name]
        if not isinstance(table, dict):
            what = f"a table of {self.entries}" if self.entries else "a table"
            raise ExperimentError(f"{where}: [{self.name}] must be {what}")
        return table

    def read(self, document: Mapping[str, Any], where: str) -> dict[str, Any]:
        """The declared keys' values (defaults filled in), after refusing an unknown key.
        Only for a section of declared keys."""
        table = self.table(document, where)
        inside = f"{where}: [{self.name}]"
        refuse_unknown(table, {key.name for key in self.keys}, inside)
        return {key.name: key.read(table, inside) for key in self.keys}


@dataclass(frozen=True)
class FileSchema:
    """An input file: its tables in the order documented."""

    title: str
    meaning: str
    sections: tuple[Section, ...]
    rules: tuple[str, ...] = field(default=())
    """Rules across keys and tables, in words (checked by the file's parser)."""

    def section(self, name: str) -> Section:
        """The declared table called ``name``."""
        for section in self.sections:
            if section.name == name:
                return section
        raise KeyError(name)

    def check_tables(self, document: Mapping[str, Any], where: str) -> None:
        """Refuse a top-level entry that is not one of the declared tables."""
        allowed = [section.name for section in self.sections]
        unknown = sorted(set(document) - set(allowed))
        if unknown:
            raise ExperimentError(f"{where}: unknown top-level table {unknown[0]!r} "
                                  f"(allowed: {', '.join(sorted(allowed))})")

    def markdown(self) -> str:
        """The file's reference: every table and key, with type, default, allowed values
        and meaning."""
        lines = [f"## {self.title}", "", self.meaning, ""]
        for section in self.sections:
            status = "required" if section.required else "optional"
            lines += [f"### `[{section.name}]` ({status})", "", section.meaning, ""]
            if section.entries:
                lines += [f"Entries: {section.entries}.", ""]
            if section.keys:
                lines += ["| key | type | default | allowed | meaning |",
                          "|---|---|---|---|---|"]
                lines += [f"| `{key.name}` | {_KIND_NAMES.get(key.kind, key.kind.__name__)} "
                          f"| {_default(key)} | {key.allowed()} | {key.meaning} |"
                          for key in section.keys]
                lines.append("")
        if self.rules:
            lines += ["### Rules across tables", ""]
            lines += [f"- {rule}" for rule in self.rules]
            lines.append("")
        return "\n".join(lines)


def _default(key: Key) -> str:
    if key.default is REQUIRED:
        return "required"
    if key.default is None:
        return "none"
    if isinstance(key.default, bool):
        return f"`{str(key.default).lower()}`"
    if isinstance(key.default, str):
        return f'`"{key.default}"`'
    return f"`{_number(key.default)}`"


def _number(value: float) -> str:
    return "inf" if isinstance(value, float) and math.isinf(value) else str(value)
