"""Changing the journal's registry settings one field at a time (seed 004's registry
entries: serialized additions, the wizards' quantity billable; and the accounts that
burden and use tax post to).

`change_settings` applies the fields given to the current settings and leaves the others
as they are; it refuses, naming each field, an empty change, a field that is not a
setting, a value of the wrong kind, and an account that is not in the chart of accounts.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import fields, replace

from server.domain.errors import FieldProblem, ValidationFailed
from server.domain.journal.facts import JournalSettings

FLAGS = frozenset({"serialized_additions_allowed", "wizard_defaults_quantity_billable"})
ACCOUNTS = frozenset({"burden_income_account", "use_tax_liability_account"})
assert {f.name for f in fields(JournalSettings)} == FLAGS | ACCOUNTS


def change_settings(
    current: JournalSettings,
    changes: Mapping[str, object],
    known_accounts: Collection[str],
) -> JournalSettings:
    """`changes`: setting -> new value (a flag's bool; an account's code, None to blank
    it). `known_accounts`: the GL accounts among those named that exist."""
    if not changes:
        raise ValidationFailed(
            "give at least one setting to change",
            [FieldProblem("settings", f"one of {', '.join(sorted(FLAGS | ACCOUNTS))}")],
        )
    problems: list[FieldProblem] = []
    flags: dict[str, bool] = {}
    accounts: dict[str, str | None] = {}
    for name, value in sorted(changes.items()):
        if name in FLAGS:
            if not isinstance(value, bool):
                problems.append(FieldProblem(name, "true or false"))
                continue
            flags[name] = value
        elif name in ACCOUNTS:
            if value is None or value == "":
                accounts[name] = None
            elif not isinstance(value, str):
                problems.append(FieldProblem(name, "a GL account code, or null to blank it"))
            elif value.strip() not in known_accounts:
                problems.append(FieldProblem(name, f"unknown GL account {value.strip()!r}"))
            else:
                accounts[name] = value.strip()
        else:
            problems.append(FieldProblem(name, "not a journal setting"))
    if problems:
        raise ValidationFailed("the journal settings are not valid", problems)
    return replace(
        current,
        serialized_additions_allowed=flags.get(
            "serialized_additions_allowed", current.serialized_additions_allowed
        ),
        wizard_defaults_quantity_billable=flags.get(
            "wizard_defaults_quantity_billable", current.wizard_defaults_quantity_billable
        ),
        burden_income_account=accounts.get("burden_income_account", current.burden_income_account),
        use_tax_liability_account=accounts.get(
            "use_tax_liability_account", current.use_tax_liability_account
        ),
    )
