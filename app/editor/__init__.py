"""The editors' workspace: inline table editing, bulk actions, history."""

from flask import Blueprint

bp = Blueprint("editor", __name__)
