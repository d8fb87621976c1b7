"""Names and address for the mayor's letter, from the signals service, at the moment of rendering.

GET {SIGNALS_URL}/api/v1/persons/{pseudonym}/letter-details with this
service's own bearer token (role ``service``) and ``X-On-Behalf-Of`` naming the
worker who asked for the letter; the signals service audit-logs the read.
Nothing of the answer is logged or kept, except inside the encrypted PDF.
"""

from __future__ import annotations

import httpx
from pydantic import BaseModel

from servicekit.service_auth import ON_BEHALF_OF, ServiceTokens, TokenEndpointError


class _Name(BaseModel):
    given_name: str | None = None
    family_name: str | None = None


class _Address(BaseModel):
    street: str | None = None
    house_number: str | None = None
    postcode: str | None = None
    city: str | None = None


class LetterDetails(BaseModel):
    """The signals service's answer. Personal data: never logged, never stored in clear."""

    person: str
    youth: _Name
    guardians: list[_Name] = []
    address: _Address


class SignalsUnavailable(Exception):
    """No answer we can use now (network, 5xx, refused token); worth trying again later."""


class LetterDetailsClient:
    def __init__(
        self,
        base_url: str,
        tokens: ServiceTokens,
        *,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._tokens = tokens
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout, transport=transport
        )

    async def fetch(self, pseudonym: str, on_behalf_of: str) -> LetterDetails | None:
        """The details, or None when signals does not know the person (any more)."""
        response = await self._get(pseudonym, on_behalf_of)
        if response.status_code == 401:  # our cached token was refused: a fresh one, once
            self._tokens.invalidate()
            response = await self._get(pseudonym, on_behalf_of)
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise SignalsUnavailable(f"signals answered {response.status_code}")
        return LetterDetails.model_validate_json(response.content)

    async def _get(self, pseudonym: str, on_behalf_of: str) -> httpx.Response:
        try:
            token = await self._tokens.token()
            return await self._http.get(
                f"/api/v1/persons/{pseudonym}/letter-details",
                headers={"Authorization": f"Bearer {token}", ON_BEHALF_OF: on_behalf_of},
            )
        except (httpx.HTTPError, TokenEndpointError) as error:  # both mean "not now"
            raise SignalsUnavailable(type(error).__name__) from error

    async def aclose(self) -> None:
        await self._http.aclose()
        await self._tokens.aclose()
