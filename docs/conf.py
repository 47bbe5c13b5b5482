"""Sphinx configuration of certkit's documentation (MyST Markdown pages).

Build with `make docs` (warnings are errors: `-W --keep-going`). Pages under reference/ and
checks/ are generated at build time from the code (_ext/generated_pages.py); figures come from
benchmarks/results/*.json through the {measured} role (_ext/measured.py).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "certkit"
author = "certkit contributors"
copyright = "certkit contributors"

extensions = ["myst_parser", "measured", "generated_pages"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "**/README.md"]

# Headings get anchors, so pages can link to `page.md#a-section`.
myst_heading_anchors = 3
myst_enable_extensions = ["colon_fence"]

# Sections other engineers fill (ci/, zuul/, dashboard/, explore/) are one glob each, which
# also matches their index page: a folder holding only its index never leaves a glob empty.

html_theme = "alabaster"
html_title = "certkit"
html_static_path: list[str] = []
html_show_sourcelink = False
