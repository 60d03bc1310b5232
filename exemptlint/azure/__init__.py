"""Azure access for ``exemptlint audit``, ``check --online`` and ``catalog update``.

Everything that talks to Azure lives in this package: the endpoint and token (``token``), the
HTTP client with paging, retries, quota and time-outs (``client``), the Resource Graph queries
(``graph``), rows turned into the model objects the loaders make (``convert``), assignment look-ups
with their on-disk cache (``online``) and the catalog refresh (``catalog``). Rules never know
where an exemption came from. ``requests`` is imported only here, and only when a command needs
the network: a plain ``check`` opens no socket.
"""
