"""benchbook: a reproducible benchmark of TensorFlow training on personal computers."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("benchbook")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.1.0"

__all__ = ["__version__"]
