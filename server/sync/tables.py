"""The tables of the sync protocol (see server/sync/usecases.py for the rules).

`sync_event`      every event a device pushed, stored once per (device, install, seq), with
                  its outcome: applied, or rejected with a reason (kept for supervisors).
`sync_install`    per (device, install): the high-water mark (the highest contiguous seq
                  stored) and the device's status as of its last push.
`sync_server`     one row: the server's epoch, a random id made with the database and made
                  anew by the operator (`stockcount sync new-epoch`), never by a device.
`sync_bin_count`  which bin count a device's bin (device, install, bin_seq) became: its
                  primary key makes the conversion idempotent.
`sync_scope`      per location: the last change sequence handed out (and the row that
                  serializes the refresh of that location's change log).
`sync_pull_mark`  per device: the last pull cursor (change_seq) this database handed it; a
                  cursor above it resets that device only (the database went back).
`sync_ref`        the change log of reference data per location: each record (a count, a
                  bin, an item, a recount order) as last sent, its digest and change_seq.
`device_settings` per location: what its devices are told in the pull (bin label
                  pattern, scanner GS replacement and AIM prefixes, idle sign-out, PIN
                  attempts); no row: the defaults.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from server.db.tables import Base, Id
from server.db.types import UTCDateTime


class SyncServer(Base):
    __tablename__ = "sync_server"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    epoch: Mapped[str] = mapped_column(String(32))
    # How many times the epoch was made anew (a restore detected), for the operator.
    generation: Mapped[int] = mapped_column(Integer, default=1)


class SyncInstall(Base):
    __tablename__ = "sync_install"
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"), primary_key=True)
    install_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    high_water: Mapped[int] = mapped_column(BigInteger, default=0)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    queue_depth: Mapped[int] = mapped_column(BigInteger, default=0)
    app_version: Mapped[str] = mapped_column(String(64), default="")
    # Server time minus device time at the last push, in milliseconds: shown, never used.
    clock_skew_ms: Mapped[int] = mapped_column(BigInteger, default=0)


class SyncEvent(Base):
    __tablename__ = "sync_event"
    __table_args__ = (
        UniqueConstraint("device_id", "install_id", "seq"),
        CheckConstraint("outcome IN ('applied', 'rejected')", name="outcome"),
        Index("ix_sync_event_outcome_id", "outcome", "id"),
        Index("ix_sync_event_device_id_install_id_bin_seq", "device_id", "install_id", "bin_seq"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"))
    install_id: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(24))
    count_number: Mapped[str] = mapped_column(String(64))
    # The seq of the BinOpened event of the bin count (its own seq for a BinOpened).
    bin_seq: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text)  # the event body as JSON, in schemas.sync shapes
    device_time: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    outcome: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(String(500), default="")


class SyncBinCount(Base):
    __tablename__ = "sync_bin_count"
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"), primary_key=True)
    install_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    bin_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    bin_count_id: Mapped[int] = mapped_column(ForeignKey("bin_count.id"))


class SyncScope(Base):
    __tablename__ = "sync_scope"
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), primary_key=True)
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class SyncPullMark(Base):
    __tablename__ = "sync_pull_mark"
    device_id: Mapped[int] = mapped_column(ForeignKey("device.id"), primary_key=True)
    change_seq: Mapped[int] = mapped_column(BigInteger)


class SyncRef(Base):
    __tablename__ = "sync_ref"
    __table_args__ = (
        CheckConstraint("kind IN ('count', 'bin', 'item', 'recount')", name="kind"),
        Index("ix_sync_ref_location_id_change_seq", "location_id", "change_seq"),
    )
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    ref_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    digest: Mapped[str] = mapped_column(String(32))
    change_seq: Mapped[int] = mapped_column(BigInteger)
    body: Mapped[str] = mapped_column(Text)  # the wire struct as JSON


class DeviceSettingsRow(Base):
    __tablename__ = "device_settings"
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), primary_key=True)
    bin_pattern: Mapped[str] = mapped_column(String(200), default="")
    gs_replacement: Mapped[str] = mapped_column(String(8), default="")
    aim_prefixes: Mapped[bool] = mapped_column(Boolean, default=True)
    idle_sign_out_minutes: Mapped[int] = mapped_column(Integer, default=15)
    pin_attempts: Mapped[int] = mapped_column(Integer, default=5)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
