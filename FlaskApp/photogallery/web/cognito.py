"""Sign-in with the Cognito hosted UI: /login/cognito, /callback, and keeping the session fresh."""

from __future__ import annotations

import hmac
import logging
from urllib.parse import urlsplit

from flask import Blueprint, flash, jsonify, redirect, render_template, request, session, url_for

from ..context import get_backends
from ..observability import metrics
from ..services.auth import cognito_sign_in
from ..services.auth.cognito_client import CognitoUnavailable
from ..services.auth.cognito_sign_in import SignInFailed
from .auth import COGNITO_SESSION, end_session, start_session
from .errors import answer
from .safety import external_url, safe_next

log = logging.getLogger(__name__)
bp = Blueprint("cognito", __name__)

PENDING_STATES = "cognito_states"  # sign-ins this browser started; several tabs may be open
MAX_PENDING = 5
# Requests that must work while a session is ending or starting, or that need no session at all
# (photo files are served by signed URL: a gallery page must not cost one session query each).
NOT_REFRESHED = {"static", "auth.logout", "cognito.login", "cognito.callback"}
NOT_REFRESHED_BLUEPRINTS = {"media", "health"}


@bp.get("/login/cognito")
def login():
    """Send the browser to the hosted UI with a fresh state, nonce and PKCE challenge."""
    state, url = cognito_sign_in.start_sign_in(
        get_backends(),
        redirect_uri=external_url("cognito.callback"),
        next_url=safe_next(request.args.get("next")),
    )
    session[PENDING_STATES] = [*session.get(PENDING_STATES, [])[-(MAX_PENDING - 1) :], state]
    return redirect(url)


@bp.get("/callback")
def callback():
    """Finish a sign-in: state first (once), then the provider's error or the code."""
    state = request.args.get("state", "")
    started = session.get(PENDING_STATES, [])
    if not state or not any(hmac.compare_digest(state, s) for s in started):
        log.warning("sign-in callback refused: state missing or not started in this browser")
        return failed(
            "This sign-in response does not belong to a sign-in started in this browser "
            "(it is old, was opened in another browser, or was forged). Please sign in again."
        )
    session[PENDING_STATES] = [s for s in started if s != state]
    backends = get_backends()
    try:
        pending = cognito_sign_in.take_pending_login(backends, state)
        if error := request.args.get("error"):
            return failed(provider_error(error, request.args.get("error_description", "")))
        code = request.args.get("code")
        if not code:
            return failed("The sign-in response carried no code. Please sign in again.")
        signed_in = cognito_sign_in.finish_sign_in(backends, pending, code)
    except SignInFailed as exc:
        return failed(exc.reason, exc.status)
    start_session(signed_in.user)
    session[COGNITO_SESSION] = signed_in.handle
    return redirect(safe_next(signed_in.next_url) or url_for("gallery.index"))


def provider_error(error: str, description: str) -> str:
    """What the identity provider's ``error=`` means for the person."""
    if error == "access_denied":
        return "Sign-in was cancelled or refused at the identity provider. Nothing was changed."
    detail = f"{error}: {description}" if description else error
    return f"The identity provider could not sign you in ({detail[:200]}). Please try again."


def failed(message: str, status: int = 400):
    metrics.sign_in_failed()  # every refused callback, as a wrong password is for local sign-in
    return render_template("sign_in_failed.html", message=message), status


@bp.before_app_request
def keep_cognito_session_fresh():
    """Refresh an expiring access token; if Cognito says no, sign out and ask to sign in again."""
    handle = session.get(COGNITO_SESSION)
    if not handle or request.endpoint in NOT_REFRESHED or "Authorization" in request.headers:
        return None  # (a request with credentials of its own does not use the cookie at all)
    if request.blueprint in NOT_REFRESHED_BLUEPRINTS:
        return None
    if cognito_sign_in.keep_session_fresh(get_backends(), handle):
        return None
    end_session()
    return session_expired()


def session_expired():
    """Ask to sign in again, without losing what the person was doing where that is possible."""
    wants_json = request.is_json or request.accept_mimetypes.best == "application/json"
    if request.path.startswith("/api/") or wants_json:
        # Scripts (the upload page's too) stay on their page, so a file selection is kept.
        response = jsonify(
            error="Your sign-in has expired; sign in again, then send this again. "
            "Nothing was saved.",
            sign_in=url_for("auth.login"),
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="photos", error="invalid_token"'
        return response, 401
    if request.method in ("GET", "HEAD"):
        flash("Your sign-in has expired; please sign in again.", "error")
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    # A form post cannot be replayed after sign-in: say so and come back to the form's page.
    flash(
        "Your sign-in expired before this was sent, so nothing was saved. "
        "Please sign in again and send it once more.",
        "error",
    )
    back = safe_next(_same_site_path(request.referrer)) or request.path
    return redirect(url_for("auth.login", next=back))


def _same_site_path(url: str | None) -> str | None:
    if not url:
        return None
    parts, here = urlsplit(url), urlsplit(request.host_url)
    if (parts.scheme, parts.netloc) != (here.scheme, here.netloc):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@bp.app_errorhandler(CognitoUnavailable)
def cognito_unavailable(exc: CognitoUnavailable):
    log.error("Cognito unavailable: %s", exc)
    return answer(503, "The sign-in service is unavailable; please try again in a minute.")
