"""CSRF protection (Flask-WTF) for every state-changing form and cookie-authenticated call."""

from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
