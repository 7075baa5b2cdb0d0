"""The stockcount server: a pure domain core with persistence and HTTP around it."""
