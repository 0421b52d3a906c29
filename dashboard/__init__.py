"""The Dash command dashboard."""
