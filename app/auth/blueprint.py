"""The ``auth`` blueprint, with what every app that registers it gets: the sign-in rate limit
and the failed-sign-in throttle. Views import it from here (not from the package, which
imports the views)."""

from __future__ import annotations

from flask import Blueprint
from flask.blueprints import BlueprintSetupState

from ..web.limits import limit_blueprint
from . import throttle

bp = Blueprint("auth", __name__)
# How often an address may try to sign in at all; the throttle counts failures per account.
limit_blueprint(bp, "RATELIMIT_LOGIN", scope="login", methods=["POST"],
                endpoints={"auth.login"}, error_message="Too many sign-in attempts.")


@bp.record_once
def _init_throttle(state: BlueprintSetupState) -> None:
    throttle.init_app(state.app)
