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
from ..services.auth import accounts, cognito_sign_in
from ..services.errors import InvalidInput
from .safety import external_url, safe_next

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Please sign in to see your photos."
login_manager.session_protection = "basic"
COGNITO_SESSION = "cognito_session"  # handle of the server-side Cognito session (data/oauth.py)


class CurrentUser(UserMixin):
    """What Flask-Login keeps for the signed-in person."""

    def __init__(self, user: User, via_token: bool = False) -> None:
        self.user = user
        self.id = user.id
        self.via_token = via_token

    @property
    def name(self) -> str:
        return self.user.display_name or self.user.username


@login_manager.user_loader
def load_user(user_id: str) -> CurrentUser | None:
    user = accounts.get_user(get_backends(), int(user_id)) if user_id.isdigit() else None
    return CurrentUser(user) if user else None


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
    login_user(CurrentUser(user))
    session.permanent = True


@bp.route("/login", methods=["GET", "POST"])
def login():
    settings = get_backends().settings
    if "local" not in settings.auth:
        return redirect(url_for("cognito.login", next=request.args.get("next")))
    if request.method == "POST":
        user = accounts.authenticate(
            get_backends(), request.form.get("username", ""), request.form.get("password", "")
        )
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
    handle = session.get(COGNITO_SESSION)
    logout_user()
    session.clear()
    backends = get_backends()
    if handle and backends.cognito:
        cognito_sign_in.sign_out(backends, handle)
        return redirect(backends.cognito.logout_url(external_url("gallery.index")))
    return redirect(url_for("auth.login"))


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings_page():
    backends = get_backends()
    new_token = None
    if request.method == "POST":
        if request.form.get("action") == "revoke":
            accounts.revoke_api_token(
                backends, current_user.id, request.form.get("id", 0, type=int)
            )
            flash("Token revoked.", "success")
            return redirect(url_for("auth.settings_page"))
        new_token = accounts.create_api_token(
            backends, current_user.id, request.form.get("name", "")
        )
    tokens = accounts.list_api_tokens(backends, current_user.id)
    return render_template("settings.html", tokens=tokens, new_token=new_token)
