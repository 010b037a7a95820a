"""The doctor's runner and HTTP client (issue 22): bounded concurrency, contained failures, rate limits, the report, laziness."""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from secret_chain.doctor import http, links, runner
from secret_chain.doctor.model import Context, Finding, Status
from tests.doctor_apis import GitHubApi

ROOT = Path(__file__).resolve().parent.parent
CANARY = "ghp_CANARYdoctorRUNNER0123456789abcdefXYZ"


def context(**config: str) -> Context:
    return Context(stack="production", kind="production", config=config, now=datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC))


# --- the runner ---------------------------------------------------------------------------------------------------------


def test_a_check_that_raises_is_one_fail_that_never_quotes_its_message() -> None:
    def check_boom(ctx: Context) -> list[Finding]:
        raise ValueError(f"token {ctx.config['ghcr']} refused")

    def check_fine(ctx: Context) -> list[Finding]:
        return [Finding("test.fine", Status.OK, "fine")]

    findings = runner.run(context(ghcr=CANARY), [check_boom, check_fine])
    assert links.row_of(findings[0].link) is links.BY_ID["doctor.<check>"]
    assert [(f.link, f.status) for f in findings] == [("doctor.boom", Status.FAIL), ("test.fine", Status.OK)]
    assert "ValueError" in findings[0].checked
    text = runner.render_text(context(), findings) + json.dumps(runner.as_json(context(), findings))
    assert CANARY not in text and "refused" not in text


def test_a_check_that_returns_something_else_is_a_fail() -> None:
    (found,) = runner.run(context(), [lambda ctx: None])  # type: ignore[arg-type, return-value]
    assert found.status is Status.FAIL and "returned something other than a list" in found.checked


def test_checks_run_concurrently_within_the_bound() -> None:
    running = peak = 0
    lock = threading.Lock()

    def slow(ctx: Context) -> list[Finding]:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.3)
        with lock:
            running -= 1
        return [Finding("test.slow", Status.OK, "slow")]

    started = time.monotonic()
    findings = runner.run(context(), [slow] * 9, workers=3)
    took = time.monotonic() - started
    assert len(findings) == 9 and peak == 3
    assert took < 9 * 0.3 * 0.6  # concurrent: about 3 rounds of 0.3 s, not 9


def test_progress_is_reported_as_each_check_ends() -> None:
    seen: list[tuple[int, int, str]] = []

    def check_one(ctx: Context) -> list[Finding]:
        return []

    runner.run(context(), [check_one, check_one], progress=lambda done, total, name: seen.append((done, total, name)))
    assert seen == [(1, 2, "one"), (2, 2, "one")]


def test_overall_status_and_exit_codes() -> None:
    ok, warn, fail = (Finding("x", s, "") for s in (Status.OK, Status.WARN, Status.FAIL))
    assert (runner.overall([ok]), runner.exit_code([ok])) == (Status.OK, 0)
    assert (runner.overall([ok, warn]), runner.exit_code([ok, warn])) == (Status.WARN, 1)
    assert (runner.overall([warn, fail, ok]), runner.exit_code([fail])) == (Status.FAIL, 1)
    assert runner.exit_code([]) == 0


def test_the_json_document_gives_expiry_as_iso_8601_utc() -> None:
    when = datetime.datetime(2027, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))
    document = runner.as_json(context(), [Finding("x", Status.WARN, "soon", expires=when, facts={"a": "b"})])
    assert document["findings"][0]["expires"] == "2027-01-02T01:04:05Z"
    assert document == {"stack": "production", "kind": "production", "status": "WARN", "findings": document["findings"]}


def test_the_text_report_escapes_what_an_api_sent() -> None:
    text = runner.render_text(context(), [Finding("github.app/ci", Status.FAIL, "App slug\n  OK   forged\x1b[2J", fix="x")])
    assert "\n  OK   forged" not in text and "\x1b" not in text


