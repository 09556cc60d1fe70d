"""A dSprites-like generator (Matthey et al. 2017): white shapes on a black 64x64 canvas with
five independent factors — shape (square, ellipse, heart), scale, orientation, x and y. Every
factor combination is reachable by index (mixed radix, last factor fastest), images are
rendered on demand, and factors can be sampled with one of them held fixed (what the BetaVAE
and FactorVAE scores need)."""

from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

import numpy as np

SHAPES = ("square", "ellipse", "heart")
FACTOR_NAMES = ("shape", "scale", "orientation", "x", "y")


class FactorBatch(NamedTuple):
    factors: np.ndarray
    """`[n, 5]` integer factor values (shape, scale, orientation, x, y)."""
    images: np.ndarray
    """`[n, size, size]` float32 in {0, 1}."""


def _inside(shape: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether shape-frame coordinates (unit size, centred) fall inside the shape."""
    if shape == 0:
        return (np.abs(u) <= 0.8) & (np.abs(v) <= 0.8)
    if shape == 1:
        return (u / 1.0) ** 2 + (v / 0.55) ** 2 <= 1.0
    x, y = u * 1.25, -v * 1.25 + 0.15  # the classic implicit heart, pointing down
    return (x**2 + y**2 - 1) ** 3 - x**2 * y**3 <= 0


@dataclass(frozen=True)
class DSprites:
    """Factor sizes default to the original dataset's (3, 6, 40, 32, 32: 737,280 images).
    Scale runs over [0.5, 1] of the largest size, orientation over [0, 2 pi) and positions over
    the canvas (keeping the shape mostly inside)."""

    scales: int = 6
    orientations: int = 40
    positions: int = 32
    size: int = 64

    def __post_init__(self):
        if min(self.scales, self.orientations, self.positions) < 2 or self.size < 8:
            raise ValueError("each factor needs >= 2 values and the canvas >= 8 pixels")

    @property
    def factor_sizes(self) -> tuple[int, ...]:
        return (len(SHAPES), self.scales, self.orientations, self.positions, self.positions)

    def __len__(self) -> int:
        return int(np.prod(self.factor_sizes))

    def factors_of(self, indices) -> np.ndarray:
        """`[n]` flat indices -> `[n, 5]` factor values."""
        indices = np.asarray(indices, dtype=np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= len(self)):
            raise IndexError(f"indices must lie in [0, {len(self)})")
        return np.stack(np.unravel_index(indices, self.factor_sizes), axis=-1)

    def index_of(self, factors) -> np.ndarray:
        """`[n, 5]` factor values -> `[n]` flat indices."""
        factors = np.asarray(factors, dtype=np.int64)
        return np.ravel_multi_index(tuple(factors.T), self.factor_sizes)

    def sample_factors(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """`[n, 5]` factors drawn uniformly and independently."""
        return np.stack([rng.integers(0, s, n) for s in self.factor_sizes], axis=1)

    def sample_with_fixed(
        self, n: int, factor: int, rng: np.random.Generator, value: int | None = None
    ) -> np.ndarray:
        """`[n, 5]` random factors sharing one value of `factor` (random unless given)."""
        factors = self.sample_factors(n, rng)
        factors[:, factor] = rng.integers(0, self.factor_sizes[factor]) if value is None else value
        return factors

    @cached_property
    def _sprites(self) -> np.ndarray:
        """`[shapes, scales, orientations, 2 size, 2 size]` each sprite centred on a canvas
        padded by half a canvas on every side, rendered once."""
        grid = ((np.arange(2 * self.size) + 0.5) / self.size - 1.0).astype(np.float32)
        scale = 0.5 + 0.5 * np.arange(self.scales, dtype=np.float32) / (self.scales - 1)
        angle = 2 * np.pi * np.arange(self.orientations, dtype=np.float32) / self.orientations
        radius = 0.16 * scale[:, None, None, None]  # the largest shape spans a third of the canvas
        dx, dy = grid[None, None, None, :] / radius, grid[None, None, :, None] / radius
        cos, sin = np.cos(angle)[None, :, None, None], np.sin(angle)[None, :, None, None]
        u, v = cos * dx + sin * dy, -sin * dx + cos * dy
        return np.stack([_inside(shape, u, v) for shape in range(len(SHAPES))]).astype(np.float32)

    def render(self, factors) -> np.ndarray:
        """`[n, 5]` factors -> `[n, size, size]` float32 images: the sprite of (shape, scale,
        orientation) placed at whole-pixel offsets for (x, y)."""
        factors = np.atleast_2d(np.asarray(factors, dtype=np.int64))
        margin = 0.2
        steps = (margin + (1 - 2 * margin) * np.arange(self.positions) / (self.positions - 1)) - 0.5
        offsets = np.rint(steps * self.size).astype(np.int64)
        top = self.size // 2 - offsets[factors[:, 4]]
        left = self.size // 2 - offsets[factors[:, 3]]
        images = np.empty((len(factors), self.size, self.size), dtype=np.float32)
        for i, (shape, scale, angle) in enumerate(factors[:, :3]):
            sprite = self._sprites[shape, scale, angle]
            images[i] = sprite[top[i] : top[i] + self.size, left[i] : left[i] + self.size]
        return images

    def __getitem__(self, indices) -> FactorBatch:
        factors = self.factors_of(np.atleast_1d(indices))
        return FactorBatch(factors, self.render(factors))

    def sample(self, n: int, rng: np.random.Generator) -> FactorBatch:
        factors = self.sample_factors(n, rng)
        return FactorBatch(factors, self.render(factors))
