"""``python -m bench``: run the benchmark."""

import sys

from bench.commands.benchmark import main

sys.exit(main())
