"""``exemptlint catalog list`` and ``exemptlint catalog show``: the catalog of built-in initiatives
that the rules use, the packaged one or a catalog file (``--catalog FILE``, config ``catalog:``).

``register`` adds the ``catalog`` command group to the command line and returns its sub-command
parsers, so that other modules can add their own sub-commands to the group; each sub-command
sets ``handler`` (a function of the parsed arguments that returns the exit code).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from exemptlint.catalog import Catalog, Initiative

EXIT_OK = 0
EXIT_ERROR = 2
_STATUS = r"^(?:\[(?:deprecated|preview)\]:\s*)+"

Handler = Callable[[argparse.Namespace], int]


def register(commands: Any) -> Any:
    """Add ``catalog list`` and ``catalog show`` to ``commands`` (the top-level sub-parsers);
    returns the group's sub-parsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--catalog",
        metavar="FILE",
        help="a catalog file to use instead of the one shipped with exemptlint (default: the config's)",
    )
    common.add_argument(
        "--config", metavar="FILE", help="config file (default: .exemptlint.yaml found upwards)"
    )

    group = commands.add_parser("catalog", help="the catalog of built-in initiatives the rules use")
    group.set_defaults(handler=_usage(group))
    sub = group.add_subparsers(dest="catalog_command", metavar="COMMAND")

    listing = sub.add_parser("list", parents=[common], help="list the initiatives of the catalog")
    listing.add_argument("--category", metavar="C", help="only initiatives of this category (any case)")
    listing.add_argument(
        "--honoured", action="store_true", help="only initiatives Defender for Cloud honours exemptions on"
    )
    listing.add_argument(
        "--json", action="store_true", help="print a catalog document (the schema --catalog reads)"
    )
    listing.add_argument(
        "--members", action="store_true", help="with --json: include each initiative's members"
    )
    listing.set_defaults(handler=run_list)

    show = sub.add_parser("show", parents=[common], help="show one initiative and its members")
    show.add_argument(
        "initiative", metavar="NAME|GUID|DISPLAY-NAME", help="the initiative's name, id or display name"
    )
    show.add_argument("--json", action="store_true", help="print the initiative as a catalog entry")
    show.set_defaults(handler=run_show)
    return sub


def run(args: argparse.Namespace) -> int:
    """Run the catalog sub-command ``args`` names."""
    handler: Handler = args.handler
    try:
        return handler(args)
    except BrokenPipeError:
        # The reader stopped early (``| head``): not an error of ours; stop writing quietly.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK


def _usage(parser: argparse.ArgumentParser) -> Handler:
    def usage(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return EXIT_ERROR

    return usage


def version_text(version: str) -> str:
    """What ``exemptlint --version`` prints: the version and where the packaged catalog comes from."""
    from exemptlint.catalog import load_catalog

    return f"exemptlint {version}\ncatalog: {load_catalog().describe_source()}"


class VersionAction(argparse.Action):
    """``--version``, which reads the catalog's header only when it is asked for."""

    def __init__(self, option_strings: Sequence[str], version: str, dest: str = argparse.SUPPRESS, **_: Any):
        help_text = "show the version and the catalog's source, and exit"
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, help=help_text)
        self.version = version

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        sys.stdout.write(version_text(self.version) + "\n")
        parser.exit()


def catalog_path(args: argparse.Namespace) -> str | None:
    """The catalog file ``--catalog`` or the config names (None: the packaged catalog); raises
    ``CatalogFileError`` or ``ConfigError`` with a one-line message."""
    if getattr(args, "catalog", None):
        return str(args.catalog)
    from exemptlint.config import find_config, load_catalog_setting

    config_path = Path(args.config) if getattr(args, "config", None) else find_config(Path.cwd())
    if config_path is None:
        return None
    if not config_path.is_file():
        from exemptlint.config import ConfigError

        raise ConfigError(f"{args.config}:1:1: error: config file not found")
    return load_catalog_setting(config_path)


def _catalog(args: argparse.Namespace) -> Catalog | None:
    """The catalog to show; None after printing the error."""
    from exemptlint.catalog import load_catalog
    from exemptlint.catalog_file import CatalogFileError, load_catalog_file
    from exemptlint.config import ConfigError

    try:
        path = catalog_path(args)
        return load_catalog_file(path) if path is not None else load_catalog()
    except (CatalogFileError, ConfigError) as error:
        print(error, file=sys.stderr)
        return None


def _status(catalog: Catalog, initiative: Initiative) -> str:
    if initiative.deprecated or initiative.display_name.lower().startswith("[deprecated]"):
        return "deprecated"
    if catalog.successor(initiative) is not None:
        return "superseded"
    return "preview" if initiative.preview else "current"


