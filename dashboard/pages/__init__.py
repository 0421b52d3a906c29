"""Dash pages: one page, one module or one folder (a folder when a page has helpers of its own)."""
