"""Locust entry point: ``locust -f loadtest/locustfile.py`` (``python -m loadtest`` runs it for
you, headless and bounded, against a server it starts). Weights: 7 shoppers, 2 editors, 1 API
client out of every 10 users."""

from loadtest.api import ApiUser
from loadtest.editor import EditorUser
from loadtest.shopper import ShopperUser

__all__ = ["ApiUser", "EditorUser", "ShopperUser"]