def run_list(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    if catalog is None:
        return EXIT_ERROR
    chosen = [
        initiative
        for initiative in catalog
        if (args.category is None or initiative.category.lower() == args.category.strip().lower())
        and (not args.honoured or initiative.honoured)
    ]
    # By category, then by name without its "[Preview]: " or "[Deprecated]: " (versions together).
    chosen.sort(
        key=lambda i: (i.category.lower(), re.sub(_STATUS, "", i.display_name.lower()), i.name.lower())
    )
    if args.json:
        from exemptlint.catalog_file import catalog_document

        document = catalog_document(catalog, chosen, with_members=args.members)
        print(json.dumps(document, indent=1, ensure_ascii=False))
        return EXIT_OK
    print(f"catalog: {catalog.describe_source()}; {len(chosen)} of {len(catalog)} initiatives")
    rows = [
        (
            initiative.name,
            "yes" if initiative.honoured else "no",
            _status(catalog, initiative),
            initiative.version,
            initiative.category,
            initiative.display_name,
        )
        for initiative in chosen
    ]
    _print_table(("NAME", "HONOURED", "STATUS", "VERSION", "CATEGORY", "DISPLAY NAME"), rows)
    return EXIT_OK


def _print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(row[i])) for row in (header, *rows)) for i in range(len(header) - 1)]
    for row in (header, *rows):
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, str(row[-1])]).rstrip())


def find(catalog: Catalog, wanted: str) -> tuple[Initiative | None, list[Initiative]]:
    """The initiative ``wanted`` names (a name, an id or a display name, any case); else None and
    the initiatives whose display name contains it."""
    found = catalog.lookup(wanted)
    if found is not None:
        return found, []
    key = wanted.strip().lower()
    exact = [i for i in catalog if i.display_name.lower() == key]
    if len(exact) == 1:
        return exact[0], []
    # Words that start as written ("nist" is not found in "Administrators").
    pattern = re.compile(r"(?<!\w)" + re.escape(key)) if key else None
    partial = exact or [i for i in catalog if pattern is not None and pattern.search(i.display_name.lower())]
    if len(partial) == 1:
        return partial[0], []
    return None, sorted(partial, key=lambda i: i.display_name.lower())


def run_show(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    if catalog is None:
        return EXIT_ERROR
    initiative, candidates = find(catalog, args.initiative)
    if initiative is None:
        if candidates:
            listed = "; ".join(f"{i.display_name} ({i.name})" for i in candidates[:10])
            more = f" and {len(candidates) - 10} more" if len(candidates) > 10 else ""
            print(
                f"exemptlint: error: '{args.initiative}' names {len(candidates)} initiatives: {listed}{more}",
                file=sys.stderr,
            )
        else:
            print(f"exemptlint: error: no initiative '{args.initiative}' in the catalog", file=sys.stderr)
        return EXIT_ERROR
    members = catalog.members(initiative)
    if args.json:
        from exemptlint.catalog_file import initiative_entry

        entry = initiative_entry(catalog, initiative)
        for member in entry.get("policyDefinitions", []):
            member["displayName"] = catalog.display_name(member["policyDefinitionId"])
        entry["family"] = [i.name for i in catalog.family(initiative)]
        print(json.dumps(entry, indent=1, ensure_ascii=False))
        return EXIT_OK
    successor = catalog.successor(initiative)
    family = catalog.family(initiative)
    lines = [
        initiative.display_name,
        f"  name:        {initiative.name}",
        f"  id:          {initiative.id}",
        f"  category:    {initiative.category}",
        f"  version:     {initiative.version}",
        f"  clouds:      {', '.join(initiative.clouds) or 'not recorded'}",
        f"  deprecated:  {'yes' if _status(catalog, initiative) == 'deprecated' else 'no'}",
        f"  superseded:  {f'by {successor.display_name} ({successor.name})' if successor else 'no'}",
        "  honoured:    "
        + (
            "yes: Defender for Cloud honours exemptions on it"
            if initiative.honoured
            else "no: Defender for Cloud ignores exemptions on it (EL001)"
        ),
    ]
    if family:
        shown = [
            "this one" if i.name == initiative.name else f"{i.display_name} ({i.name})" for i in family
        ]
        lines.append(f"  versions:    {'; '.join(shown)} (oldest first)")
    lines.append(f"  catalog:     {catalog.describe_source()}")
    print("\n".join(lines))
    print()
    if members is None:
        print("Members: not known to the catalog")
        return EXIT_OK
    print(f"Members ({len(members)}):")
    rows = []
    for member in members:
        definition = member.definition_id or ""
        name = catalog.display_name(definition) if definition else None
        rows.append(("  " + member.reference_id, definition.rsplit("/", 1)[-1], name or ""))
    _print_table(("  REFERENCE ID", "POLICY DEFINITION", "DISPLAY NAME"), rows)
    return EXIT_OK


__all__ = ["VersionAction", "catalog_path", "find", "register", "run", "version_text"]
