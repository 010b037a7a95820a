"""The doctor's HTTP client: one ``GET`` with a timeout, retries with back-off on 5xx, and rate limits honoured.

Built on httpx (a kept client: timeouts, connection pooling, HTTP/1.1 keep-alive). What it adds is the APIs' own rules for
a client that is told to slow down:

* GitHub docs, "Rate limits for the REST API" → "Exceeding the rate limit"
  (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit): a 403 or 429
  answer is a rate limit when ``x-ratelimit-remaining`` is ``0`` (primary) or it carries ``retry-after`` (secondary). "If
  the ``retry-after`` response header is present, you should not retry your request until after that many seconds has
  elapsed. If the ``x-ratelimit-remaining`` header is ``0``, you should not retry your request until after the time, in
  UTC epoch seconds, specified by the ``x-ratelimit-reset`` header. Otherwise, wait for at least one minute before
  retrying. If your request continues to fail due to a secondary rate limit, wait for an exponentially increasing amount
  of time between retries, and throw an error after a specific number of retries."
* DigitalOcean API reference, "Rate Limit" (https://docs.digitalocean.com/reference/api/digitalocean/#section/Introduction/Rate-Limit):
  ``ratelimit-remaining`` and ``ratelimit-reset`` (UTC epoch seconds) on every answer, and 429 ``too_many_requests`` once
  the limit is reached. The same rule applies, under those header names.

A wait longer than :attr:`Client.max_wait` is not waited for: the request ends with :class:`RateLimited` (and the check
reports when the limit lifts), because a doctor run must end in bounded time. Every failure is an exception of this
module whose message holds a status and a reason, never a header value that could be a credential or a response body.
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

USER_AGENT = "secret-chain-doctor"
"""GitHub docs, "Getting started with the REST API" → "User agent": "All API requests must include a valid User-Agent header"."""


class HttpProblem(Exception):
    """A request that gave no usable answer: ``reason`` is short and holds no secret."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unreachable(HttpProblem):
    """No answer: connection refused, a timeout, a TLS failure, or 5xx after every retry."""


@dataclass
class RateLimited(HttpProblem):
    """The API said to wait longer than the client may (``until``: epoch seconds when it may be asked again)."""

    until: float
    reason: str = ""

    def __post_init__(self) -> None:
        HttpProblem.__init__(self, self.reason)


