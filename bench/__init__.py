"""benchbook: a reproducible benchmark of TensorFlow training on personal computers."""

__version__ = "0.4.0"
"""The one version source: pyproject.toml reads it (``[tool.hatch.version]``), results files
record it (``benchbook_version``) and the format history names it."""

__all__ = ["__version__"]
