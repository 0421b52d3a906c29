"""/field: the grid worker's tablet: the page (page.py) and the JSON its script reads beyond the task list
(tablet.py: places, photos, the nearby-case prompt)."""
