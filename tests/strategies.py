"""Hypothesis strategies shared by the fuzz and property tests."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st


def json_scalars(max_text: int) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=max_text),
    )


def json_values(max_text: int, max_items: int, max_leaves: int) -> st.SearchStrategy[Any]:
    """Any JSON value: scalars, lists and objects nested up to ``max_leaves`` leaves."""
    return st.recursive(
        json_scalars(max_text),
        lambda inner: st.lists(inner, max_size=max_items)
        | st.dictionaries(st.text(max_size=max_text), inner, max_size=max_items),
        max_leaves=max_leaves,
    )


# Exemption property names to put random values under: every known property, one in another case
# (ARM matches names case-insensitively) and one the API does not know.
PROPERTY_NAMES = (
    "policyAssignmentId",
    "exemptionCategory",
    "expiresOn",
    "displayName",
    "description",
    "metadata",
    "policyDefinitionReferenceIds",
    "assignmentScopeValidation",
    "resourceSelectors",
    "ExemptionCategory",
    "other",
)
