"""Sign-in: Flask-Login wiring, local accounts' pages, personal API tokens' page."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import (
    LoginManager,
    UserMixin,
    current_user,
    login_required,
    login_user,
    logout_user,
)

from ..context import get_backends
from ..data.models import User
from ..services.auth import accounts, cognito_sign_in, sessions
from ..services.errors import InvalidInput, TooManyAttempts
from .ids import parse_id
from .safety import client_address, external_url, safe_next

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to see your photos."
login_manager.session_protection = "basic"
COGNITO_SESSION = "cognito_session"  # handle of the server-side Cognito session (data/oauth.py)


class CurrentUser(UserMixin):
    """What Flask-Login keeps for the signed-in person."""

    def __init__(self, user: User, session_handle: str | None = None, via_token: bool = False):
        self.user = user
        self.id = user.id
        self.session_handle = session_handle
        self.via_token = via_token

    def get_id(self) -> str:
        """What Flask-Login puts in the cookie: the session's handle, not the user's id, so a
        session ends when its row is deleted (services/auth/sessions.py)."""
        return self.session_handle or ""

    @property
    def name(self) -> str:
        return self.user.display_name or self.user.username


@login_manager.user_loader
def load_user(handle: str) -> CurrentUser | None:
    if "Authorization" in request.headers:
        # Credentials named in the request are the only ones used: a bad bearer token with a
        # good cookie is a 401, never the cookie's person (and never a CSRF-free cookie call).
        return None
    live = sessions.user_for_session(get_backends(), handle) if handle else None
    if live is None:
        return None
    if live.renewed:
        # The cookie is re-signed only when the session changes (SESSION_REFRESH_EACH_REQUEST
        # is off): its expiry moves on with the server-side session's, about hourly.
        session.modified = True
    return CurrentUser(live.user, session_handle=handle)


@login_manager.request_loader
def load_user_from_bearer(req) -> CurrentUser | None:
    """``Authorization: Bearer <personal API token or Cognito access token>`` signs a request in."""
    scheme, _, token = req.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    if token.startswith(accounts.TOKEN_PREFIX):
        user = accounts.user_for_token(get_backends(), token)
    else:
        user = cognito_sign_in.user_for_access_token(get_backends(), token)
    return CurrentUser(user, via_token=True) if user else None


def init_app(app) -> None:
    login_manager.init_app(app)


def start_session(user: User) -> None:
    """Log in with a fresh session (no fixation: nothing from before survives but `next`)."""
    session.clear()
    handle = sessions.open_session(get_backends(), user.id)
    login_user(CurrentUser(user, session_handle=handle))
    session.permanent = True


def end_session() -> str | None:
    """Sign this browser out, its server-side session included; returns its Cognito handle."""
    if handle := getattr(current_user, "session_handle", None):
        sessions.close_session(get_backends(), handle)
    cognito_handle = session.get(COGNITO_SESSION)
    logout_user()
    session.clear()
    return cognito_handle


@bp.route("/login", methods=["GET", "POST"])
def login():
    settings = get_backends().settings
    if "local" not in settings.auth:
        return redirect(url_for("cognito.login", next=request.args.get("next")))
    if request.method == "POST":
        try:
            user = accounts.sign_in(
                get_backends(),
                request.form.get("username", ""),
                request.form.get("password", ""),
                client_address(),
            )
        except TooManyAttempts as exc:
            flash(f"Sign-in is paused: {exc}.", "error")
            return render_template("login.html"), exc.status, exc.headers()
        if user:
            start_session(user)
            return redirect(safe_next(request.args.get("next")) or url_for("gallery.index"))
        flash("That username and password do not match an account.", "error")
        return render_template("login.html", username=request.form.get("username", "")), 401
    return render_template("login.html")


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    settings = get_backends().settings
    if "local" not in settings.auth or not settings.allow_signup:
        abort(404)
    if request.method == "POST":
        password = request.form.get("password", "")
        typed = request.form.get("username", "")  # shown again on a refusal, never the password
        if password != request.form.get("password2", password):
            flash("The two passwords differ.", "error")
            return render_template("signup.html", username=typed), 400
        try:
            user = accounts.create_local_user(
                get_backends(), request.form.get("username", ""), password
            )
        except InvalidInput as exc:
            flash(f"Could not create the account: {exc}.", "error")
            return render_template("signup.html", username=typed), 400
        start_session(user)
        flash("Welcome! Upload your first photos.", "success")
        return redirect(url_for("upload.form"))
    return render_template("signup.html")


@bp.post("/logout")
def logout():
    """Sign out here; a Cognito session is also revoked and signed out of the hosted UI."""
    handle = end_session()
    backends = get_backends()
    if handle and backends.cognito:
        cognito_sign_in.sign_out(backends, handle)
    return _after_sign_out(bool(handle))


def _after_sign_out(had_cognito: bool):
    """To the sign-in page, through Cognito's /logout when its hosted UI had a session too."""
    backends = get_backends()
    if had_cognito and backends.cognito:
        return redirect(backends.cognito.logout_url(external_url("gallery.index")))
    return redirect(url_for("auth.login"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings_page():
    backends = get_backends()
    new_token = None
    if request.method == "POST":
        if request.form.get("action") == "revoke":
            token_id = parse_id(request.form.get("id"))
            if token_id and accounts.revoke_api_token(backends, current_user.id, token_id):
                flash("Token revoked.", "success")
            else:
                flash("That token was not found; nothing was revoked.", "error")
            return redirect(url_for("auth.settings_page"))
        new_token = accounts.create_api_token(
            backends, current_user.id, request.form.get("name", "")
        )
    tokens = accounts.list_api_tokens(backends, current_user.id)
    return render_template("settings.html", tokens=tokens, new_token=new_token)


@bp.post("/settings/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    """End every session of this person, in every browser (API tokens stay until revoked)."""
    sessions.close_all_sessions(get_backends(), current_user.id)
    had_cognito = bool(end_session())
    flash("You are signed out everywhere, this browser included.", "success")
    return _after_sign_out(had_cognito)


@bp.post("/settings/password")
@login_required
def change_password():
    """A new password; every other session of the person ends, this browser gets a fresh one."""
    new = request.form.get("new_password", "")
    try:
        if new != request.form.get("new_password2", new):
            raise InvalidInput("the two new passwords differ")
        user = accounts.change_password(
            get_backends(),
            current_user.id,
            request.form.get("current_password", ""),
            new,
            client_address(),
        )
    except (InvalidInput, TooManyAttempts) as exc:
        flash(f"The password was not changed: {exc}.", "error")
        tokens = accounts.list_api_tokens(get_backends(), current_user.id)
        return render_template("settings.html", tokens=tokens), exc.status, exc.headers()
    start_session(user)
    flash("Password changed. Every other browser signed in as you is now signed out.", "success")
    return redirect(url_for("auth.settings_page"))
