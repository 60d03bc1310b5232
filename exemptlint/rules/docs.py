"""Each built-in rule's documentation page (``docs/rules/ID.md``), packaged with exemptlint as
``exemptlint/data/rules/ID.md`` (``scripts/sync_rule_docs.py`` copies them; a test keeps the two
identical), for SARIF's ``rules[].help`` and ``exemptlint rule ID``."""

from __future__ import annotations

import functools
import re

from exemptlint.rules.api import DOCS_BASE, Rule

# [label](target) with a relative target (no scheme, no anchor-only, no absolute path).
_RELATIVE_LINK = re.compile(r"\]\((?![a-zA-Z][a-zA-Z0-9+.-]*:|#|/)([^)\s]+)\)")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_EMPHASIS = re.compile(r"\*\*(.+?)\*\*")


def rule_page(rule: Rule) -> str | None:
    """The rule's documentation page as Markdown, links made absolute; None for rules without one
    (rules from plugins and rule packs document themselves with ``Rule.help``)."""
    if rule.origin != "built-in":
        return None
    return _page(rule.id)


@functools.lru_cache(maxsize=32)
def _page(rule_id: str) -> str | None:
    from exemptlint.packaged import package_text

    if not re.fullmatch(r"[A-Za-z0-9_-]+", rule_id):
        return None
    try:
        text = package_text("data", "rules", f"{rule_id}.md")
    except (FileNotFoundError, NotADirectoryError, UnicodeDecodeError):
        return None
    return absolute_links(text.strip(), DOCS_BASE + "/")


def absolute_links(markdown: str, base: str) -> str:
    """Relative link targets resolved against ``base`` (a page shown elsewhere than its folder:
    code scanning, a terminal)."""
    import posixpath

    def resolve(match: re.Match[str]) -> str:
        target = match.group(1)
        scheme, _, rest = base.partition("://")
        host, _, path = rest.partition("/")
        joined = posixpath.normpath(posixpath.join("/" + path, target))
        if target.endswith("/"):
            joined += "/"
        return f"]({scheme}://{host}{joined})"

    return _RELATIVE_LINK.sub(resolve, markdown)


def plain_text(markdown: str) -> str:
    """The page as plain text: links as ``label (target)``, no bold markers; code stays as is."""
    return _EMPHASIS.sub(r"\1", _LINK.sub(r"\1 (\2)", markdown))
