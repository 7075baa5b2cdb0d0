"""The audit trail of supervisor and admin acts: written by the use cases of every feature
through the kernel's `AuditTrail` port (server.ports), in the act's own transaction; read
here, a page at a time, filtered by count, user and action."""
