"""Every error the handheld raises on purpose, in one tree.

    HandheldError                   base: a one-line message for a person, and a `code`
    ├── StoreError                  the local database
    │   ├── StoreMissing            no store at that path: run `stockcount-handheld init`
    │   ├── StoreExists             `init` on a path that already holds a store
    │   └── StoreTooNew             written by a newer app: upgrade the app, keep the file
    ├── ScanError                   a scan gave no usable result (nothing was counted)
    │   ├── UnreadableImage         missing, not an image, cannot be opened
    │   ├── DecoderUnavailable      the native library is not installed
    │   ├── DecoderCrashed          the decoder process died (native crash) or hung
    │   ├── UnknownBarcode          read fine, but matches no bin, item or serial
    │   └── MalformedBarcode        a GS1 or scanner prefix that does not parse
    ├── CountingError               a counting rule refused the action (nothing recorded)
    │   ├── NoCountOpen             open a count first
    │   ├── NoBinOpen               scan a bin label first
    │   ├── BinStillOpen            close the open bin before starting another
    │   ├── NotAllowed              any other rule: wrong tracking, bad quantity, ...
    │   └── SignInError             counters and their PINs
    │       ├── SignInRefused       no such counter here, a wrong PIN, nobody signed in
    │       └── CounterLocked       too many wrong PINs: a supervisor sets a new PIN
    └── SyncError                   talking to the server
        ├── TransportError          no connection, timeout, 5xx: retried with backoff
        ├── ProtocolVersionUnsupported  the server does not speak this app's protocol
        └── ServerRefused           the server answered an error that a retry won't fix

`code` is stable (for logs and tests); the message may change.
"""

from __future__ import annotations


class HandheldError(Exception):
    """Base of every deliberate handheld error. `str(error)` is one line for a person."""

    code = "handheld_error"


class StoreError(HandheldError):
    code = "store_error"


class StoreMissing(StoreError):
    code = "store_missing"


class StoreExists(StoreError):
    code = "store_exists"


class StoreTooNew(StoreError):
    code = "store_too_new"


class ScanError(HandheldError):
    """A scan could not produce a result. The message is one line, for a person."""

    code = "scan_error"


class UnreadableImage(ScanError):
    code = "unreadable_image"


class DecoderUnavailable(ScanError):
    code = "decoder_unavailable"


class DecoderCrashed(ScanError):
    code = "decoder_crashed"


class UnknownBarcode(ScanError):
    code = "unknown_barcode"


class MalformedBarcode(ScanError):
    code = "malformed_barcode"


class CountingError(HandheldError):
    code = "counting_error"


class NoCountOpen(CountingError):
    code = "no_count_open"


class NoBinOpen(CountingError):
    code = "no_bin_open"


class BinStillOpen(CountingError):
    code = "bin_still_open"


class NotAllowed(CountingError):
    code = "not_allowed"


class SignInError(CountingError):
    code = "sign_in_error"


class SignInRefused(SignInError):
    code = "sign_in_refused"


class CounterLocked(SignInError):
    code = "counter_locked"


class SyncError(HandheldError):
    code = "sync_error"


class TransportError(SyncError):
    code = "transport_error"


class ProtocolVersionUnsupported(SyncError):
    code = "protocol_version_unsupported"


class ServerRefused(SyncError):
    code = "server_refused"

    def __init__(self, message: str, *, status: int, problem_code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.problem_code = problem_code


__all__ = [
    "BinStillOpen",
    "CounterLocked",
    "CountingError",
    "DecoderCrashed",
    "DecoderUnavailable",
    "HandheldError",
    "MalformedBarcode",
    "NoBinOpen",
    "NoCountOpen",
    "NotAllowed",
    "ProtocolVersionUnsupported",
    "ScanError",
    "ServerRefused",
    "SignInError",
    "SignInRefused",
    "StoreError",
    "StoreExists",
    "StoreMissing",
    "StoreTooNew",
    "SyncError",
    "TransportError",
    "UnknownBarcode",
    "UnreadableImage",
]
