"""Whether one scope is at or below another, as far as it is known statically.

Subscriptions, resource groups and resources nest by their ids: ``/subscriptions/a/resourceGroups/g``
is below ``/subscriptions/a`` and not below ``/subscriptions/b``. Where a subscription or a management
group sits among management groups is not in any id: it is known only from what the user tells
(config ``management-groups``: each management group or subscription mapped to its parent management
group, ``null`` for a root) and from EPAC's global settings (an environment deployed at the
management group named after its tenant is deployed at the tenant root group, which has no parent).

``contains`` answers False only when the ancestry is known well enough to be sure:

* the chain of parents from the inner scope up reaches a declared root without meeting the outer
  management group; or
* the outer management group's own chain of parents meets the inner scope's chain at a management
  group other than itself: then it is below a management group that is an ancestor of the inner
  scope, and a tree has no cycles, so it cannot also be above the inner scope.

Otherwise it answers None (not known): never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from exemptlint.model import ScopeLevel
from exemptlint.scope import scope_level

_MG_PREFIX = "/providers/microsoft.management/managementgroups/"
_SUBSCRIPTION_PREFIX = "/subscriptions/"
# A node of the hierarchy: ("mg", name) or ("sub", id), lower-cased; ("any", x) when the config
# names it without saying which (a bare name or GUID).
Node = tuple[str, str]


@dataclass(frozen=True)
class Hierarchy:
    """Parents of management groups and subscriptions: node -> parent node, or None for a root."""

    parents: Mapping[Node, Node | None]

    @classmethod
    def empty(cls) -> Hierarchy:
        return cls({})

    @classmethod
    def of(cls, parents: Mapping[str, str | None], roots: frozenset[str] = frozenset()) -> Hierarchy:
        """From the config map (keys: management group names or ids, subscription GUIDs or ids;
        values: parent management group names or ids, None for a root) and management groups known
        to be tenant roots."""
        found: dict[Node, Node | None] = {("mg", root.lower()): None for root in roots}
        for child, parent in parents.items():
            node = _node(child)
            if node is None:
                continue
            if parent is None or not parent.strip() or parent.strip() == "/":
                found[node] = None
                continue
            parent_node = _node(parent, parent=True)
            if parent_node is not None:
                found[node] = parent_node
        return cls(found)

    def with_roots(self, roots: frozenset[str]) -> Hierarchy:
        """These parents, and the management groups ``roots`` as roots unless they have a parent."""
        if not roots:
            return self
        found = dict(self.parents)
        for root in roots:
            if ("mg", root.lower()) not in found and ("any", root.lower()) not in found:
                found[("mg", root.lower())] = None
        return Hierarchy(found)

    def _parent(self, node: Node) -> tuple[bool, Node | None]:
        """(known, parent): whether the parent of ``node`` is known, and it (None for a root)."""
        for candidate in (node, ("any", node[1])):
            if candidate in self.parents:
                parent = self.parents[candidate]
                if parent is not None and parent[0] == "any":
                    parent = ("mg", parent[1])  # a parent is always a management group
                return True, parent
        return False, None

    def _chain(self, node: Node) -> tuple[list[Node], bool]:
        """``node`` and its known ancestors, nearest first; and whether the chain reaches a root."""
        chain = [node]
        seen = {node}
        while True:
            known, parent = self._parent(chain[-1])
            if not known:
                return chain, False
            if parent is None:
                return chain, True
            if parent in seen:  # a cycle in the config: nothing certain
                return chain, False
            chain.append(parent)
            seen.add(parent)

    def is_below(self, management_group: str, node: Node) -> bool | None:
        """Whether ``node`` is (at or) below the management group: True, False, or None (not known)."""
        outer: Node = ("mg", management_group.lower())
        if node == outer:
            return True
        chain, complete = self._chain(node)
        if outer in chain:
            return True
        if complete:
            return False
        on_chain = set(chain)
        for ancestor in self._chain(outer)[0][1:]:
            if ancestor in on_chain:
                return False  # below an ancestor of node, beside node's own line
        return None


def _node(text: str, parent: bool = False) -> Node | None:
    value = text.strip().rstrip("/")
    lowered = value.lower()
    if lowered.startswith(_MG_PREFIX):
        name = value[len(_MG_PREFIX) :]
        return ("mg", name.lower()) if name and "/" not in name else None
    if lowered.startswith(_SUBSCRIPTION_PREFIX):
        if parent:
            return None
        name = value[len(_SUBSCRIPTION_PREFIX) :]
        return ("sub", name.lower()) if name and "/" not in name else None
    if not value or "/" in value:
        return None
    return ("mg", lowered) if parent else ("any", lowered)


def _key(scope: str) -> str:
    return "/" + scope.strip().strip("/").lower()


def contains(outer: str, inner: str, hierarchy: Hierarchy) -> bool | None:
    """Whether scope ``inner`` is at or below scope ``outer`` (both resource ids, "/" for the
    tenant): True, False, or None when it is not known statically."""
    outer_level, inner_level = scope_level(outer), scope_level(inner)
    if ScopeLevel.UNKNOWN in (outer_level, inner_level):
        return None
    if outer_level == ScopeLevel.TENANT:
        return True
    outer_key, inner_key = _key(outer), _key(inner)
    if inner_key == outer_key or inner_key.startswith(outer_key + "/"):
        return True
    if inner_level == ScopeLevel.TENANT:
        return False
    if outer_level != ScopeLevel.MANAGEMENT_GROUP:
        # A subscription, resource group or resource holds exactly what its id prefixes; a tenant-
        # level resource (/providers/Namespace/type/name) is below no subscription.
        nested = inner_key.startswith(_SUBSCRIPTION_PREFIX) or inner_key.startswith(_MG_PREFIX)
        return False if nested else None
    management_group = outer_key[len(_MG_PREFIX) :]
    if inner_level == ScopeLevel.MANAGEMENT_GROUP:
        return hierarchy.is_below(management_group, ("mg", inner_key[len(_MG_PREFIX) :].split("/")[0]))
    if inner_key.startswith(_SUBSCRIPTION_PREFIX):
        subscription = inner_key[len(_SUBSCRIPTION_PREFIX) :].split("/")[0]
        return hierarchy.is_below(management_group, ("sub", subscription))
    return None  # a resource outside any subscription (tenant-level or below a management group)


__all__ = ["Hierarchy", "contains"]
