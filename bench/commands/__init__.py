"""The front doors: every command's parser and its one-line errors."""
