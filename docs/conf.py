"""Sphinx configuration of the benchbook report (`nox -s docs`).

The pages are MyST text notebooks executed on every build over every results file in
``$BENCHBOOK_RESULTS`` (default: ``results/``), so stale numbers cannot ship.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from sphinx.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# Pages run in separate kernel processes: let them import bench from this checkout even where
# the project is not installed.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

# Build matplotlib's font cache here, where its one-time "building the font cache" notice is
# harmless; in a page it would be stderr output, which fails the build.
import matplotlib.font_manager  # noqa: F401

from bench.errors import UserError
from bench.report import compare_data, downloads, machines, markup, tables, training

# Check every results file before any page runs: a bad file stops the build with one line
# (its path and the reason) instead of a traceback from inside a page.
try:
    RESULTS = tables.load_results()
    training.check_baseline(RESULTS)
except UserError as exc:
    raise ConfigError(str(exc)) from None

# Computed once per build, linear in the machines: each machine's comparison data (the Compare
# page fetches the two a reader picks, docs/_generated/site/compare-data/, copied to the site's
# root) and its page (docs/machines/), written before Sphinx reads the sources.
DOCS = Path(__file__).resolve().parent
COMPARISONS = training.comparisons(RESULTS.epochs)
markup.link_machines(RESULTS.labels)
compare_data.write(RESULTS, machines.fresh_folder(DOCS / "_generated") / "site", COMPARISONS)
machines.write_pages(RESULTS, DOCS, COMPARISONS)

project = "benchbook"
author = "benchbook contributors"
copyright = "benchbook contributors"
html_title = "benchbook: TensorFlow training on personal computers"

extensions = ["myst_nb"]
exclude_patterns = ["_build", "_generated", "jupyter_execute", "**.ipynb_checkpoints"]
nitpicky = True

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# Execute every page on every build: a cache keyed on the code cells would miss new results.
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_timeout = 300
# Anything a page writes to stderr (a warning from pandas or matplotlib) becomes a Sphinx
# warning, which -W turns into a failed build: fix it, do not ship it.
nb_output_stderr = "warn"
nb_merge_streams = True
# Charts are shown as MyST figure directives (alt text and caption), so Markdown outputs are
# parsed as MyST.
nb_render_markdown_format = "myst"

html_theme = "furo"
html_static_path = ["_static"]
html_extra_path = ["_generated/site"]
html_css_files = ["benchbook.css"]
html_js_files = [("compare.js", {"defer": "defer"}), ("rankings.js", {"defer": "defer"})]
html_favicon = "_static/favicon.svg"
html_show_sourcelink = False


def _write_downloads(app: Any, exception: BaseException | None) -> None:
    """After a successful HTML build, put the raw data in the site's data/ folder."""
    if exception is None and app.builder.format == "html":
        downloads.write(RESULTS, Path(app.outdir) / "data")


def setup(app: Any) -> None:
    """Sphinx's hook: the data downloads are written once the pages are."""
    app.connect("build-finished", _write_downloads)
