"""The exact crossing engine: zone index, prepared tracks, episode kernel."""
