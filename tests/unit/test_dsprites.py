"""The dSprites-like generator: index addressing, factor sampling and what each factor does to
the image."""

import numpy as np
import pytest

from saekit.analysis.factor_data.dsprites import DSprites

DATA = DSprites()
RNG = np.random.default_rng(0)


def test_every_combination_is_reachable_by_index():
    assert len(DATA) == 3 * 6 * 40 * 32 * 32
    indices = RNG.integers(0, len(DATA), 500)
    assert np.array_equal(DATA.index_of(DATA.factors_of(indices)), indices)
    assert DATA.factors_of([len(DATA) - 1]).tolist() == [[2, 5, 39, 31, 31]]
    batch = DATA[[0, 1]]
    assert batch.images.shape == (2, 64, 64) and batch.factors[1].tolist() == [0, 0, 0, 0, 1]
    with pytest.raises(IndexError, match="737280"):
        DATA.factors_of([len(DATA)])


def test_sampling_with_a_fixed_factor():
    fixed = DATA.sample_with_fixed(200, factor=2, rng=RNG, value=7)
    assert (fixed[:, 2] == 7).all()
    assert all(np.unique(fixed[:, i]).size > 1 for i in (0, 1, 3, 4))
    assert np.unique(DATA.sample_with_fixed(50, factor=0, rng=RNG)[:, 0]).size == 1


def _centroid(image):
    rows, cols = np.nonzero(image)
    return cols.mean(), rows.mean()


def test_factors_change_the_image_as_named():
    base = np.array([0, 0, 0, 10, 10])
    area = [DATA.render(base + [0, s, 0, 0, 0]).sum() for s in range(6)]
    assert np.all(np.diff(area) >= 0) and area[-1] > 3.5 * area[0]  # scale grows the shape
    left, right = DATA.render([base, base + [0, 0, 0, 15, 0]])
    assert _centroid(right)[0] > _centroid(left)[0] + 10 and _centroid(right)[1] == pytest.approx(
        _centroid(left)[1]
    )
    low, high = DATA.render([base, base + [0, 0, 0, 0, 15]])
    assert _centroid(high)[1] > _centroid(low)[1] + 10
    big = base + [0, 5, 0, 0, 0]
    square, ellipse, heart = DATA.render([big, big + [1, 0, 0, 0, 0], big + [2, 0, 0, 0, 0]])
    assert len({square.sum(), ellipse.sum(), heart.sum()}) == 3
    turned = DATA.render(big + [1, 0, 10, 0, 0])  # a quarter turn of the ellipse
    assert turned.sum() == pytest.approx(ellipse.sum(), rel=0.1) and (turned != ellipse).any()
    assert set(np.unique(DATA.render(DATA.sample_factors(20, RNG)))) <= {0.0, 1.0}


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match=">= 2 values"):
        DSprites(scales=1)
