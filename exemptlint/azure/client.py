"""The HTTP client for Azure Resource Manager and Resource Graph.

One ``ArmClient`` per run. It sends the token only to the configured endpoint (a ``nextLink`` to
another host is refused, redirects are never followed), times out every request, waits before
Resource Graph's per-user quota runs out (``x-ms-user-quota-remaining`` and
``x-ms-user-quota-resets-after``), honours ``Retry-After`` on 429 and 503 with bounded retries and
exponential backoff, and turns every failure into an ``AzureError`` with a one-line message.
``requests`` is imported when the first client is made, never by a plain ``check``.
"""

from __future__ import annotations

import email.utils
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from exemptlint.azure.errors import AzureError, AzureForbidden, AzureNotFound

if TYPE_CHECKING:
    import requests

RETRY_STATUSES = frozenset({429, 503})
# Stop before the last request of the quota window (Resource Graph allows 15 per 5 seconds).
QUOTA_RESERVE = 1
# The longest chain of nextLinks followed before the paging is judged endless.
MAX_PAGES = 100_000
_SAFE_PATH = "/()-_.~!$&'*+,;=:@"


@dataclass(frozen=True)
class ClientSettings:
    endpoint: str  # normalized: scheme://host[:port]
    timeout: float = 60.0  # seconds for the connection and for each read
    max_retries: int = 4  # further tries after a 429 or 503
    backoff: float = 2.0  # first wait without Retry-After; doubles each time
    max_wait: float = 300.0  # a longer Retry-After (or quota reset) is an error, not a wait


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


def parse_duration(text: str) -> float | None:
    """``hh:mm:ss`` (Resource Graph's quota reset) or plain seconds, as seconds."""
    text = text.strip()
    try:
        if ":" in text:
            pieces = [float(part) for part in text.split(":")]
            seconds = 0.0
            for piece in pieces:
                seconds = seconds * 60 + piece
            return seconds if seconds >= 0 else None
        value = float(text)
        return value if value >= 0 else None
    except ValueError:
        return None


