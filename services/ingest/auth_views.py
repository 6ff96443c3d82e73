"""Login and logout forms (the session cookie they set is honoured by all four services)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Regexp

from shared.runtime import runtime

from . import users as svc

bp = Blueprint("auth", __name__)


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Regexp(r"^[^@\s]+@[^@\s]+$", message="Enter your email address, e.g. name@example.org")])
    password = PasswordField("Password", validators=[DataRequired(message="Enter your password")])


def _safe_next(target: str | None) -> str:
    """Only redirect to one of our own services after login (no open redirect)."""
    if not target:
        return "/articles"
    allowed = {urlsplit(u).netloc for u in runtime().settings.service_urls.values()} | {request.host}
    parts = urlsplit(target)
    if parts.scheme in ("http", "https") and parts.netloc in allowed:
        return target
    if not parts.scheme and not parts.netloc and target.startswith("/"):
        return target
    return "/articles"


@bp.route("/login", methods=["GET", "POST"])
def login():
    """The login form."""
    form = LoginForm()
    if form.validate_on_submit():
        with runtime().engine.begin() as conn:
            user = svc.authenticate(conn, form.email.data, form.password.data)
        if user is None:
            form.password.errors.append("Wrong email or password; check both and try again")
        else:
            session.clear()
            session["user"] = {"name": user["name"], "email": user["email"], "role": user["role"]}
            flash(f"Logged in as {user['name']}.")
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", form=form), 200 if request.method == "GET" else 400 if form.errors else 200


@bp.post("/logout")
def logout():
    """End the session on every service."""
    session.clear()
    flash("Logged out.")
    return redirect(current_app.config["LOGIN_URL"])
