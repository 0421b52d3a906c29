"""/reports: the page (page.py), the data it shows (data.py) and its CSV and print routes (routes.py)."""