# --- the HTTP client ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def api() -> GitHubApi:
    server = GitHubApi()
    server.add_pat("ghp_readerTOKEN0000000000000000000000000", "reader")
    yield server  # type: ignore[misc]
    server.close()
    assert server.violations == []


def test_an_exhausted_limit_pauses_the_later_requests_of_the_same_credential_only(api: GitHubApi) -> None:
    # GitHub docs "Rate limits for the REST API": primary limits are per user / App installation, so another credential
    # (another token, another App's JWT) has a limit of its own and is not held back.
    reset = time.time() + 3600
    api.limit("/user", 403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(reset))})
    client = http.Client(api.url, timeout=2, max_wait=5)
    with pytest.raises(http.RateLimited) as raised:
        client.get("/user", auth="Bearer ghp_readerTOKEN0000000000000000000000000")
    assert raised.value.until == pytest.approx(reset, abs=2)
    with pytest.raises(http.RateLimited):
        client.get("/app", auth="Bearer ghp_readerTOKEN0000000000000000000000000")
    assert [p for p, _ in api.requests] == ["/user"]  # GitHub: do not retry before x-ratelimit-reset
    assert client.get("/app", auth="Bearer x").status == 401  # another credential: asked at once
    assert [p for p, _ in api.requests] == ["/user", "/app"]
    client.close()


def test_a_short_wait_is_waited_out_and_counted(api: GitHubApi) -> None:
    waits: list[float] = []
    api.limit("/user", 429, {"retry-after": "7"}, times=2)
    client = http.Client(api.url, timeout=2, max_wait=30, sleep=waits.append)
    answer = client.get("/user", auth="Bearer ghp_readerTOKEN0000000000000000000000000")
    assert answer.status == 200 and waits == [7.0, 7.0]
    api.limit("/user", 429, {"retry-after": "7"}, times=9)
    with pytest.raises(http.RateLimited):  # and not for ever: at most `retries` waits
        client.get("/user", auth="Bearer ghp_readerTOKEN0000000000000000000000000")
    client.close()


def test_the_waits_of_one_request_add_up_to_at_most_max_wait(api: GitHubApi) -> None:
    # A Retry-After just under max_wait, answered again after each wait, was waited out `retries` times (87 s for one
    # request with --timeout 10); the waits of one request now share the one budget.
    waits: list[float] = []
    api.limit("/user", 429, {"retry-after": "29"}, times=9)
    client = http.Client(api.url, timeout=10, max_wait=30, sleep=waits.append)
    with pytest.raises(http.RateLimited):
        client.get("/user", auth="Bearer ghp_readerTOKEN0000000000000000000000000")
    assert waits == [29.0] and sum(waits) <= client.max_wait
    client.close()


def test_5xx_backs_off_exponentially(api: GitHubApi) -> None:
    waits: list[float] = []
    api.fail("/user", 3, status=500)
    client = http.Client(api.url, timeout=2, backoff=0.5, sleep=waits.append)
    assert client.get("/user", auth="Bearer ghp_readerTOKEN0000000000000000000000000").status == 200
    assert waits == [0.5, 1.0, 2.0]
    client.close()


def test_a_refused_connection_is_unreachable_after_the_retries() -> None:
    waits: list[float] = []
    client = http.Client("http://127.0.0.1:9", timeout=1, retries=2, sleep=waits.append)
    with pytest.raises(http.Unreachable, match=r"cannot connect \(ConnectError\), after 3 attempt"):
        client.get("/user")
    assert waits == [0.5, 1.0]


