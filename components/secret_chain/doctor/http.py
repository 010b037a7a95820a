"""The doctor's HTTP client: one ``GET`` with a timeout, retries with back-off on 5xx, and rate limits honoured.

Built on httpx2 (a kept client: timeouts, connection pooling, HTTP/1.1 keep-alive), the maintained continuation of httpx
with the same API (pydantic/httpx2; its ``Client``, ``Timeout``, ``TimeoutException``, ``HTTPError`` and ``BaseTransport``
are httpx's), and the client lightkube 1.0 reads the cluster with: the package carries one HTTP stack. Its TLS trusts the
system's certificate store (truststore), not certifi's bundle. What it adds is the APIs' own rules for a client that is
told to slow down:

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

import datetime
import email.utils
import hashlib
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx2

USER_AGENT = "secret-chain-doctor"
"""GitHub docs, "Getting started with the REST API" → "User agent": "All API requests must include a valid User-Agent header"."""


class HttpProblem(Exception):
    """A request that gave no usable answer: ``reason`` is short and holds no secret."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unreachable(HttpProblem):
    """No answer: connection refused, a timeout, a TLS failure, or 5xx after every retry."""


class Misbehaving(Unreachable):
    """An answer the API's description does not allow: larger than :data:`MAX_BODY_BYTES`, or JSON nested too deep to read."""


MAX_BODY_BYTES = 16 * 1024 * 1024
"""The largest answer body read (16 MiB): anything longer is reported as "answer too large", not read on.

The doctor's largest answers are lists: a GitHub listing page holds at most 100 names (``per_page`` maximum, GitHub docs
"Using pagination in the REST API"), and a Kubernetes list of one namespace's Secrets holds objects of at most 1 MiB each
("Secrets" → "Restrictions": "Individual Secrets are limited to 1MiB in size",
https://kubernetes.io/docs/concepts/configuration/secret/#restriction-data-size), so 16 MiB is sixteen full-size Secrets
and far above any real answer, while a run still uses little memory when a server sends without end.
"""

MAX_PAGES = 50
"""The most pages one listing follows (``Link: rel="next"`` on GitHub, ``metadata.continue`` on Kubernetes).

50 pages of GitHub's 100 (5,000 Actions secrets or variables of one environment: GitHub allows 100 secrets per
environment, docs "Using secrets in GitHub Actions" → "Limits for secrets") and 50 chunks of a Kubernetes list are far
beyond a real answer; a server that keeps saying "next" past them is misbehaving, and the listing stops with a WARN.
"""

MAX_RETRY_AFTER = 366 * 24 * 3600.0
"""The longest wait a ``Retry-After`` or reset header is believed to ask (a year): a longer one is the API misbehaving."""


class PagesCapped(Misbehaving):
    """A listing that still said "next" after :data:`MAX_PAGES` pages."""


class DeadlineExceeded(httpx2.TimeoutException):
    """A response whose body was still arriving when its request's total time (the ``--timeout``) was spent."""


class AnswerTooLarge(httpx2.TransportError):
    """A response whose body is longer than :data:`MAX_BODY_BYTES`."""


class _BoundedStream(httpx2.SyncByteStream):
    """A response body read chunk by chunk, stopped once past the deadline or past ``max_bytes``."""

    def __init__(self, inner: httpx2.SyncByteStream, deadline: float, max_bytes: int, clock: Callable[[], float]) -> None:
        self._inner = inner
        self._deadline = deadline
        self._max_bytes = max_bytes
        self._clock = clock

    def __iter__(self) -> Iterator[bytes]:
        seen = 0
        for chunk in self._inner:
            seen += len(chunk)
            if seen > self._max_bytes:
                raise AnswerTooLarge(f"answer too large: more than {self._max_bytes // (1024 * 1024)} MiB")
            if self._clock() > self._deadline:
                raise DeadlineExceeded("the answer was still arriving when the timeout was spent")
            yield chunk

    def close(self) -> None:
        self._inner.close()