@dataclass(frozen=True)
class Response:
    """What a check reads of an answer: the status, the headers (case-insensitive) and the decoded JSON body (or None)."""

    status: int
    headers: Mapping[str, str]
    body: Any

    def header(self, name: str) -> str | None:
        """A header's value, looked up case-insensitively."""
        wanted = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == wanted), None)


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text.strip())
    except ValueError:
        return None


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds from ``now``: delay-seconds or an HTTP-date (RFC 9110 section 10.2.3)."""
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return max(seconds, 0.0)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - now, 0.0)


def _header(headers: Mapping[str, str], *names: str) -> str | None:
    lowered = {k.lower(): v for k, v in headers.items()}
    return next((lowered[n] for n in names if n in lowered), None)


def rate_limit_wait(status: int, headers: Mapping[str, str], now: float, message: str = "") -> float | None:
    """How long to wait before asking again, when the answer is a rate limit (None: it is not one).

    A 429, or a 403 with ``retry-after``, a remaining count of 0, or an error ``message`` that says it is a rate limit
    (GitHub: "an error message that indicates that you exceeded a secondary rate limit"; module docstring);
    ``retry-after`` first, then the reset time of an exhausted limit, else one minute.
    """
    remaining = _number(_header(headers, "x-ratelimit-remaining", "ratelimit-remaining"))
    retry_after = retry_after_seconds(_header(headers, "retry-after"), now)
    said = "rate limit" in message.lower()
    limited = status == 429 or (status == 403 and (retry_after is not None or remaining == 0 or said))
    if not limited:
        return None
    if retry_after is not None:
        return retry_after
    reset = _number(_header(headers, "x-ratelimit-reset", "ratelimit-reset"))
    if remaining == 0 and reset is not None:
        return max(reset - now, 0.0)
    return 60.0


@dataclass
class Client:
    """GETs against one API, shared by the checks of a run (thread-safe: httpx's client is, and the pause is locked).

    ``timeout`` bounds each attempt (connect, read, write and pool, httpx.Timeout). A 5xx answer or a failed connection
    is retried up to ``retries`` times with exponential back-off (``backoff``, doubled each time; a timeout is not
    retried: it ends the request); a rate limit is waited
    out when it lifts within ``max_wait`` seconds, at most ``retries`` times, and raises :class:`RateLimited` otherwise. An
    exhausted limit (``x-ratelimit-remaining: 0``) seen on any answer pauses the next request until its reset, so the
    checks running beside it do not spend their own requests on refusals.
    """

    base_url: str
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5
    max_wait: float = 30.0
    headers: Mapping[str, str] = field(default_factory=dict)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    transport: httpx.BaseTransport | None = None
    _client: httpx.Client | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _paused_until: float = field(default=0.0, init=False, repr=False)

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(
                    base_url=self.base_url.rstrip("/"),
                    timeout=httpx.Timeout(self.timeout),
                    headers={"User-Agent": USER_AGENT, **self.headers},
                    follow_redirects=False,
                    transport=self.transport,
                )
            return self._client

    def close(self) -> None:
        """Close the connection pool."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _wait_for_pause(self) -> None:
        with self._lock:
            until = self._paused_until
        wait = until - self.clock()
        if wait > 0:
            if wait > self.max_wait:
                raise RateLimited(until, "rate limited: the API's limit is exhausted until its reset")
            self.sleep(wait)

    def _note_limit(self, headers: Mapping[str, str]) -> None:
        remaining = _number(_header(headers, "x-ratelimit-remaining", "ratelimit-remaining"))
        reset = _number(_header(headers, "x-ratelimit-reset", "ratelimit-reset"))
        if remaining == 0 and reset is not None:
            with self._lock:
                self._paused_until = max(self._paused_until, reset)

    def get(self, path: str, *, auth: str | None = None, params: Mapping[str, str] | None = None, accept: str = "application/json") -> Response:
        """``GET path`` (relative to the base URL) with ``Authorization: <auth>``; retried and rate-limited as the class says.

        Returns the answer for any status below 500 that is not a rate limit (the check reads 401, 404 …); raises
        :class:`Unreachable` or :class:`RateLimited`.
        """
        headers = {"Accept": accept}
        if auth is not None:
            headers["Authorization"] = auth
        delay = self.backoff
        limited_waits = 0
        attempt = 0
        last = ""
        while True:
            self._wait_for_pause()
            try:
                answer = self._http().get(path, headers=headers, params=dict(params or {}))
            except httpx.TimeoutException:
                # Not retried: a server that hangs once mostly hangs again, and a doctor run must end in bounded time.
                raise Unreachable(f"no answer within {self.timeout:g} s (timeout)") from None
            except httpx.HTTPError as err:
                # The type only: httpx's message can quote the URL, and a URL is harmless, but an error from a proxy may not be.
                last = f"cannot connect ({type(err).__name__})"
            else:
                if _header(answer.headers, "retry-after") is None:  # retry-after, where given, is the wait (module docstring)
                    self._note_limit(answer.headers)
                body = _json(answer) if answer.status_code == 403 else None
                message = str(body.get("message") or "") if isinstance(body, dict) else ""
                wait = rate_limit_wait(answer.status_code, answer.headers, self.clock(), message)
                if wait is not None:
                    if wait > self.max_wait or limited_waits >= self.retries:
                        raise RateLimited(self.clock() + wait, f"rate limited: HTTP {answer.status_code}, may ask again in {wait:.0f} s")
                    limited_waits += 1
                    self.sleep(wait)
                    continue
                if answer.status_code < 500:
                    return Response(answer.status_code, dict(answer.headers), _json(answer))
                last = f"HTTP {answer.status_code} from the server"
            if attempt >= self.retries:
                raise Unreachable(f"{last}, after {attempt + 1} attempt(s)")
            attempt += 1
            self.sleep(delay)
            delay *= 2


def _json(answer: httpx.Response) -> Any:
    if not answer.content:
        return None
    try:
        return answer.json()
    except ValueError:
        return None


_clients: dict[tuple[str, float, tuple[tuple[str, str], ...]], Client] = {}
_clients_lock = threading.Lock()


def client(base_url: str, timeout: float, headers: Mapping[str, str] | None = None) -> Client:
    """The run's shared client for ``base_url`` (made on first use; closed by :func:`close_clients`).

    Shared by every check of a run, so that a rate limit one check meets pauses the others. It waits out a rate limit
    of up to three timeouts.
    """
    key = (base_url.rstrip("/"), timeout, tuple(sorted((headers or {}).items())))
    with _clients_lock:
        found = _clients.get(key)
        if found is None:
            found = _clients[key] = Client(base_url, timeout=timeout, max_wait=3 * timeout, headers=dict(headers or {}))
        return found


def close_clients() -> None:
    """Close every client of the run."""
    with _clients_lock:
        for one in _clients.values():
            one.close()
        _clients.clear()
