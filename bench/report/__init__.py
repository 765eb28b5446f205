"""The report: what the pages of the published write-up compute and show.

One module per page, the display helpers and the charts beside them:

- `tables`: every results file as tidy tables (what the pages start from).
- `training`, `scores`, `attribution`, `article`, `hardware`: each page's figures, as tested
  functions; a page's cells load, glue and display, and compute nothing of their own.
- `utilisation`: the floating-point work of a training image, and each configuration's share of
  the measured peak (the Scores page).
- `compare_data`: per machine, what any comparison needs (the Compare page fetches two);
  `machines`: the page per machine (with where it ranks, `bench.readers.standings`), written at
  build time; `downloads`: the raw data the site offers.
- `markup`: escaping of untrusted text, HTML tables (machine names linked), glue; `charts`: the
  figures (the Input pipelines page's in `attribution_charts`).

The report reads results files and the readers' judgements only: it never imports the worker or
the harness (the import rule in `nox -s lint`).

``benchbook report [FOLDER]`` (`bench.commands.report`) checks that the report can be built from
a folder.
"""