@dataclass
class Bounds:
    """A total time and a size bound on every request of an ``httpx2.Client`` (:meth:`install` adds them as event hooks).

    httpx2's ``Timeout`` bounds each socket operation, not a request (httpx docs, "Timeouts": the read timeout is "the
    maximum duration to wait for a chunk of data to be received"), so a server sending one byte per second never trips
    it. Here the body is read chunk by chunk (the response hook runs before the client reads it: httpx2
    ``_client.py`` ``_send_handling_redirects``) and the request fails with :class:`DeadlineExceeded` once ``total``
    seconds have passed since it was sent, or with :class:`AnswerTooLarge` past ``max_bytes``. The wait for a chunk is
    itself bounded by the client's ``Timeout``, so a request ends within ``total`` plus one read timeout.
    """

    total: float
    max_bytes: int = MAX_BODY_BYTES
    clock: Callable[[], float] = time.monotonic

    def on_request(self, request: httpx2.Request) -> None:
        """Stamp the time the request is sent."""
        request.extensions["secret_chain_sent"] = self.clock()

    def on_response(self, response: httpx2.Response) -> None:
        """Bound the body about to be read: a declared length too large fails at once, the rest as it arrives."""
        length = _number(response.headers.get("content-length"))
        if length is not None and length > self.max_bytes:
            raise AnswerTooLarge(f"answer too large: {length:.0f} bytes, more than {self.max_bytes // (1024 * 1024)} MiB")
        sent = response.request.extensions.get("secret_chain_sent")
        start = sent if isinstance(sent, float) else self.clock()
        if isinstance(response.stream, httpx2.SyncByteStream):
            response.stream = _BoundedStream(response.stream, start + self.total, self.max_bytes, self.clock)

    def install(self, client: httpx2.Client) -> None:
        """Add the bounds to ``client``'s event hooks, and ask for uncompressed answers (so the size bound is the size read)."""
        hooks = client.event_hooks
        client.event_hooks = {
            "request": [*hooks.get("request", []), self.on_request],
            "response": [*hooks.get("response", []), self.on_response],
        }
        client.headers["Accept-Encoding"] = "identity"


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
        number = float(text.strip())
    except ValueError:
        return None
    # nan, inf and 1e400 (which float() reads as inf) are no count of seconds: as if the header were absent.
    return number if math.isfinite(number) else None


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds from ``now``: delay-seconds or an HTTP-date (RFC 9110 section 10.2.3)."""
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return min(max(seconds, 0.0), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return min(max(when.timestamp() - now, 0.0), MAX_RETRY_AFTER)


def lifts_at(until: float) -> str:
    """Epoch seconds as an ISO 8601 UTC date-time (``2026-12-07T10:59:06Z``): when a rate limit lifts, day included."""
    try:
        when = datetime.datetime.fromtimestamp(until, datetime.UTC)
    except (OverflowError, OSError, ValueError):
        return "an unknown time (the API named no usable time)"
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


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
        return min(max(reset - now, 0.0), MAX_RETRY_AFTER)
    return 60.0


@dataclass
class Client:
    """GETs against one API, shared by the checks of a run (thread-safe: httpx2's client is, and the pause is locked).

    ``timeout`` bounds each attempt as a whole (each socket operation with httpx2.Timeout, and the attempt from sending to
    the body's last byte with :class:`Bounds`; bodies past :data:`MAX_BODY_BYTES` are not read). A 5xx answer or a
    failed connection is retried up to ``retries`` times with exponential back-off (``backoff``, doubled each time; a
    timeout is not retried: it ends the request); rate limits are waited out while the waits of one request add up to at
    most ``max_wait`` seconds (at most ``retries`` of them), and raise :class:`RateLimited` otherwise, so one request
    takes at most ``(retries + 1) × timeout + max_wait`` plus the back-off. An exhausted limit
    (``x-ratelimit-remaining: 0``) seen on an answer pauses the next requests made with the same credential until its
    reset: GitHub's primary limits are per user, App or installation ("Rate limits for the REST API" → "Primary rate
    limit for authenticated users" / "… for GitHub App installations",
    https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#primary-rate-limit-for-authenticated-users),
    so a request with another credential is not held back.
    """

    base_url: str
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5
    max_wait: float = 30.0
    headers: Mapping[str, str] = field(default_factory=dict)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    transport: httpx2.BaseTransport | None = None
    _client: httpx2.Client | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _paused_until: dict[str, float] = field(default_factory=dict, init=False, repr=False)

    def _http(self) -> httpx2.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx2.Client(
                    base_url=self.base_url.rstrip("/"),
                    timeout=httpx2.Timeout(self.timeout),
                    headers={"User-Agent": USER_AGENT, **self.headers},
                    follow_redirects=False,
                    transport=self.transport,
                )
                Bounds(self.timeout).install(self._client)
            return self._client

    def close(self) -> None:
        """Close the connection pool."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _wait_for_pause(self, credential: str, budget: float) -> float:
        """Wait out the pause of ``credential`` when it lifts within ``budget`` seconds; the seconds waited."""
        with self._lock:
            until = self._paused_until.get(credential, 0.0)
        wait = until - self.clock()
        if wait <= 0:
            return 0.0
        if wait > budget:
            raise RateLimited(until, "rate limited: the API's limit for this credential is exhausted until its reset")
        self.sleep(wait)
        return wait

    def _note_limit(self, credential: str, headers: Mapping[str, str]) -> None:
        remaining = _number(_header(headers, "x-ratelimit-remaining", "ratelimit-remaining"))
        reset = _number(_header(headers, "x-ratelimit-reset", "ratelimit-reset"))
        if remaining == 0 and reset is not None:
            with self._lock:
                reset = min(reset, self.clock() + MAX_RETRY_AFTER)
                self._paused_until[credential] = max(self._paused_until.get(credential, 0.0), reset)

    def get(self, path: str, *, auth: str | None = None, params: Mapping[str, str] | None = None, accept: str = "application/json") -> Response:
        """``GET path`` (relative to the base URL) with ``Authorization: <auth>``; retried and rate-limited as the class says.

        Returns the answer for any status below 500 that is not a rate limit (the check reads 401, 404 …); raises
        :class:`Unreachable` or :class:`RateLimited`.
        """
        headers = {"Accept": accept}
        if auth is not None:
            headers["Authorization"] = auth
        credential = _credential(auth)
        delay = self.backoff
        limited_waits = 0
        waited = 0.0
        attempt = 0
        last = ""
        while True:
            waited += self._wait_for_pause(credential, self.max_wait - waited)
            try:
                answer = self._http().get(path, headers=headers, params=dict(params or {}))
            except httpx2.TimeoutException:
                # Not retried: a server that hangs once mostly hangs again, and a doctor run must end in bounded time.
                raise Unreachable(f"no answer within {self.timeout:g} s (timeout)") from None
            except AnswerTooLarge as err:
                raise Misbehaving(str(err)) from None
            except httpx2.HTTPError as err:
                # The type only: httpx2's message can quote the URL, and a URL is harmless, but an error from a proxy may not be.
                last = f"cannot connect ({type(err).__name__})"
            else:
                if _header(answer.headers, "retry-after") is None:  # retry-after, where given, is the wait (module docstring)
                    self._note_limit(credential, answer.headers)
                body = _json(answer) if answer.status_code == 403 else None
                message = str(body.get("message") or "") if isinstance(body, dict) else ""
                wait = rate_limit_wait(answer.status_code, answer.headers, self.clock(), message)
                if wait is not None:
                    if waited + wait > self.max_wait or limited_waits >= self.retries:
                        raise RateLimited(self.clock() + wait, f"rate limited: HTTP {answer.status_code}, may ask again in {wait:.0f} s")
                    limited_waits += 1
                    waited += wait
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


def _credential(auth: str | None) -> str:
    """The key a rate-limit pause is kept under: a digest of the ``Authorization`` value (never the value itself)."""
    return "" if auth is None else hashlib.sha256(auth.encode()).hexdigest()


def _json(answer: httpx2.Response) -> Any:
    """The answer's JSON body; None when it is not JSON; :class:`Misbehaving` when it is nested too deep to read."""
    if not answer.content:
        return None
    try:
        return answer.json()
    except ValueError:
        return None
    except RecursionError:
        raise Misbehaving("the answer is JSON nested deeper than a reader can follow") from None


_clients: dict[tuple[str, float, tuple[tuple[str, str], ...]], Client] = {}
_clients_lock = threading.Lock()


def client(base_url: str, timeout: float, headers: Mapping[str, str] | None = None) -> Client:
    """The run's shared client for ``base_url`` (made on first use; closed by :func:`close_clients`).

    Shared by every check of a run, so that an exhausted limit one check meets pauses the others' requests made with the
    same credential. The rate-limit waits of one request add up to at most three timeouts.
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
