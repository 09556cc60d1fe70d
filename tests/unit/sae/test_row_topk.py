"""The compiled row top-k against PyTorch's: the same entries up to ties, on every layout and
dtype it serves; None (the caller's fallback) where it does not."""

import pytest
import torch

from saekit.sae.kernels import row_topk
from saekit.sae.kernels.compiled import (
    ENABLE_VARIABLE,
    PATH_VARIABLE,
    kernel_library,
    kernel_path_name,
    supported_paths,
)
from saekit.sae.kernels.row_topk import compiled_topk_indices

from .conftest import expected_paths


def assert_same_entries(x: torch.Tensor, indices: torch.Tensor, k: int) -> None:
    assert indices.shape == (x.shape[0], k) and indices.dtype == torch.long
    assert (indices.sort(-1).values.diff() > 0).all()  # distinct columns
    got = x.gather(1, indices).float().sort(-1).values
    want = x.topk(k, dim=-1).values.float().sort(-1).values
    assert torch.equal(got, want)


def test_every_path_the_cpu_has_is_built():
    """Else the tests below would check fewer paths than this CPU runs (or only the fallback)."""
    assert supported_paths() == expected_paths()
    if expected_paths():
        assert kernel_path_name() == expected_paths()[-1]  # the fastest, unless told otherwise


def test_a_path_the_cpu_lacks_is_refused_by_name(monkeypatch):
    monkeypatch.setenv(PATH_VARIABLE, "avx1024")
    if supported_paths():
        with pytest.raises(ValueError, match="SAEKIT_KERNEL_PATH=avx1024: this CPU runs"):
            compiled_topk_indices(torch.randn(8, 512), 8)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize(
    "rows, cols, k",
    [
        *[(300, 512, 8), (130, 900, 64), (70, 2048, 20), (9, 4608, 40), (5, 1100, 128)],
        *[(256, 172, 32), (40, 100, 16), (6, 16, 16), (33, 20, 3), (5, 67, 1)],
    ],
)  # the training shapes (main ranking, shortlist, AuxK), the largest k; rows narrower than four
# columns a stripe (every entry a candidate), k == columns, tails of 3-4 columns
def test_kernel_selects_what_topk_selects(rows, cols, k, dtype, kernel_path):
    torch.manual_seed(cols + k)
    x = torch.randn(rows, cols)
    x[0] = torch.randint(0, 4, (cols,)).float()  # ties at the k-th value
    x[1] = 2.5  # all equal
    x[2, : cols // 2] = float("-inf")
    x[2, -1] = float("inf")
    x[3, :: row_topk.stripes_for(k)] += 50  # many top entries in one stripe (j = g mod stripes)
    x[4] = torch.where(torch.arange(cols) % 3 == 0, -0.0, 0.0)  # ties between -0.0 and +0.0
    x = x.to(dtype)
    assert_same_entries(x, compiled_topk_indices(x, k), k)


def test_kernel_reads_strided_rows_and_views(kernel_path):
    torch.manual_seed(1)
    whole = torch.randn(400, 1030)
    for view in (whole[::3], whole[:, 3:1027], whole[10:20]):
        assert_same_entries(view, compiled_topk_indices(view, 12), 12)


@pytest.mark.parametrize("cols, column", [(512, 7), (100, 50), (67, 66)])  # wide, narrow, tail
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_nan_rows_are_left_to_pytorch(cols, column, dtype, kernel_path):
    x = torch.randn(8, cols)
    x[5, column] = float("nan")
    assert compiled_topk_indices(x.to(dtype), 8) is None


@pytest.mark.parametrize(
    "x, k",
    [
        (torch.randn(4, 10), 16),  # fewer columns than k
        (torch.randn(4, 2048), 129),  # k past the kernel's range
        (torch.randn(4, 512).double(), 8),  # dtype
        (torch.randn(512, 4).T, 8),  # columns not contiguous
        (torch.randn(0, 512), 8),  # no rows
    ],
)
def test_kernel_declines_what_it_does_not_serve(x, k):
    assert compiled_topk_indices(x, k) is None


def test_switched_off_by_the_environment(monkeypatch):
    monkeypatch.setenv(ENABLE_VARIABLE, "0")
    kernel_library.cache_clear()
    try:
        assert compiled_topk_indices(torch.randn(8, 512), 8) is None
    finally:
        kernel_library.cache_clear()


def test_a_failed_build_falls_back_to_pytorch(monkeypatch, tmp_path):
    monkeypatch.setenv("SAEKIT_CACHE", str(tmp_path))
    monkeypatch.setenv("CXX", str(tmp_path / "no-such-compiler"))
    kernel_library.cache_clear()
    try:
        assert compiled_topk_indices(torch.randn(8, 512), 8) is None
    finally:
        kernel_library.cache_clear()
    assert not list(tmp_path.rglob("*.so"))  # nothing half-built left to load
