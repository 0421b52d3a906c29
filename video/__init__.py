"""Frames in, incident candidates out. No Redis, no database."""
