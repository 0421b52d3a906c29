"""/console: the page (page.py) and its analysis panel (analysis.py)."""