@pytest.mark.parametrize(
    ("status", "headers", "wait"),
    [
        (200, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1100"}, None),  # an answer, not a refusal
        (403, {}, None),  # a permission error, not a rate limit
        (403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1100"}, 100.0),
        (403, {"retry-after": "30", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "1100"}, 30.0),
        (429, {"Retry-After": "5"}, 5.0),
        (429, {}, 60.0),  # GitHub: "Otherwise, wait for at least one minute before retrying"
        (429, {"ratelimit-remaining": "0", "ratelimit-reset": "1010"}, 10.0),  # DigitalOcean's names
        (429, {"retry-after": "Thu, 01 Jan 1970 00:18:20 GMT"}, 100.0),  # an HTTP-date (RFC 9110)
    ],
)
def test_rate_limit_rules(status: int, headers: dict[str, str], wait: float | None) -> None:
    assert http.rate_limit_wait(status, headers, now=1000.0) == wait


def test_a_secondary_rate_limit_is_told_by_its_message() -> None:
    # GitHub docs, "Rate limits for the REST API": a 403 "and an error message that indicates that you exceeded a
    # secondary rate limit"; without retry-after or an exhausted count, "wait for at least one minute"
    message = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    assert http.rate_limit_wait(403, {"x-ratelimit-remaining": "4000"}, 1000.0, message) == 60.0
    assert http.rate_limit_wait(403, {"x-ratelimit-remaining": "4000"}, 1000.0, "Resource protected by organization SAML enforcement.") is None


# --- the stand-in itself -------------------------------------------------------------------------------------------------


def test_the_stand_in_records_an_answer_the_description_does_not_allow(api: GitHubApi) -> None:
    api._validate("Installation", {"id": 1, "account": None})  # required fields missing
    assert len(api.violations) == 1 and api.violations[0].startswith("Installation:")
    api.violations.clear()


# --- laziness and the benchmark ---------------------------------------------------------------------------------------------

_MODULES = """
import sys
from secret_chain.ops.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
lazy = ("httpx", "httpx2", "jwt", "httpcore", "httpcore2", "lightkube", "githubkit")
print("LOADED:" + " ".join(sorted(m for m in sys.modules if m.split(".")[0] in lazy or m.startswith("secret_chain.doctor"))))
"""


@pytest.mark.parametrize("argv", [["--help"], ["doctor", "--help"], ["preflight", "--help"]])
def test_the_command_line_stays_lazy(argv: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", _MODULES, *argv], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip().splitlines()[-1] == "LOADED:"  # no httpx2, lightkube, PyJWT or doctor module
    if argv == ["--help"]:
        assert "doctor" in done.stdout


def test_the_doctor_deps_benchmark_reports_both_stacks() -> None:
    done = subprocess.run([sys.executable, "benchmarks/doctor_deps.py", "--quick"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    for line in ("httpx2 + PyJWT (the doctor)", "githubkit (models of 2022-11-28, App auth)", "secret-chain --help", "2. Install size"):
        assert line in done.stdout


def test_the_command_line_names_the_runner_s_systems() -> None:
    from secret_chain.ops import cli

    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices["doctor"]  # type: ignore[union-attr]
    only = next(a for a in sub._actions if a.dest == "only")
    assert tuple(only.choices) == runner.SYSTEMS
    assert {runner.system_of(c) for c in runner.default_checks()} <= set(runner.SYSTEMS)


def test_the_docs_table_of_links_is_the_doctor_s_own() -> None:
    from secret_chain.doctor import links

    page = (ROOT / "docs" / "doctor.md").read_text(encoding="utf-8")
    begin, end = "<!-- BEGIN doctor links", "<!-- END doctor links -->"
    table = page.split(begin, 1)[1].split("\n", 1)[1].split(end, 1)[0]
    assert table == links.render_markdown()


def test_a_link_id_matches_its_family_in_the_table() -> None:
    from secret_chain.doctor import links

    assert links.row_of("github.app/ci") is links.BY_ID["github.app/<ci|flux>"]
    assert links.row_of("github.actions/production/APP_ID") is links.BY_ID["github.actions/<environment>/<NAME>"]
    assert links.row_of("esc.key/namespace:imagePullSecret.token") is links.BY_ID["esc.key/<key>"]
    assert links.row_of("github.actions/production") is links.BY_ID["github.actions/<environment>"]
    assert links.row_of("doctor.ghcr-token") is links.BY_ID["doctor.<check>"]
    assert links.row_of("github.app/other") is None and links.row_of("github.ghcr-token/x") is None


def test_a_line_another_program_printed_is_redacted_of_every_configured_value() -> None:
    from secret_chain.doctor import common

    ctx = context(ghcr=CANARY, short="abc")
    assert common.redact(f"error: {CANARY} refused; abc", ctx) == "error: <redacted> refused; abc"


def test_the_doctor_carries_one_http_client() -> None:
    """httpx2, lightkube 1.0's client (pydantic/httpx2: httpx's API, maintained), is the doctor's only HTTP client.

    Running every check's imports loads httpx2 and never httpx; the package does not depend on httpx (the runtime lock
    holds neither httpx nor httpcore).
    """
    probe = (
        "import sys; from secret_chain.doctor import http, runner; runner.default_checks(); "
        "from secret_chain.doctor import kubernetes; import lightkube; kubernetes._resources(); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'httpx', 'httpx2', 'httpcore', 'httpcore2'}))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "['httpx2']", done.stdout
    import tomllib

    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert [d for d in dependencies if re.match(r"httpx\b(?!2)", d)] == []
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert re.search(r"^httpx==", lock, re.M) is None and re.search(r"^httpcore==", lock, re.M) is None
    assert re.search(r"^httpx2==", lock, re.M) is not None


# --- redaction and caps: one place (common.scrub, applied by the runner) -----------------------------------------------


def test_every_finding_is_redacted_and_capped_whatever_the_api_answered(tmp_path: Path) -> None:
    """Issue 22 review: a server echoing the token (login, X-OAuth-Scopes, slug, account.login, suspended_at,
    updated_at) got it onto stdout, in its base64 form and by its first 20 characters too; a 10 MB login gave a 10 MB
    report; a kubeconfig's token and a server URL's password were printed. Every check's findings pass common.scrub."""
    import base64

    kube_token = "kubeTOKENcanary0123456789abcdefghijklmnop"
    kube_password = "s3cretPASSWORDcanary99"
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: k, cluster: {{server: 'http://admin:{kube_password}@127.0.0.1:1'}}}}]\n"
        f"users: [{{name: u, user: {{token: {kube_token}}}}}]\n"
        "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
    )
    b64 = base64.b64encode(CANARY.encode()).decode()
    auth = base64.b64encode(f"x-access-token:{CANARY}".encode()).decode()  # a .dockerconfigjson auth: shifted alignment

    def check_echo(ctx: Context) -> list[Finding]:
        return [
            Finding(
                "github.ghcr-token",
                Status.WARN,
                f"GitHub answered login {CANARY}, scopes read:packages, {CANARY[:20]}; server http://admin:{kube_password}@127.0.0.1:1",
                fix=f"base64 {b64}",
                facts={
                    "login": CANARY,
                    "slug": f"{CANARY[:20]}-app",
                    "suspended_at": f"never {b64}",
                    "auth": auth,
                    "kube": f"Bearer {kube_token} / {base64.b64encode(kube_token.encode()).decode()}",
                    "updated_at": "A" * 10_000_000,
                },
            )
        ]

    now = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
    ctx = Context(stack="production", kind="production", config={"ghcr": CANARY}, now=now, kubeconfig=str(kubeconfig))
    (found,) = runner.run(ctx, [check_echo])
    out = runner.render_text(ctx, [found]) + json.dumps(runner.as_json(ctx, [found]))
    for secret in (CANARY, CANARY[:20], b64[4:24], auth[8:28], kube_token, kube_token[:20], kube_password, "admin:"):
        assert secret not in out, secret
    assert base64.b64encode(kube_token.encode()).decode()[:20] not in out
    assert "<redacted>" in found.checked and "http://127.0.0.1:1" in found.checked
    assert len(found.facts["updated_at"]) <= 400 and len(out) < 20_000
