"""The pure domain core: plain dataclasses and functions, no I/O, no framework.

Nothing here imports litestar, sqlalchemy, msgspec or the wire schemas (import-linter
enforces it), so every rule can be tested without a database.
"""
