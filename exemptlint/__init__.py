"""exemptlint: a linter for Azure Policy exemptions."""

__version__ = "0.1.0"
