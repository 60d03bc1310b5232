"""EL011: a suppression must say why, and name a rule that exists.

The check itself yields nothing: the engine applies suppressions (``metadata.exemptlint.ignore``
and ``exemptlint-disable-next-line`` comments) and reports their problems under this id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from exemptlint.model import Exemption, Level
from exemptlint.rules.api import Rule, RuleContext, Violation


def check(exemption: Exemption, context: RuleContext, options: Any) -> Iterator[Violation]:
    return iter(())


RULE = Rule(
    id="EL011",
    name="unjustified-suppression",
    level=Level.WARNING,
    summary="A suppression gives a reason and names a known rule",
    check=check,
    tags=("maintainability",),
    security_severity=2.0,
)
