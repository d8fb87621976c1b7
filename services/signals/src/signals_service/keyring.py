"""Keys of the signals service: pseudonyms, lookup hashes and encryption at rest.

- Pseudonym: ``ps-`` + HMAC-SHA256(pseudonym key, person id), truncated to 128
  bits. It is computed once when a person is first registered and stored, so
  it never changes for that person; it is the only person reference that
  leaves this service.
- Lookup hashes: HMAC-SHA256(lookup key, normalised BSN or name+birth date+
  postcode+house number). They let the service find a person again without
  storing those values in clear. Prefixed with the key version (``k1:``), so
  after a rotation the service still reads the hashes of the previous version
  until the rotation command has re-hashed them.
- Encryption: every person has a random data key; the identifying fields and
  the free-text descriptions of that person are encrypted with it (AES-256-GCM,
  authenticated with the person id as associated data). The data key is stored
  wrapped by a versioned master key. Destroying a person's data key makes every
  copy of their data unreadable, backups included (crypto-shredding).

Both subkeys derive from PSEUDONYM_KEY with distinct labels, so one secret is
configured but a lookup hash can never be mistaken for a pseudonym.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from collections.abc import Mapping

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from signals_service.settings import KEY_VERSION, SignalsSettings

NONCE_BYTES = 12
DEFAULT_LOOKUP_VERSION = "k1"
DEFAULT_WRAPPING_VERSION = "e1"


def _derive(secret: bytes, label: str) -> bytes:
    return hmac.new(secret, label.encode(), hashlib.sha256).digest()


def _lookup_key(secret: str) -> bytes:
    if len(secret) < 32:
        raise ValueError("PSEUDONYM_KEY must be at least 32 characters")
    return _derive(secret.encode(), "buurtsignaal/lookup/v1")


def _master_key(encoded: str) -> AESGCM:
    master = base64.b64decode(encoded)
    if len(master) != 32:
        raise ValueError("ENCRYPTION_KEY must be 32 bytes, base64-encoded")
    return AESGCM(master)


def _check_version(version: str) -> str:
    if not re.match(KEY_VERSION, version):
        raise ValueError(f"key version {version!r} must match {KEY_VERSION}")
    return version


class Keyring:
    """The current keys, and the previous ones that are still read during a rotation."""

    def __init__(
        self,
        pseudonym_secret: str,
        encryption_key_b64: str,
        *,
        lookup_version: str = DEFAULT_LOOKUP_VERSION,
        wrapping_version: str = DEFAULT_WRAPPING_VERSION,
        previous_pseudonym_secrets: Mapping[str, str] | None = None,
        previous_encryption_keys: Mapping[str, str] | None = None,
    ) -> None:
        self.lookup_version = _check_version(lookup_version)
        self.wrapping_version = _check_version(wrapping_version)
        self._pseudonym_key = _derive(pseudonym_secret.encode(), "buurtsignaal/pseudonym/v1")
        self._lookup_keys = {lookup_version: _lookup_key(pseudonym_secret)}
        for version, secret in (previous_pseudonym_secrets or {}).items():
            self._lookup_keys.setdefault(_check_version(version), _lookup_key(secret))
        self._masters = {wrapping_version: _master_key(encryption_key_b64)}
        for version, encoded in (previous_encryption_keys or {}).items():
            self._masters.setdefault(_check_version(version), _master_key(encoded))

    @classmethod
    def from_settings(cls, settings: SignalsSettings) -> Keyring:
        assert settings.pseudonym_key and settings.encryption_key
        return cls(
            settings.pseudonym_key.get_secret_value(),
            settings.encryption_key.get_secret_value(),
            lookup_version=settings.pseudonym_key_version,
            wrapping_version=settings.encryption_key_version,
            previous_pseudonym_secrets={
                v: s.get_secret_value() for v, s in settings.previous_pseudonym_keys.items()
            },
            previous_encryption_keys={
                v: s.get_secret_value() for v, s in settings.previous_encryption_keys.items()
            },
        )

    # --- pseudonyms and lookup hashes ---------------------------------------

    def pseudonym(self, person_id: str) -> str:
        digest = hmac.new(self._pseudonym_key, person_id.encode(), hashlib.sha256).hexdigest()
        return f"ps-{digest[:32]}"

    def lookup_hash(self, plain_key: str) -> str:
        """The hash under the current key version: what is written."""
        return self._hash(self.lookup_version, plain_key)

    def lookup_hashes(self, plain_key: str) -> list[str]:
        """The hash under every known version, current first: what is searched for."""
        return [self._hash(version, plain_key) for version in self._lookup_keys]

    def is_current_hash(self, lookup_hash: str) -> bool:
        return lookup_hash.startswith(f"{self.lookup_version}:")

    @property
    def lookup_versions(self) -> list[str]:
        return list(self._lookup_keys)

    def _hash(self, version: str, plain_key: str) -> str:
        key = self._lookup_keys[version]
        digest = hmac.new(key, plain_key.encode(), hashlib.sha256).hexdigest()
        return f"{version}:{digest}"

    # --- data keys and encryption -------------------------------------------

    def new_data_key(self, person_id: str) -> tuple[bytes, bytes]:
        """A fresh data key, and that key wrapped by the current master key for storage."""
        data_key = AESGCM.generate_key(bit_length=256)
        return data_key, self.wrap(data_key, person_id)

    def wrap(self, data_key: bytes, person_id: str) -> bytes:
        return self._seal(self._masters[self.wrapping_version], data_key, person_id)

    def unwrap(self, wrapped: bytes, person_id: str, version: str | None = None) -> bytes:
        master = self._masters.get(version or DEFAULT_WRAPPING_VERSION)
        if master is None:
            raise KeyError(f"master key {version} is not configured (PREVIOUS_ENCRYPTION_KEYS)")
        return self._open(master, wrapped, person_id)

    def encrypt(self, data_key: bytes, plaintext: bytes, person_id: str) -> bytes:
        return self._seal(AESGCM(data_key), plaintext, person_id)

    def decrypt(self, data_key: bytes, sealed: bytes, person_id: str) -> bytes:
        return self._open(AESGCM(data_key), sealed, person_id)

    @staticmethod
    def _seal(cipher: AESGCM, plaintext: bytes, person_id: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + cipher.encrypt(nonce, plaintext, person_id.encode())

    @staticmethod
    def _open(cipher: AESGCM, sealed: bytes, person_id: str) -> bytes:
        return cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], person_id.encode())
