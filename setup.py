"""Package discovery (the rest of the metadata is in pyproject.toml).

The analysis layer lives at the top level in `analysis/` and is installed as `saekit.analysis`:
every package under `saekit/` and under `analysis/` is found here, so nothing is left out of a
wheel when a subpackage is added.
"""

from setuptools import find_packages, setup

ANALYSIS_DIR = "analysis"
ANALYSIS_PACKAGE = "saekit.analysis"

core = find_packages(include=["saekit", "saekit.*"])
analysis = [
    ANALYSIS_PACKAGE + name[len(ANALYSIS_DIR) :]
    for name in find_packages(include=[ANALYSIS_DIR, f"{ANALYSIS_DIR}.*"])
]
setup(packages=core + analysis, package_dir={ANALYSIS_PACKAGE: ANALYSIS_DIR})
