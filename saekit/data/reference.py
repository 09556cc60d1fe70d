"""How a data source is recorded in a store's or a dictionary's config: a local file or folder
by its absolute path (so a later stage run from another folder finds the same data), a
built-in source or a dataset name as given."""

from pathlib import Path

from saekit.defaults import DEFAULT_CORPUS

BUILT_IN_SOURCES = (DEFAULT_CORPUS, "skimage", "sklearn", "digits", "photos")


def data_reference(data: str) -> str:
    if data in BUILT_IN_SOURCES or data.startswith("photos:") or not Path(data).exists():
        return data
    return str(Path(data).resolve())
