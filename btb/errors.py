"""User-facing errors.

Anything raised as `BtbError` is a problem with the user's input or environment: the CLI prints
its message (which must name the bad input and the valid values or the need) and exits with
status 2, without a traceback. Everything else is a bug and keeps its traceback.
"""


class BtbError(Exception):
    """An error the user can fix; its message says how."""


def unknown_name(kind: str, name: str, valid) -> BtbError:
    """The standard 'unknown X' error, listing every valid value so the user can fix the input."""
    return BtbError(f"unknown {kind} {name!r}; valid {kind}s: {', '.join(sorted(valid))}")
