"""Use cases: load through the ports, call the domain, save. No web framework, no ORM."""
