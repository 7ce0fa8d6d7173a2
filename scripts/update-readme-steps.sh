#!/usr/bin/env bash
# Regenerate the README's step table from the step definitions (a test keeps them identical).
set -euo pipefail
cd "$(dirname "$0")/.."
table=$(.venv/bin/alertdrill steps --markdown)
python3 - "$table" <<'PY'
import re, sys
readme = open("README.md").read()
new = re.sub(r"(<!-- steps:begin -->\n).*?(<!-- steps:end -->)",
             lambda m: m.group(1) + sys.argv[1] + "\n" + m.group(2), readme, flags=re.S)
open("README.md", "w").write(new)
PY
