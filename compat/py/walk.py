"""The Experience-API walk (real-clients.md Appendix B) with a requests.Session as the browser.

A requests.Session is a standards cookie jar (it honours Path, so `_interaction_resume` with
Path=/oidc/auth/<uid> is only sent back there). Redirects are never followed automatically: each
hop is checked and followed by hand until the relying party's redirect_uri is reached.

    s = new_browser()
    callback = sign_in(s, base, auth_url, redirect_uri, username, password)     # SignIn
    callback = register(s, base, auth_url, redirect_uri, username, password)    # Register
    params = callback_params(callback)
    sign_out(s, end_session_url, post_logout_redirect_uri)                      # end-session form
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from harness import check, describe_response, expect_json, expect_status, fail, show

TIMEOUT = 30
MAX_HOPS = 12
USER_AGENT = "kido-compat/1.0 (python-requests; Experience-API walk)"


def new_browser() -> requests.Session:
    session = requests.Session()
    session.headers["User-Agent"] = USER_AGENT
    return session


def _same_target(url: str, redirect_uri: str) -> bool:
    """True when url is redirect_uri (ignoring the query and fragment the OP adds)."""
    a, b = urlsplit(url), urlsplit(redirect_uri)
    return (a.scheme, a.netloc, a.path) == (b.scheme, b.netloc, b.path)


def open_authorization(session: requests.Session, auth_url: str, expected_page: str) -> str:
    """GET the authorization URL: expects 302/303 to the hosted page `expected_page` (path,
    e.g. /sign-in or /register), loads that page (200 HTML) and returns its absolute URL."""
    response = session.get(auth_url, allow_redirects=False, timeout=TIMEOUT)
    expect_status(response, (302, 303), "GET /oidc/auth (expected a redirect to the hosted page)")
    location = response.headers.get("Location")
    check(location, f"GET /oidc/auth: redirect without Location: {describe_response(response)}")
    page_url = urljoin(response.url, location)
    path = urlsplit(page_url).path
    check(
        path == expected_page or path.startswith(expected_page + "/"),
        f"GET /oidc/auth redirected to {page_url}, expected the hosted page {expected_page}",
    )
    check(
        any(cookie.name == "_interaction" for cookie in session.cookies),
        f"GET /oidc/auth set no _interaction cookie (cookies: {sorted(c.name for c in session.cookies)})",
    )
    page = session.get(page_url, allow_redirects=False, timeout=TIMEOUT)
    expect_status(page, 200, f"GET {path} (hosted page)")
    check(
        page.headers.get("Content-Type", "").lower().startswith("text/html"),
        f"GET {path}: expected text/html, got {page.headers.get('Content-Type')}",
    )
    return page_url


def follow_to_redirect_uri(session: requests.Session, url: str, redirect_uri: str) -> str:
    """Follows 3xx hops (GET, cookie jar) from url until a Location reaches redirect_uri; returns
    that final URL (with its query). Fails on a non-redirect answer or too many hops."""
    hops = [url]
    for _ in range(MAX_HOPS):
        if _same_target(url, redirect_uri):
            return url
        response = session.get(url, allow_redirects=False, timeout=TIMEOUT)
        if response.status_code not in (301, 302, 303, 307, 308):
            fail(
                f"expected a redirect while walking to {redirect_uri}, got {describe_response(response)} "
                f"(hops: {' -> '.join(hops)})"
            )
        location = response.headers.get("Location")
        check(location, f"redirect without Location at {url}")
        url = urljoin(url, location)
        hops.append(url)
    fail(f"no redirect to {redirect_uri} after {MAX_HOPS} hops: {' -> '.join(hops)}")
    return url  # unreachable


def _submit(session: requests.Session, base: str) -> str:
    api = f"{base}/api/experience"
    response = session.post(f"{api}/submit", timeout=TIMEOUT)
    expect_status(response, 200, "POST /api/experience/submit")
    body = expect_json(response, "POST /api/experience/submit")
    redirect_to = body.get("redirectTo") if isinstance(body, dict) else None
    check(isinstance(redirect_to, str) and redirect_to, f"submit: no redirectTo in {show(body)}")
    return urljoin(base + "/", redirect_to)


def experience_sign_in(session: requests.Session, base: str, username: str, password: str) -> str:
    """SignIn with username + password; returns the absolute redirectTo of submit."""
    api = f"{base}/api/experience"
    response = session.put(api, json={"interactionEvent": "SignIn"}, timeout=TIMEOUT)
    expect_status(response, 204, "PUT /api/experience {interactionEvent: SignIn}")
    response = session.post(
        f"{api}/verification/password",
        json={"identifier": {"type": "username", "value": username}, "password": password},
        timeout=TIMEOUT,
    )
    expect_status(response, 200, "POST /api/experience/verification/password")
    body = expect_json(response, "POST /api/experience/verification/password")
    verification_id = body.get("verificationId") if isinstance(body, dict) else None
    check(isinstance(verification_id, str) and verification_id, f"no verificationId in {show(body)}")
    response = session.post(f"{api}/identification", json={"verificationId": verification_id}, timeout=TIMEOUT)
    expect_status(response, 204, "POST /api/experience/identification {verificationId}")
    return _submit(session, base)


def experience_register(session: requests.Session, base: str, username: str, password: str) -> str:
    """Register with username + password; returns the absolute redirectTo of submit."""
    api = f"{base}/api/experience"
    response = session.put(api, json={"interactionEvent": "Register"}, timeout=TIMEOUT)
    expect_status(response, 204, "PUT /api/experience {interactionEvent: Register}")
    response = session.post(f"{api}/profile", json={"type": "username", "value": username}, timeout=TIMEOUT)
    expect_status(response, 204, "POST /api/experience/profile {type: username}")
    response = session.post(f"{api}/profile", json={"type": "password", "value": password}, timeout=TIMEOUT)
    expect_status(response, 204, "POST /api/experience/profile {type: password}")
    response = session.post(f"{api}/identification", json={}, timeout=TIMEOUT)
    expect_status(response, 201, "POST /api/experience/identification {} (Register)")
    return _submit(session, base)


def sign_in(
    session: requests.Session, base: str, auth_url: str, redirect_uri: str, username: str, password: str
) -> str:
    """Full browser leg of a sign-in: authorization URL → /sign-in → Experience API → redirect_uri.
    Returns the callback URL (code, state, iss in its query)."""
    open_authorization(session, auth_url, "/sign-in")
    redirect_to = experience_sign_in(session, base, username, password)
    return follow_to_redirect_uri(session, redirect_to, redirect_uri)


def register(
    session: requests.Session, base: str, auth_url: str, redirect_uri: str, username: str, password: str
) -> str:
    """Full browser leg of a registration (the authorization URL must land on /register)."""
    open_authorization(session, auth_url, "/register")
    redirect_to = experience_register(session, base, username, password)
    return follow_to_redirect_uri(session, redirect_to, redirect_uri)


def callback_params(callback_url: str) -> dict[str, str]:
    """Single-valued query parameters of a callback URL (fails on repeated ones)."""
    query = parse_qs(urlsplit(callback_url).query, keep_blank_values=True)
    repeated = [key for key, values in query.items() if len(values) != 1]
    check(not repeated, f"callback repeats parameters {repeated}: {callback_url}")
    return {key: values[0] for key, values in query.items()}


# ---------------------------------------------------------------------------------------------
# End-session confirmation form


class _FormParser(HTMLParser):
    """Collects forms, and the inputs/buttons with the form they belong to (enclosing form, or
    the `form` attribute)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[dict[str, Any]] = []
        self.controls: list[dict[str, Any]] = []
        self._open: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: (value or "") for name, value in attrs}
        if tag == "form":
            self.forms.append(attributes)
            self._open = len(self.forms) - 1
        elif tag in ("input", "button"):
            self.controls.append({"tag": tag, "attrs": attributes, "form": self._open})

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def parse_logout_form(html: str, page_url: str) -> tuple[str, dict[str, str], str]:
    """Returns (absolute form action, fields to submit, description of the logout control)."""
    parser = _FormParser()
    parser.feed(html)
    check(parser.forms, f"end-session page has no <form>: {show(html, 400)}")

    def form_index(control: dict[str, Any]) -> int | None:
        form_id = control["attrs"].get("form")
        if form_id:
            for index, form in enumerate(parser.forms):
                if form.get("id") == form_id:
                    return index
            return None
        return control["form"]

    xsrf = [c for c in parser.controls if c["attrs"].get("name") == "xsrf"]
    check(xsrf, f"end-session page has no xsrf input: {show(html, 400)}")
    control = xsrf[0]
    eq_type = control["attrs"].get("type", "").lower()
    check(eq_type == "hidden", f"the xsrf input must be hidden, got type={eq_type!r}")
    index = form_index(control)
    check(index is not None, "the xsrf input belongs to no form")
    form = parser.forms[index]
    check(form.get("method", "get").lower() == "post", f"end-session form method must be POST, got {form}")

    logout = [
        c
        for c in parser.controls
        if c["attrs"].get("name") == "logout" and c["attrs"].get("value") == "yes" and form_index(c) == index
    ]
    check(logout, f"end-session form has no control name=logout value=yes: {show(html, 600)}")
    chosen = logout[0]
    kind = chosen["tag"] if chosen["tag"] == "button" else f"input type={chosen['attrs'].get('type', 'text')}"

    fields: dict[str, str] = {}
    for c in parser.controls:
        attrs = c["attrs"]
        if form_index(c) != index or not attrs.get("name"):
            continue
        if c["tag"] == "input" and attrs.get("type", "text").lower() == "hidden":
            fields[attrs["name"]] = attrs.get("value", "")
    fields["logout"] = "yes"
    action = urljoin(page_url, form.get("action") or page_url)
    return action, fields, kind


