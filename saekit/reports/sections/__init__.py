"""The report's analysis sections: each is a small typed unit that knows the result file it
shows (and its producer's reader), turns it into what its template partial draws, and names that
partial. The report finds every registered section's files in the `--analyses` folders and
renders the sections that found any. Adding a section is one module here, one template under
`templates/sections/` and one entry in `SECTIONS` (or `register_section`)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from saekit.reports.paths import shown_path


@dataclass(frozen=True)
class Section:
    name: str
    """Its id in the page, and its name in the report's list of sections."""
    title: str
    shows: Callable[[Path], bool]
    """Whether a file is a result this section shows (decided by the producer's own reader)."""
    load: Callable[[Path, str], object]
    """A found file and its shown name (no absolute path) -> what the template draws."""
    template: str
    """Its partial under `templates/sections/`; it draws one loaded `item`."""


@dataclass
class FoundSections:
    items: dict[str, list] = field(default_factory=dict)
    """Per section name, the loaded items in file order."""

    def present(self, sections: list[Section]) -> dict[str, bool]:
        return {s.name: bool(self.items.get(s.name)) for s in sections}


def _registered() -> list[Section]:
    from saekit.reports.sections import circuits, disentanglement, graphs, probing

    return [disentanglement.SECTION, probing.SECTION, circuits.SECTION, graphs.SECTION]


SECTIONS: list[Section] = []
"""In page order; filled on first use (each section imports its producer's reader)."""


def report_sections() -> list[Section]:
    if not SECTIONS:
        SECTIONS.extend(_registered())
    return SECTIONS


def register_section(section: Section) -> None:
    if any(s.name == section.name for s in report_sections()):
        raise ValueError(f"a report section named {section.name!r} is already registered")
    SECTIONS.append(section)


def find_sections(folders: list[Path], base: Path) -> FoundSections:
    """Every file in `folders` (searched recursively) that a section shows, loaded; names are
    shown relative to `base` (the report's folder) or to the folder's parent."""
    found = FoundSections()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            for section in report_sections():
                if path.is_file() and section.shows(path):
                    shown = f"{shown_path(path.parent, base, folder.parent)}/{path.name}"
                    found.items.setdefault(section.name, []).append(section.load(path, shown))
    return found
