"""Paths as a report shows them. A report is mailed as is, so it never holds an absolute path
of the machine that built it: a path inside one of the given folders is shown relative to it,
any other by its last component."""

from pathlib import Path


def shown_path(path: str | Path, *bases: str | Path) -> str:
    resolved = Path(path).resolve()
    for base in bases:
        try:
            relative = resolved.relative_to(Path(base).resolve())
        except ValueError:
            continue
        return str(relative) if relative.parts else resolved.name
    return resolved.name


def shown_source(data: str | None, *bases: str | Path) -> str | None:
    """A data source: a name as it is, a local path by `shown_path`."""
    return shown_path(data, *bases) if data and Path(data).is_absolute() else data
