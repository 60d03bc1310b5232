"""Errors from Azure access, each with a one-line message for people (never the token)."""

from __future__ import annotations


class AzureError(Exception):
    """Azure could not be read: ``str()`` is the one-line message."""


class AzureForbidden(AzureError):
    """403: the identity may not read this scope (the other scopes can still be read)."""


class AzureNotFound(AzureError):
    """404: the resource does not exist (an exemption deleted since Resource Graph saw it)."""
