"""saekit's version, read from the installed package's metadata (written once, in
pyproject.toml)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("saekit")
except PackageNotFoundError:  # a source tree on sys.path, not installed
    __version__ = "0+unknown"
