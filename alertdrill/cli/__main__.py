"""``python -m alertdrill.cli``: the same as the ``alertdrill`` console script."""

import sys

from alertdrill.cli import main

sys.exit(main())
