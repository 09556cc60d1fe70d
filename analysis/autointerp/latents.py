"""Which latents to interpret, from a short spec: `0-99`, `3,17,42`, `random:200`."""

import numpy as np


def parse_latents(spec: str, n_latents: int, seed: int = 0) -> list[int]:
    spec = spec.strip()
    try:
        if spec.startswith("random:"):
            count = int(spec.split(":", 1)[1])
            if count <= 0:
                raise ValueError
            chosen = np.random.default_rng(seed).choice(n_latents, min(count, n_latents), False)
            return sorted(int(i) for i in chosen)
        latents = []
        for part in spec.split(","):
            if "-" in part:
                first, last = (int(x) for x in part.split("-"))
                latents += list(range(first, last + 1))
            else:
                latents.append(int(part))
    except ValueError:
        raise ValueError(
            f"latents {spec!r}: use a range (0-99), a list (3,17,42) or random:N"
        ) from None
    bad = [i for i in latents if not 0 <= i < n_latents]
    if bad:
        raise ValueError(f"latents {bad[:5]} out of range: the dictionary has {n_latents}")
    return list(dict.fromkeys(latents))
