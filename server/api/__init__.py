"""HTTP around the services: app factory, controllers, mapping wire <-> domain, errors."""
