"""What the command hands to the Locust process, through environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class LoadSettings:
    editors: tuple[str, ...]  # editor accounts' emails (each Locust editor signs in as one)
    password: str  # the editor accounts' password (generated per run)
    api_accounts: tuple[str, ...]  # API accounts' emails
    api_tokens: tuple[str, ...]  # one Bearer token per API account, in the same order
    hot_ids: tuple[int, ...]  # products several editors and API clients change at once
    max_id: int  # highest product id (API reads pick ids below it)

    def to_env(self) -> dict[str, str]:
        return {
            "LOADTEST_EDITORS": ",".join(self.editors),
            "LOADTEST_PASSWORD": self.password,
            "LOADTEST_API_ACCOUNTS": ",".join(self.api_accounts),
            "LOADTEST_API_TOKENS": ",".join(self.api_tokens),
            "LOADTEST_HOT_IDS": ",".join(map(str, self.hot_ids)),
            "LOADTEST_MAX_ID": str(self.max_id),
        }

    @classmethod
    def from_env(cls) -> LoadSettings:
        def items(name: str) -> tuple[str, ...]:
            return tuple(v for v in os.environ.get(name, "").split(",") if v)

        return cls(editors=items("LOADTEST_EDITORS"),
                   password=os.environ.get("LOADTEST_PASSWORD", ""),
                   api_accounts=items("LOADTEST_API_ACCOUNTS"),
                   api_tokens=items("LOADTEST_API_TOKENS"),
                   hot_ids=tuple(int(v) for v in items("LOADTEST_HOT_IDS")),
                   max_id=int(os.environ.get("LOADTEST_MAX_ID", "1")))
