"""Loaders: turn files into normalized exemptions."""
