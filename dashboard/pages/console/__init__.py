"""/console: the page (page.py), its one-screen frame and queues (desk.py) and its analysis panel (analysis.py)."""
