"""/reports: the page (page.py), the data it shows (data.py), its CSV and print routes (routes.py) and the
printable reports (printed.py)."""