def retry_after(headers: Mapping[str, str], now: Callable[[], float] = time.time) -> float | None:
    """Seconds the server asks to wait: ``Retry-After`` as seconds or an HTTP date."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    seconds = parse_duration(value)
    if seconds is not None and ":" not in value:
        return seconds
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - now())


class ArmClient:
    """GET, POST and paging against one ARM endpoint with one bearer token."""

    def __init__(
        self, settings: ClientSettings, token: str, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        import requests  # noqa: F401  (fails here, not in the middle of a read, when it is missing)

        self.settings = settings
        self._token = token
        self._sleep = sleep
        # One session per thread (--verify reads with several): requests does not promise that a
        # session is safe to share between threads.
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self.requests_sent = 0

    def __repr__(self) -> str:  # the token must not show in a traceback or a log
        return f"ArmClient({self.settings.endpoint!r})"

    def _bearer(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token}"
        return request

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            import requests

            session = requests.Session()
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()

    def url(self, path: str) -> str:
        """The endpoint's URL for a resource path (``/subscriptions/...``)."""
        if not path.startswith("/"):
            path = "/" + path
        return self.settings.endpoint + quote(path, safe=_SAFE_PATH)

    def get(self, path: str, api_version: str, what: str | None = None) -> dict[str, Any]:
        return self._send("GET", self.url(path), {"api-version": api_version}, None, what or path)

    def post(
        self, path: str, api_version: str, body: dict[str, Any], what: str | None = None
    ) -> dict[str, Any]:
        return self._send("POST", self.url(path), {"api-version": api_version}, body, what or path)

    def get_pages(
        self, path: str, api_version: str, what: str | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """The ``value`` of each page of an ARM list, following ``nextLink`` on the same host."""
        shown = what or path
        url: str | None = self.url(path)
        params: dict[str, str] | None = {"api-version": api_version}
        seen: set[str] = set()
        pages = 0
        while url is not None:
            document = self._send("GET", url, params, None, shown)
            value = document.get("value")
            if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
                raise AzureError(f"Azure returned a malformed list for {shown}: no 'value' array of objects")
            yield value
            link = document.get("nextLink")
            if link in (None, ""):
                return
            if not isinstance(link, str):
                raise AzureError(f"Azure returned a malformed nextLink for {shown}")
            if _origin(link) != _origin(self.settings.endpoint):
                host = urlsplit(link).netloc or link[:80]
                raise AzureError(
                    f"the nextLink for {shown} points at another host ({host}); the token is sent only "
                    f"to {self.settings.endpoint}"
                )
            if link in seen:
                raise AzureError(f"Azure returned the same nextLink twice for {shown} (a page loop)")
            seen.add(link)
            pages += 1
            if pages > MAX_PAGES:
                raise AzureError(f"more than {MAX_PAGES} pages for {shown}")
            url, params = link, None  # the nextLink carries its own query

    def _send(
        self, method: str, url: str, params: dict[str, str] | None, body: dict[str, Any] | None, what: str
    ) -> dict[str, Any]:
        import requests

        if _origin(url) != _origin(self.settings.endpoint):
            raise AzureError(f"refusing to send the token to {urlsplit(url).netloc} for {what}")
        headers = {"Accept": "application/json", "User-Agent": "exemptlint"}
        attempt = 0
        while True:
            try:
                response = self._session().request(
                    method,
                    url,
                    params=params,
                    json=body,
                    headers=headers,
                    # As auth, not a header: with no auth given, requests would take a .netrc
                    # password for the host and replace the header with it.
                    auth=self._bearer,
                    timeout=(self.settings.timeout, self.settings.timeout),
                    allow_redirects=False,
                )
                with self._lock:
                    self.requests_sent += 1
                status = response.status_code
                text = response.text
            except requests.Timeout:
                raise AzureError(
                    f"no answer from {self.settings.endpoint} within {self.settings.timeout:g} s for {what}"
                ) from None
            except requests.RequestException as error:
                raise AzureError(
                    f"cannot reach {self.settings.endpoint} for {what}: {_reason(error)}"
                ) from None
            if status in RETRY_STATUSES and attempt < self.settings.max_retries:
                wait = retry_after(response.headers)
                if wait is None:
                    wait = self.settings.backoff * (2**attempt)
                if wait > self.settings.max_wait:
                    raise AzureError(
                        f"Azure answered {status} for {what} and asks to wait {wait:.0f} s; try again later"
                    )
                attempt += 1
                self._sleep(wait)
                continue
            if status in RETRY_STATUSES:
                raise AzureError(
                    f"Azure still answered {status} for {what} after {attempt + 1} tries; try again later"
                )
            self._respect_quota(response.headers, what)
            if 300 <= status < 400:
                location = urlsplit(response.headers.get("Location", "")).netloc or "elsewhere"
                raise AzureError(f"Azure redirected {what} to {location}; redirects are not followed")
            if status >= 400:
                raise _status_error(status, text, what, self.settings.endpoint)
            try:
                document = json.loads(text)
            except ValueError:
                raise AzureError(f"Azure returned a malformed body for {what} (not JSON)") from None
            if not isinstance(document, dict):
                raise AzureError(f"Azure returned a malformed body for {what} (not a JSON object)")
            return document

    def _respect_quota(self, headers: Mapping[str, str], what: str) -> None:
        remaining_text = headers.get("x-ms-user-quota-remaining")
        if remaining_text is None:
            return
        try:
            remaining = int(remaining_text)
        except ValueError:
            return
        if remaining > QUOTA_RESERVE:
            return
        wait = parse_duration(headers.get("x-ms-user-quota-resets-after", "")) or self.settings.backoff
        if wait > self.settings.max_wait:
            raise AzureError(
                f"the Resource Graph quota resets only in {wait:.0f} s ({what}); try again later"
            )
        self._sleep(wait)


def _reason(error: Exception) -> str:
    """A short reason for a connection failure (the exception text may be long and nested)."""
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    for marker in ("Connection refused", "Name or service not known", "certificate verify failed"):
        if marker in text:
            return marker
    return text[:200]


def _error_detail(text: str) -> str:
    try:
        document = json.loads(text)
    except ValueError:
        return ""
    error = document.get("error") if isinstance(document, dict) else None
    if not isinstance(error, dict):
        return ""
    code, message = error.get("code"), error.get("message")
    detail = ": ".join(str(part) for part in (code, message) if part)
    return " ".join(detail.split())[:300]


def _status_error(status: int, text: str, what: str, endpoint: str) -> AzureError:
    detail = _error_detail(text)
    suffix = f" ({detail})" if detail else ""
    if status == 401:
        return AzureError(
            f"Azure answered 401 Unauthorized for {what}{suffix}: the token is missing, expired or for "
            f"another cloud; get one with 'az account get-access-token --resource {endpoint}'"
        )
    if status == 403:
        return AzureForbidden(
            f"Azure answered 403 Forbidden for {what}{suffix}: the identity needs Reader on this scope"
        )
    if status == 404:
        return AzureNotFound(f"Azure answered 404 Not Found for {what}{suffix}")
    return AzureError(f"Azure answered {status} for {what}{suffix}")
