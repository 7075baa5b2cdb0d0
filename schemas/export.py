"""JSON Schema for every wire struct, for device apps written in other languages."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import msgspec

import schemas
from schemas import auth, common, counts, journal, masterdata, sync

MODULES: tuple[ModuleType, ...] = (common, masterdata, auth, sync, counts, journal)


def wire_structs() -> list[type[msgspec.Struct]]:
    found: dict[str, type[msgspec.Struct]] = {}
    for module in MODULES:
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, msgspec.Struct)
                and value.__module__ == module.__name__
            ):
                found[name] = value
    return [found[name] for name in sorted(found)]


def export_json_schema(directory: Path) -> list[Path]:
    """Write one `<Struct>.schema.json` per struct plus `stockcount.schema.json` with all.

    Returns the written paths. Each file is a self-contained JSON Schema (2020-12).
    """
    directory.mkdir(parents=True, exist_ok=True)
    structs = wire_structs()
    refs, components = msgspec.json.schema_components(structs, ref_template="#/$defs/{name}")
    written: list[Path] = []
    for struct, ref in zip(structs, refs, strict=True):
        document: dict[str, Any] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"stockcount/v{schemas.PROTOCOL_VERSION}/{struct.__name__}",
            **ref,
            "$defs": components,
        }
        path = directory / f"{struct.__name__}.schema.json"
        path.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
        written.append(path)
    bundle = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"stockcount/v{schemas.PROTOCOL_VERSION}",
        "x-protocol-version": schemas.PROTOCOL_VERSION,
        "$defs": components,
    }
    path = directory / "stockcount.schema.json"
    path.write_text(json.dumps(bundle, indent=2, sort_keys=True) + "\n")
    written.append(path)
    return written
