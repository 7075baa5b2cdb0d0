"""The sync protocol over HTTP: the controllers (`controllers`) and the one mapping between
the wire structs of schemas.sync and the sync use cases' types (`wire`)."""
