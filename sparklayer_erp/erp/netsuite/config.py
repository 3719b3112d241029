"""How to reach one NetSuite account: host, credentials, subsidiary, locations and the concurrency cap.

Built once from the environment (``resources.py`` maps the ``NETSUITE_*`` settings onto it) and handed to
``NetSuiteErp``. Secrets are kept out of ``repr`` so a logged config never leaks them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Literal

AuthKind = Literal["oauth2", "tba"]

_SECRET_FIELDS = frozenset({"private_key_pem", "consumer_secret", "token_secret"})


class NetSuiteConfigError(ValueError):
    """A NetSuite setting is missing or malformed; the message names the setting, never its secret value."""


def host_for_account(account_id: str) -> str:
    """The account-specific REST host: lower-case, ``_`` -> ``-`` (``1234567_SB1`` -> ``1234567-sb1``)."""
    return f"https://{account_id.strip().lower().replace('_', '-')}.suitetalk.api.netsuite.com"


def parse_locations(text: str | None) -> dict[str, str]:
    """``"1=MAIN,2=NORTH"`` -> ``{"1": "MAIN", "2": "NORTH"}`` (NetSuite location internal id -> warehouse code)."""
    result: dict[str, str] = {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        location_id, sep, code = part.partition("=")
        location_id, code = location_id.strip(), code.strip()
        if not sep or not location_id or not code:
            raise NetSuiteConfigError(
                f"NETSUITE_LOCATIONS: {part!r} is not '<location internal id>=<warehouse code>'"
            )
        if location_id in result:
            raise NetSuiteConfigError(f"NETSUITE_LOCATIONS: location {location_id} is listed twice")
        result[location_id] = code
    if len(set(result.values())) != len(result):
        raise NetSuiteConfigError("NETSUITE_LOCATIONS: two locations map to the same warehouse code")
    return result


@dataclass(frozen=True)
class NetSuiteConfig:
    """One NetSuite account as the adapter sees it.

    ``locations`` maps NetSuite location internal ids to our warehouse codes; when empty, a location's
    name is its warehouse code. ``default_location`` is a location internal id (the warehouse new orders
    ship from when nothing else says); when empty the first mapped location, else the lowest location id.
    """

    account_id: str
    auth: AuthKind = "oauth2"
    base_url: str | None = None  # override; default derived from the account id
    # OAuth 2.0 client credentials (machine to machine, JWT assertion)
    client_id: str | None = None
    certificate_id: str | None = None
    private_key_pem: str | None = field(default=None, repr=False)
    # token-based authentication (OAuth 1.0a, HMAC-SHA256)
    consumer_key: str | None = None
    consumer_secret: str | None = field(default=None, repr=False)
    token_id: str | None = None
    token_secret: str | None = field(default=None, repr=False)
    # account layout
    subsidiary: str | None = None  # internal id; sent on new records when set
    locations: Mapping[str, str] = field(default_factory=dict)
    default_location: str | None = None
    # the currency of price levels and of customers whose currency NetSuite does not name
    currency: str = "GBP"
    # governance
    concurrency: int = 5
    timeout: float = 60.0
    max_retries: int = 6

    def __post_init__(self) -> None:
        if not (self.account_id or "").strip():
            raise NetSuiteConfigError("NETSUITE_ACCOUNT_ID is required")
        if self.auth not in ("oauth2", "tba"):
            raise NetSuiteConfigError(f"NETSUITE_AUTH must be 'oauth2' or 'tba', not {self.auth!r}")
        required = (
            {"client_id": "NETSUITE_CLIENT_ID", "certificate_id": "NETSUITE_CERTIFICATE_ID",
             "private_key_pem": "NETSUITE_PRIVATE_KEY"}
            if self.auth == "oauth2" else
            {"consumer_key": "NETSUITE_CONSUMER_KEY", "consumer_secret": "NETSUITE_CONSUMER_SECRET",
             "token_id": "NETSUITE_TOKEN_ID", "token_secret": "NETSUITE_TOKEN_SECRET"}
        )
        missing = [env for name, env in required.items() if not getattr(self, name)]
        if missing:
            raise NetSuiteConfigError(f"NETSUITE_AUTH={self.auth} needs {', '.join(missing)}")
        if self.concurrency < 1:
            raise NetSuiteConfigError("NETSUITE_CONCURRENCY must be at least 1")
        if self.timeout <= 0:
            raise NetSuiteConfigError("the NetSuite timeout must be positive")
        object.__setattr__(self, "locations", {str(k): str(v) for k, v in dict(self.locations).items()})

    @classmethod
    def from_settings(cls, values: Mapping[str, str | None], **overrides: object) -> NetSuiteConfig:
        """From ``NETSUITE_*`` setting values (strings; empty = unset), e.g. the environment."""
        def get(name: str) -> str | None:
            value = values.get(f"NETSUITE_{name}")
            return value.strip() if isinstance(value, str) and value.strip() else None

        concurrency = get("CONCURRENCY")
        try:
            cap = int(concurrency) if concurrency else 5
        except ValueError:
            raise NetSuiteConfigError(f"NETSUITE_CONCURRENCY must be a whole number, not {concurrency!r}") from None
        kwargs: dict[str, object] = {
            "account_id": get("ACCOUNT_ID") or "", "base_url": get("BASE_URL"),
            "auth": (get("AUTH") or "oauth2").lower(), "client_id": get("CLIENT_ID"),
            "certificate_id": get("CERTIFICATE_ID"),
            # a PEM pasted into one line of an env file keeps its line breaks as "\n"
            "private_key_pem": (values.get("NETSUITE_PRIVATE_KEY") or "").replace("\\n", "\n").strip() or None,
            "consumer_key": get("CONSUMER_KEY"), "consumer_secret": get("CONSUMER_SECRET"),
            "token_id": get("TOKEN_ID"), "token_secret": get("TOKEN_SECRET"), "subsidiary": get("SUBSIDIARY"),
            "locations": parse_locations(get("LOCATIONS")), "default_location": get("DEFAULT_LOCATION"),
            "concurrency": cap,
        }
        kwargs.update(overrides)
        return cls(**kwargs)  # type: ignore[arg-type]

    @property
    def rest_root(self) -> str:
        """``https://{host}/services/rest`` (no trailing slash)."""
        base = (self.base_url or host_for_account(self.account_id)).rstrip("/")
        return base if base.endswith("/services/rest") else f"{base}/services/rest"

    @property
    def token_url(self) -> str:
        """The OAuth 2.0 token endpoint; also the JWT ``aud``."""
        return f"{self.rest_root}/auth/oauth2/v1/token"

    def secrets(self) -> tuple[str, ...]:
        """Every secret value set (used by tests and log scrubbing)."""
        return tuple(v for name in sorted(_SECRET_FIELDS) if (v := getattr(self, name)))

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={'***' if f.name in _SECRET_FIELDS and getattr(self, f.name) else getattr(self, f.name)!r}"
            for f in fields(self)
        )
        return f"NetSuiteConfig({shown})"

    __str__ = __repr__
