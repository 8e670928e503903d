"""What Microsoft sign-in may reuse in a new process: discovery answers and the token.

MSAL keeps both in memory only, so every fresh process (a CLI run from cron, a bot
restarted, each replica) asked Entra twice before its first Graph read: the tenant's
OpenID configuration, then a token. Kept here they cost nothing until they expire:

* a discovery answer (``.well-known/openid-configuration``, no secret in it) for 24
  hours, as long as MSAL's own cache keeps one;
* MSAL's token cache, serialised (JSON, never pickle) and encrypted like the client
  secret, under a key derived from the tenant, the client and the secret, so a new
  secret is always tried for real (the connection check must prove it works) and
  MSAL itself decides when a token has expired.

A row that cannot be read (another key, a damaged value) counts as absent: sign-in
asks Entra, as it would have anyway.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, Text, delete
from sqlmodel import Column, Field, Session, SQLModel, col

from core.errors import ConfigError
from core.store.secrets import Cipher
from core.store.tables import UtcDateTime

DISCOVERY_LIFETIME = timedelta(hours=24)
DISCOVERY = "discovery:"
TOKENS = "tokens:"


class SignInCacheRow(SQLModel, table=True):
    """One kept answer: ``discovery:<url>`` in clear, ``tokens:<key>`` encrypted."""

    __tablename__ = "sign_in_cache"

    key: str = Field(primary_key=True, max_length=512)
    value: str = Field(sa_column=Column(Text, nullable=False))
    saved_at: datetime = Field(sa_type=UtcDateTime)


class StoredSignIn:
    """The store's side of ``core.clients.SignInMemory`` for one Entra connection."""

    def __init__(self, records: SignInRecords, connection_key: str) -> None:
        self._records = records
        self._key = connection_key

    def discovery(self, url: str) -> str | None:
        return self._records.sign_in_discovery(url)

    def keep_discovery(self, url: str, body: str) -> None:
        self._records.keep_sign_in_discovery(url, body)

    def tokens(self) -> str | None:
        return self._records.sign_in_tokens(self._key)

    def keep_tokens(self, serialized: str) -> None:
        self._records.keep_sign_in_tokens(self._key, serialized)


class SignInRecords:
    """Rows of ``sign_in_cache``; needs the store's engine, cipher and clock."""

    _engine: Engine
    _cipher: Cipher

    def _now(self) -> datetime:
        raise NotImplementedError

    def sign_in_memory(self, connection_key: str) -> StoredSignIn:
        """What sign-in for the connection ``connection_key`` names may reuse."""
        return StoredSignIn(self, connection_key)

    def sign_in_discovery(self, url: str) -> str | None:
        """The discovery answer kept for ``url``, unless it is older than a day."""
        row = self._sign_in_row(DISCOVERY + url)
        if row is None or self._now() - row.saved_at > DISCOVERY_LIFETIME:
            return None
        return row.value

    def keep_sign_in_discovery(self, url: str, body: str) -> None:
        self._keep_sign_in_row(
            SignInCacheRow(key=DISCOVERY + url, value=body, saved_at=self._now())
        )

    def sign_in_tokens(self, connection_key: str) -> str | None:
        """MSAL's serialised token cache for the connection, if this key can read it."""
        row = self._sign_in_row(TOKENS + connection_key)
        if row is None:
            return None
        try:
            return self._cipher.decrypt(row.value)
        except ConfigError:  # written under a key no longer configured
            return None

    def keep_sign_in_tokens(self, connection_key: str, serialized: str) -> None:
        """Keep the connection's tokens; any other connection's are dropped."""
        row = SignInCacheRow(
            key=TOKENS + connection_key,
            value=self._cipher.encrypt(serialized),
            saved_at=self._now(),
        )
        with Session(self._engine) as session:
            session.exec(
                delete(SignInCacheRow).where(
                    col(SignInCacheRow.key).startswith(TOKENS),
                    col(SignInCacheRow.key) != row.key,
                )
            )
            session.merge(row)
            session.commit()

    def forget_sign_in(self) -> None:
        """Drop every kept answer: the next process signs in as if it were the first."""
        with Session(self._engine) as session:
            session.exec(delete(SignInCacheRow))
            session.commit()

    def _sign_in_row(self, key: str) -> SignInCacheRow | None:
        with Session(self._engine) as session:
            return session.get(SignInCacheRow, key)

    def _keep_sign_in_row(self, row: SignInCacheRow) -> None:
        with Session(self._engine) as session:
            session.merge(row)
            session.commit()
