"""The bounds every boundary checks input against, in one place.

They follow the column types of the schema (``migrations/versions``): a value outside them could
not be stored, or could not name a row, so the catalog, the editor, the API and the write
services all refuse it with the same limits and the same wording.
"""

from __future__ import annotations

from decimal import Decimal

#: ``numeric(10, 2)``: prices and bulk price amounts.
MAX_PRICE = Decimal("99999999.99")
#: PostgreSQL ``integer``: stock counts, category ids, user ids, token ids.
MAX_INT = 2**31 - 1
#: PostgreSQL ``bigint``: product ids and keyset values.
MAX_BIGINT = 2**63 - 1
MIN_BIGINT = -(2**63)

MAX_STOCK = MAX_INT
MAX_CATEGORY_ID = MAX_INT
MAX_PRODUCT_ID = MAX_BIGINT
