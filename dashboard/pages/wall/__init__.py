"""/wall: the page (page.py), its charts (charts.py) and its map layers taking turns (layers.py)."""
