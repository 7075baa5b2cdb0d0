"""The device side: local SQLite store, scan decoding, counting workflow, sync engine."""
