"""Preparing the Kaggle Dogs vs Cats images, one job per module: read the `source`, `detect` its
layout, check every image (`checking`), split them (`splitting`), install and record it all
(`prepare`)."""
