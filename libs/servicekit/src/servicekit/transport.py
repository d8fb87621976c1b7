"""TLS for the connections to RabbitMQ and MongoDB, from the settings.

RabbitMQ: an ``amqps://`` ``AMQP_URL`` turns TLS on; ``AMQP_TLS_CA_FILE`` names
the CA that signed the broker's certificate (else the system's CAs), and
``AMQP_TLS_CERT_FILE`` + ``AMQP_TLS_KEY_FILE`` a client certificate for mutual
TLS. The server's certificate and host name are always verified.

MongoDB: ``tls=true`` in ``MONGODB_URL`` (or ``mongodb+srv://``, which implies
it) or ``MONGODB_TLS=true`` turns TLS on; ``MONGODB_TLS_CA_FILE`` and
``MONGODB_TLS_CERT_KEY_FILE`` (certificate and key in one PEM file, as the
driver wants it) are passed to the driver.

Production refuses plaintext to both unless ``ALLOW_PLAINTEXT_TRANSPORT=true``
(``settings.py``).
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from servicekit.settings import ServiceSettings

_TRUE = {"true", "1", "yes"}


def amqp_uses_tls(url: str) -> bool:
    return urlsplit(url).scheme == "amqps"


def amqp_ssl_context(settings: ServiceSettings) -> ssl.SSLContext | None:
    """The client TLS context for RabbitMQ, or None for a plaintext ``amqp://`` URL."""
    if not amqp_uses_tls(settings.amqp_url.get_secret_value()):
        return None
    ca = str(settings.amqp_tls_ca_file) if settings.amqp_tls_ca_file else None
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.amqp_tls_cert_file is not None:
        context.load_cert_chain(
            str(settings.amqp_tls_cert_file),
            str(settings.amqp_tls_key_file) if settings.amqp_tls_key_file else None,
        )
    return context


def mongo_uses_tls(url: str, tls_setting: bool = False) -> bool:
    parts = urlsplit(url)
    if tls_setting or parts.scheme == "mongodb+srv":
        return True
    query = {k.lower(): v for k, v in parse_qs(parts.query).items()}
    return any(v[-1].lower() in _TRUE for k, v in query.items() if k in ("tls", "ssl"))


def mongo_tls_options(settings: ServiceSettings) -> dict[str, Any]:
    """Keyword arguments for ``AsyncMongoClient`` (the URL's own options still apply)."""
    options: dict[str, Any] = {}
    if settings.mongodb_tls or settings.mongodb_tls_ca_file or settings.mongodb_tls_cert_key_file:
        options["tls"] = True
    if settings.mongodb_tls_ca_file is not None:
        options["tlsCAFile"] = str(settings.mongodb_tls_ca_file)
    if settings.mongodb_tls_cert_key_file is not None:
        options["tlsCertificateKeyFile"] = str(settings.mongodb_tls_cert_key_file)
    return options