def sign_out(session: requests.Session, end_session_url: str, post_logout_redirect_uri: str) -> str:
    """GET the end-session URL (200 HTML confirmation form), POST the form with logout=yes and
    expect 303 to post_logout_redirect_uri. Returns that final Location."""
    page = session.get(end_session_url, allow_redirects=False, timeout=TIMEOUT)
    expect_status(page, 200, "GET end_session_endpoint")
    check(
        page.headers.get("Content-Type", "").lower().startswith("text/html"),
        f"GET end_session_endpoint: expected text/html, got {page.headers.get('Content-Type')}",
    )
    action, fields, kind = parse_logout_form(page.text, page.url)
    check(
        urlsplit(action).path == "/oidc/session/end/confirm",
        f"end-session form action must be /oidc/session/end/confirm, got {action}",
    )
    check(kind == "button" or "submit" in kind, f"logout=yes must be a submit control, got {kind}")
    response = session.post(action, data=fields, allow_redirects=False, timeout=TIMEOUT)
    expect_status(response, 303, "POST /oidc/session/end/confirm")
    location = urljoin(action, response.headers.get("Location", ""))
    check(
        _same_target(location, post_logout_redirect_uri),
        f"end-session confirm redirected to {location}, expected {post_logout_redirect_uri}",
    )
    return location
