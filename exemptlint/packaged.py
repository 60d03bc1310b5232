"""Files packaged with exemptlint (``exemptlint/data/...``), read without importlib.resources."""

from __future__ import annotations

import os


def package_text(*parts: str) -> str:
    """The text of ``exemptlint/<parts>``. Read beside this module when the package is a
    directory, as it is when installed; ``importlib.resources`` (a few ms to import) only for a
    package inside a zip file. Raises FileNotFoundError when there is no such file."""
    here = os.path.dirname(__file__)
    try:
        with open(os.path.join(here, *parts), encoding="utf-8") as stream:
            return stream.read()
    except FileNotFoundError:
        if os.path.isdir(here):
            raise
    from importlib import resources

    return resources.files("exemptlint").joinpath(*parts).read_text(encoding="utf-8")
