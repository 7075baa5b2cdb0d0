"""Every table of every feature on one `Base`: what migrations and their tests compare.

The shared tables (master data, users, devices, stock, postings) live in
`server.db.tables`; each feature keeps its own beside its SQL. Importing this module
makes `metadata` complete.
"""

from server.audit import tables as audit_tables
from server.counts import tables as counts_tables
from server.db.tables import Base
from server.journal import tables as journal_tables
from server.sync import tables as sync_tables

metadata = Base.metadata

__all__ = ["audit_tables", "counts_tables", "journal_tables", "metadata", "sync_tables"]
