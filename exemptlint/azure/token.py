"""The Azure Resource Manager endpoint and the access token sent to it.

The token comes from ``AZURE_ACCESS_TOKEN``, else from ``az account get-access-token --resource
{endpoint}`` when the Azure CLI is installed. It is sent only to the endpoint (see ``client``) and
never printed: messages here quote neither the token nor the CLI's output, only its first error
line.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from exemptlint.azure.errors import AzureError

PUBLIC_ENDPOINT = "https://management.azure.com"
# The sovereign clouds' Resource Manager endpoints (``az cloud show --query endpoints.resourceManager``).
CLOUD_ENDPOINTS = {
    "AzureCloud": PUBLIC_ENDPOINT,
    "AzureUSGovernment": "https://management.usgovcloudapi.net",
    "AzureChinaCloud": "https://management.chinacloudapi.cn",
}
# The portal that shows a resource of each cloud (links in the reports).
_PORTALS = {
    "management.usgovcloudapi.net": "https://portal.azure.us",
    "management.chinacloudapi.cn": "https://portal.azure.cn",
}
PUBLIC_PORTAL = "https://portal.azure.com"
TOKEN_VARIABLE = "AZURE_ACCESS_TOKEN"
AZ_TIMEOUT = 120.0


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def normalize_endpoint(text: str) -> str:
    """``scheme://host[:port]`` of an ARM endpoint; AzureError when it is not one.

    Plain http is allowed only for loopback hosts (tests and local proxies): anywhere else the
    token would cross the network in clear text."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        raise AzureError(f"--arm-endpoint {text!r} is not a URL") from None
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise AzureError(f"--arm-endpoint {text!r} is not an https:// URL")
    if parts.scheme == "http" and not is_loopback(host):
        raise AzureError(
            f"--arm-endpoint {text!r} uses plain http; only https is allowed (http only for 127.0.0.1)"
        )
    if parts.username or parts.password or parts.query or parts.fragment or parts.path.strip("/"):
        raise AzureError(f"--arm-endpoint {text!r} must be only scheme and host, e.g. {PUBLIC_ENDPOINT}")
    shown_host = f"[{host}]" if ":" in host else host
    return f"{parts.scheme}://{shown_host}" + (f":{port}" if port is not None else "")


def portal_for(endpoint: str) -> str:
    host = urlsplit(endpoint).hostname or ""
    return _PORTALS.get(host.lower(), PUBLIC_PORTAL)


def _no_token_message(endpoint: str) -> str:
    return (
        f"no Azure access token: set {TOKEN_VARIABLE} (e.g. export {TOKEN_VARIABLE}=$(az account "
        f"get-access-token --resource {endpoint} --query accessToken -o tsv)) or install the Azure CLI "
        "and run 'az login'"
    )


def get_token(
    endpoint: str,
    environ: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
    run: Callable[..., Any] = subprocess.run,
) -> str:
    """A bearer token for ``endpoint``; AzureError (saying how to get one) when there is none."""
    env = os.environ if environ is None else environ
    token = env.get(TOKEN_VARIABLE, "").strip()
    if token:
        return token
    az = which("az")
    if az is None:
        raise AzureError(_no_token_message(endpoint))
    command = [az, "account", "get-access-token", "--resource", endpoint, "--output", "json"]
    try:
        completed = run(command, capture_output=True, text=True, timeout=AZ_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError) as error:
        raise AzureError(f"'az account get-access-token' could not run: {type(error).__name__}") from None
    if completed.returncode != 0:
        first = next((line.strip() for line in (completed.stderr or "").splitlines() if line.strip()), "")
        # The CLI's own message ("Please run 'az login'...") says what to do; it holds no token.
        raise AzureError(
            f"'az account get-access-token --resource {endpoint}' failed"
            + (f": {first[:300]}" if first else f" (exit code {completed.returncode})")
        )
    try:
        document = json.loads(completed.stdout)
        token = str(document["accessToken"]).strip()
    except (ValueError, KeyError, TypeError):
        raise AzureError("'az account get-access-token' printed no accessToken") from None
    if not token:
        raise AzureError(_no_token_message(endpoint))
    return token
