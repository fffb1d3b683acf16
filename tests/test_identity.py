"""Code identity (sim.experiment.identity): a profile counts by its values, so results made
under other defaults are never taken for this code's, while a comment changes nothing."""

from __future__ import annotations

from pathlib import Path

from sim.experiment import identity


def test_a_profile_counts_by_its_values_not_its_comments(tmp_path: Path) -> None:
    first, second, third = (tmp_path / f"{name}.toml" for name in ("a", "b", "c"))
    first.write_text("# made by run 1\n[parameters]\nentry_rate = 0.003\n")
    second.write_text("# made by run 2, elsewhere\n[parameters]\nentry_rate = 0.003  # x\n")
    third.write_text("# made by run 1\n[parameters]\nentry_rate = 0.004\n")
    assert identity._content(first) == identity._content(second)
    assert identity._content(first) != identity._content(third)


def test_the_shipped_profiles_are_part_of_the_source_fingerprint() -> None:
    profiles = sorted((identity._PACKAGE / "profiles").iterdir())
    assert any(path.suffix == ".toml" for path in profiles)
    assert any(path.suffix == ".csv" for path in profiles)
    digest_without = identity.hashlib.sha256()
    for path in sorted(identity._PACKAGE.rglob("*.py")):
        relative = path.relative_to(identity._PACKAGE).as_posix()
        if "__pycache__" not in relative:
            digest_without.update(relative.encode() + b"\0" + path.read_bytes() + b"\0")
    assert identity.source_sha256() != digest_without.hexdigest()
