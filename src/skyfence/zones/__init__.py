"""Zones: airspace volumes (lateral polygon + vertical band) and their readers."""
