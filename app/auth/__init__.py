"""Sign-in, sign-out and role checks for editors and admins."""

from flask import Blueprint

bp = Blueprint("auth", __name__)
