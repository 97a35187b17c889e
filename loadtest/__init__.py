"""Vitrine's load test: Locust journeys (shopper, editor, API) against a local Hypercorn running
the production config on a 100k-product database, then a check that no edit was lost.

``python -m loadtest --help`` (or ``make loadtest``). Module map:

* :mod:`.run` - the command: database, accounts, server, Locust, report, verification
* :mod:`.locustfile` - the user classes Locust runs; journeys in :mod:`.shopper`,
  :mod:`.editor`, :mod:`.api`
* :mod:`.ledger` - what the load reports about each edit (written by Locust, read afterwards)
* :mod:`.verify` - "nothing was lost", checked with SQL against the ledger
* :mod:`.accounts`, :mod:`.memory`, :mod:`.report`, :mod:`.html`, :mod:`.vocabulary`
"""
