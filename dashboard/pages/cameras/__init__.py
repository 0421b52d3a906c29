"""/cameras: the page (page.py), its zone editor (editor.py), the form it reads (zone_form.py), the checks before a save (zone_check.py) and the zones drawn on the map (zones.py)."""
