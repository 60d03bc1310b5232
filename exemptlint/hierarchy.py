"""Whether one scope is at or below another, as far as it is known statically.

Subscriptions, resource groups and resources nest by their ids: ``/subscriptions/a/resourceGroups/g``
is below ``/subscriptions/a`` and not below ``/subscriptions/b``. Where a subscription or a management
group sits among management groups is not in any id. It is known from:

* what the user tells (config ``management-groups``: each management group or subscription mapped
  to its parent management group, ``null`` for a root);
* EPAC's global settings (an environment deployed at the management group named after its tenant
  is deployed at the tenant root group, which has no parent);
* the management groups and subscription placements that the scanned files deploy (ARM, Bicep,
  Terraform: ``exemptlint.model.Placement``). A management group deployed without a parent goes
  under the tenant root group, whose name (the tenant id) the files do not give. Where files
  disagree on a parent, or one does not say it statically, that parent is not known; what the
  config or EPAC says wins over the files.

``contains`` answers False only when the ancestry is known well enough to be sure:

* the chain of parents from the inner scope up reaches a root without meeting the outer management
  group (when it reaches the unnamed tenant root group, only for an outer management group known to
  have a parent: otherwise it may be the tenant root group itself); or
* the outer management group's own chain of parents meets the inner scope's chain at a management
  group other than itself: then it is below a management group that is an ancestor of the inner
  scope, and a tree has no cycles, so it cannot also be above the inner scope.

Otherwise it answers None (not known): never a guess.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise

from exemptlint.model import Placement, ScopeLevel
from exemptlint.scope import scope_level

_MG_PREFIX = "/providers/microsoft.management/managementgroups/"
_SUBSCRIPTION_PREFIX = "/subscriptions/"
# A node of the hierarchy: ("mg", name) or ("sub", id), lower-cased; ("any", x) when the config
# names it without saying which (a bare name or GUID).
Node = tuple[str, str]
# The tenant root group when its name is not known: the parent of a management group that a file
# deploys without one.
TENANT_ROOT: Node = ("root", "")
CONFIG_ORIGIN = "config 'management-groups'"
EPAC_ORIGIN = "EPAC global settings"


@dataclass(frozen=True)
class Hierarchy:
    """Parents of management groups and subscriptions: node -> parent node, or None for a root."""

    parents: Mapping[Node, Node | None]
    # Where each entry of ``parents`` was declared ("config 'management-groups'", "mgs.bicep:12").
    origins: Mapping[Node, str] = field(default_factory=dict)

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
        return cls(found, dict.fromkeys(found, CONFIG_ORIGIN))

    def with_roots(self, roots: frozenset[str]) -> Hierarchy:
        """These parents, and the management groups ``roots`` as roots unless they have a parent."""
        if not roots:
            return self
        found = dict(self.parents)
        origins = dict(self.origins)
        for root in roots:
            if ("mg", root.lower()) not in found and ("any", root.lower()) not in found:
                found[("mg", root.lower())] = None
                origins[("mg", root.lower())] = EPAC_ORIGIN
        return Hierarchy(found, origins)

    def with_placements(self, placements: Iterable[Placement]) -> Hierarchy:
        """These parents, and those that the scanned files' ``placements`` give for management
        groups and subscriptions these do not place. A child that files place under different
        parents, or under one not known statically, stays not known."""
        placed: dict[Node, tuple[Node, str]] = {}
        unsure: set[Node] = set()
        for placement in placements:
            child = _placed(placement.child)
            if child is None:
                continue
            parent: Node | None
            if placement.parent is None:
                parent = TENANT_ROOT if child[0] == "mg" else None
            else:
                parent = _placed(placement.parent, parent=True)
            if parent is None or parent == child:
                unsure.add(child)
                continue
            if child in placed and placed[child][0] != parent:
                unsure.add(child)
                continue
            at = placement.source.locator.exemption()
            placed.setdefault(child, (parent, f"{placement.source.file}:{at.line}"))
        if not placed:
            return self
        found = dict(self.parents)
        origins = dict(self.origins)
        for child, (parent, origin) in placed.items():
            if child in unsure or child in found or ("any", child[1]) in found:
                continue  # not known, or the config or EPAC says where it is
            found[child] = parent
            origins[child] = origin
        return Hierarchy(found, origins)

    def _parent(self, node: Node) -> tuple[bool, Node | None]:
        """(known, parent): whether the parent of ``node`` is known, and it (None for a root)."""
        if node == TENANT_ROOT:
            return True, None
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
            if chain[-1] == TENANT_ROOT and not self._has_parent(outer):
                return None  # it may be the tenant root group itself, whose name is not known
            return False
        on_chain = set(chain)
        for ancestor in self._chain(outer)[0][1:]:
            if ancestor in on_chain:
                return False  # below an ancestor of node, beside node's own line
        return None

    def _has_parent(self, node: Node) -> bool:
        known, parent = self._parent(node)
        return known and parent is not None

    def ancestors(self, node: Node) -> list[Node]:
        """``node`` and the management groups known to be above it, nearest first."""
        return self._chain(node)[0]

    def described(self, node: Node, told: Collection[Node] = ()) -> str:
        """Where ``node`` sits as far as known, and who says so: "'a' is in 'b' (mgs.bicep:3),
        'b' in the tenant root group (mgs.bicep:9)"; empty when nothing is known. It stops at a
        management group in ``told`` (one whose place was described already)."""
        chain, complete = self._chain(node)
        for at, ancestor in enumerate(chain[1:], start=1):
            if ancestor in told:
                chain, complete = chain[: at + 1], False
                break
        steps: list[str] = []
        for child, parent in pairwise(chain):
            where = "the tenant root group" if parent == TENANT_ROOT else f"'{parent[1]}'"
            if steps:
                steps.append(f"'{child[1]}' in {where} ({self._origin(child)})")
            else:
                steps.append(f"{_kind(child)} '{child[1]}' is in {where} ({self._origin(child)})")
        if complete and chain[-1] != TENANT_ROOT:
            last = chain[-1]
            if steps:
                steps.append(f"'{last[1]}' a root ({self._origin(last)})")
            else:
                steps.append(f"{_kind(last)} '{last[1]}' is a root ({self._origin(last)})")
        return ", ".join(steps)

    def _origin(self, node: Node) -> str:
        for candidate in (node, ("any", node[1])):
            if candidate in self.origins:
                return self.origins[candidate]
        return "not recorded"


def _kind(node: Node) -> str:
    return "subscription" if node[0] == "sub" else "management group"


def _placed(value: object, parent: bool = False) -> Node | None:
    """The node a placement names: a management group or subscription id (a parent: a management
    group id or name); None when it is not known statically or names something else."""
    if not isinstance(value, str):
        return None
    if not value.strip().startswith("/"):
        if not parent:
            return None
        node = _node(value, parent=True)
    else:
        node = _node(value, parent=parent)
    return None if node is None or node[0] == "any" else node


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
    node = node_of(inner)
    if node is None:
        return None  # a resource outside any subscription (tenant-level or below a management group)
    return hierarchy.is_below(outer_key[len(_MG_PREFIX) :], node)


def node_of(scope: str) -> Node | None:
    """The management group or subscription that holds ``scope`` as the hierarchy names it; None
    for the tenant and for what no subscription or management group holds by its id."""
    key = _key(scope)
    level = scope_level(scope)
    if level == ScopeLevel.MANAGEMENT_GROUP and key.startswith(_MG_PREFIX):
        return ("mg", key[len(_MG_PREFIX) :].split("/")[0])
    if level != ScopeLevel.UNKNOWN and key.startswith(_SUBSCRIPTION_PREFIX):
        return ("sub", key[len(_SUBSCRIPTION_PREFIX) :].split("/")[0])
    return None


__all__ = ["TENANT_ROOT", "Hierarchy", "contains", "node_of"]
