"""The paging query parameters of every list endpoint: ``offset: Offset = 0, limit: Limit = 20``.

Bounded on both sides so that nothing a client sends reaches the database unchecked:
MongoDB's skip is a 64-bit integer (a larger offset was a 500, found by fuzzing), and no
list here holds a million items.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

MAX_OFFSET = 1_000_000
MAX_LIMIT = 100

Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="items to skip")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="items per page")]
