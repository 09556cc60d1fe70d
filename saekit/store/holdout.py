"""The last windows of a store, kept out of training so that a dictionary is evaluated on text
it never saw. Rows are in window order, so the held-out windows are the store's last rows."""

from dataclasses import asdict, dataclass

import torch

from saekit.artifacts import STORE_MANIFEST
from saekit.provenance import file_sha256
from saekit.store.manifest import StoreError
from saekit.store.reader import ActivationStore


@dataclass(frozen=True)
class HeldOut:
    fraction: float
    """The share of the store's windows held out (the last ones)."""
    first_window: int
    first_row: int
    rows: int
    """Rows of the whole store: the held-out rows are `first_row .. rows - 1`."""
    store: str
    """sha256 of the store's manifest: the split applies to this store only."""

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        return (
            f"held-out rows {self.first_row}..{self.rows - 1} (windows from {self.first_window}: "
            f"the last {self.fraction:.0%}, not trained on)"
        )

    def applies_to(self, store: ActivationStore) -> bool:
        return self.store == file_sha256(store.folder / STORE_MANIFEST) and self.rows == len(store)


def hold_out(store: ActivationStore, fraction: float) -> HeldOut:
    """Hold out the last `fraction` of the store's windows (at least one)."""
    windows = store.windows
    if len(windows) == 0:
        raise StoreError(f"{store.folder} holds no rows")
    if bool((windows[1:] < windows[:-1]).any()):
        raise StoreError(f"{store.folder}: rows are not in window order; train with --holdout 0")
    n_windows = int(windows[-1]) + 1
    held = max(1, int(n_windows * fraction))
    if held >= n_windows:
        raise StoreError(
            f"{store.folder} has {n_windows} windows: too few to hold out {fraction:.0%} and "
            "train on the rest; harvest more tokens or train with --holdout 0"
        )
    first_window = n_windows - held
    first_row = int(torch.searchsorted(windows, first_window))
    digest = file_sha256(store.folder / STORE_MANIFEST)
    return HeldOut(fraction, first_window, first_row, len(store), digest)
