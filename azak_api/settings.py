"""API settings, read from the environment (prefix ``AZAK_``) when the app is created."""

import ipaddress
import itertools
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

# imported as a module path: `from azak_core import settings_registry` here made mypy report
# azak_core.embeddings under azak_api's strict options
import azak_core.settings_registry as settings_registry
from azak_core.egress import EgressPolicy, EgressSettingError
from azak_core.embeddings import EMBEDDER_CHOICES
from azak_core.redact import redacted_repr


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


def _async_url(raw: str) -> str:
    parts = urlsplit(raw.strip())
    if parts.scheme not in {"postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"}:
        raise SettingsError(
            "AZAK_DATABASE_URL must be a postgresql:// URL "
            f"(postgresql://user[:password]@host[:port]/database), got scheme {parts.scheme!r}"
        )
    if not parts.hostname or not parts.path.strip("/"):
        raise SettingsError("AZAK_DATABASE_URL must name a host and a database")
    return urlunsplit(parts._replace(scheme="postgresql+psycopg"))


def _int(name: str, default: int) -> int:
    raw = settings_registry.read_or(name, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None


def _bool(name: str, default: bool) -> bool:
    raw = settings_registry.read_or(name, "").lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _embedder() -> str:
    choice = settings_registry.read_or("AZAK_EMBEDDER", "auto")
    if choice not in EMBEDDER_CHOICES:
        raise SettingsError(f"AZAK_EMBEDDER must be one of {', '.join(EMBEDDER_CHOICES)}, got {choice!r}")
    return choice


# Seconds each cached route keeps its response; AZAK_CACHE_TTLS="prices=60,news=30" overrides.
DEFAULT_CACHE_TTLS = {
    "stocks": 60, "stock": 30, "prices": 60, "news": 30, "article": 60, "dashboard": 30, "me": 30,
    "evaluations": 300,  # evaluations change when the nightly evaluation runs
    "analysis": 900,  # analyses are expensive and change slowly (the legacy system's 15 minutes)
    "similar": 300, "search": 60,  # neighbours change when a day is embedded; searches embed the query
    "quote": 30, "market": 60,  # quotes are snapshotted every 5 minutes in the session
}


def _cache_ttls(raw: str) -> dict[str, int]:
    ttls = dict(DEFAULT_CACHE_TTLS)
    for part in filter(None, (p.strip() for p in raw.split(","))):
        name, _, value = part.partition("=")
        name = name.strip()
        if name not in DEFAULT_CACHE_TTLS or not value.strip().isdigit():
            raise SettingsError(
                f"AZAK_CACHE_TTLS: {part!r} is not <route>=<seconds> with route one of "
                f"{', '.join(DEFAULT_CACHE_TTLS)}")
        ttls[name] = int(value)
    return ttls


# Secrets that are public knowledge: the placeholders of .env.example and the usual suspects.
PLACEHOLDER_SECRETS = ("change-me", "changeme", "change_me", "example", "placeholder", "secret", "password",
                       "replace-me", "your-", "xxxxxxxx", "12345678", "test-secret")
MIN_SECRET_BITS = 128.0


def secret_problem(secret: str) -> str | None:
    """Why ``secret`` cannot sign production tokens, or None. Entropy is estimated from the secret's
    own character frequencies (a lower bound for a random string, an overestimate for words), so
    the placeholder check comes first."""
    lowered = secret.lower()
    if len(secret) < 32:
        return "must be at least 32 characters"
    if any(word in lowered for word in PLACEHOLDER_SECRETS):
        return "is a placeholder (it contains a well-known word such as 'change-me' or 'secret')"
    steps = sum(abs(ord(a) - ord(b)) <= 1 for a, b in itertools.pairwise(secret))
    if steps > len(secret) // 2:
        return "is too predictable (runs of repeated or consecutive characters)"
    counts = Counter(secret)
    bits = max(0.0, -sum(n * math.log2(n / len(secret)) for n in counts.values()))
    if bits < MIN_SECRET_BITS:
        return f"is too predictable ({bits:.0f} bits of entropy estimated, at least {MIN_SECRET_BITS:.0f} needed)"
    return None


def _networks(raw: str) -> tuple[str, ...]:
    networks = []
    for part in filter(None, (p.strip() for p in raw.split(","))):
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise SettingsError(f"AZAK_TRUSTED_PROXIES: {part!r} is not an IP address or network (CIDR)") from None
    return tuple(networks)


def _origins(raw: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    if "*" in origins:
        raise SettingsError("AZAK_CORS_ORIGINS: '*' cannot be used: the API accepts credentials (the session "
                            "cookie), so name each origin, e.g. https://app.example.com")
    for origin in origins:
        if not origin.startswith(("https://", "http://")) or origin.count("/") != 2:
            raise SettingsError(f"AZAK_CORS_ORIGINS: {origin!r} is not an origin (scheme://host[:port])")
    return origins


def _llm_egress() -> EgressPolicy:
    try:
        return EgressPolicy.from_environ(os.environ)
    except EgressSettingError as exc:
        raise SettingsError(str(exc)) from None


@dataclass(frozen=True)
class Settings:
    database_url: str
    environment: str = "development"
    redis_url: str | None = None
    milvus_uri: str | None = None
    jwt_secret: str = ""
    cookie_secure: bool = False
    token_ttl_seconds: int = 24 * 3600
    login_attempts_per_minute: int = 10  # per account (e-mail), any address
    login_attempts_per_address_per_minute: int = 30  # per client address, any account
    preview_reads_per_address_per_minute: int = 60  # public preview pages per client address, any link
    trusted_proxies: tuple[str, ...] = ()  # addresses or CIDR networks whose X-Forwarded-For is believed
    password_hash_concurrency: int = 2  # argon2 verifications at once (64 MiB each), off the event loop
    cache_memory_bytes: int = 64 * 1024 * 1024  # the in-memory response cache's budget
    cache_ttls: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_CACHE_TTLS))
    auto_migrate: bool = True
    auth_cache_seconds: float = 5.0
    auth_cache_entries: int = 10_000  # users, revocations and verified tokens each, per process (LRU out)
    max_body_bytes: int = 64 * 1024
    cors_origins: tuple[str, ...] = ()
    dagster_url: str | None = None  # Dagit's base URL: on-demand runs go through its GraphQL API
    analysis_refreshes_per_day: int = 3  # per user (admins are not limited)
    # the longest a query may run before PostgreSQL cancels it (the request is then a 503); 0 = no limit
    statement_timeout_ms: int = 5000
    milvus_clients: int = 4  # Milvus searches at once per process, one client each
    # the embedder search queries are embedded with: the pipelines' (AZAK_EMBEDDER, OpenAI settings)
    embedder: str = "auto"
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    openai_embedding_model: str = "text-embedding-3-small"
    # where the model registry may send keys (AZAK_LLM_KEY_VARIABLES, AZAK_LLM_BASE_URL_HOSTS,
    # AZAK_LLM_PRIVATE_NETWORKS): checked when a model is saved; the pipelines check again
    llm_egress: EgressPolicy = field(default_factory=EgressPolicy)

    __repr__ = redacted_repr  # the JWT secret, keys and URL passwords never reach a log line

    def __post_init__(self) -> None:
        if "*" in self.cors_origins:  # settings built in code get the same refusal as the environment's
            _origins(",".join(self.cors_origins))

    @classmethod
    def from_env(cls) -> "Settings":
        raw_url = settings_registry.read_or("AZAK_DATABASE_URL", "")
        if not raw_url:
            raise SettingsError(
                "AZAK_DATABASE_URL is not set; start the API with `azak serve api` (which uses the "
                "embedded PostgreSQL) or set it to postgresql://user:password@host:port/database"
            )
        environment = settings_registry.read_or("AZAK_ENV", "development")
        if environment not in {"development", "production", "test"}:
            raise SettingsError(f"AZAK_ENV must be development, production or test, got {environment!r}")
        secret = settings_registry.read_or("AZAK_JWT_SECRET", "")
        if not secret:
            raise SettingsError(
                "AZAK_JWT_SECRET is not set; the `azak` commands generate one for development, "
                "production must provide its own (at least 32 characters)"
            )
        problem = secret_problem(secret) if environment == "production" else None
        if problem:
            raise SettingsError(f"AZAK_JWT_SECRET {problem}; generate one with "
                                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`")
        return cls(
            database_url=_async_url(raw_url),
            environment=environment,
            redis_url=settings_registry.read("AZAK_REDIS_URL"),
            milvus_uri=settings_registry.read("AZAK_MILVUS_URI"),
            jwt_secret=secret,
            cookie_secure=_bool("AZAK_COOKIE_SECURE", environment == "production"),
            token_ttl_seconds=_int("AZAK_TOKEN_TTL_SECONDS", 24 * 3600),
            login_attempts_per_minute=_int("AZAK_LOGIN_ATTEMPTS_PER_MINUTE", 10),
            login_attempts_per_address_per_minute=_int("AZAK_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE", 30),
            preview_reads_per_address_per_minute=max(1, _int("AZAK_PREVIEW_READS_PER_ADDRESS_PER_MINUTE", 60)),
            trusted_proxies=_networks(settings_registry.read_or("AZAK_TRUSTED_PROXIES", "")),
            password_hash_concurrency=max(1, _int("AZAK_PASSWORD_HASH_CONCURRENCY", 2)),
            cache_memory_bytes=_int("AZAK_CACHE_MEMORY_BYTES", 64 * 1024 * 1024),
            cache_ttls=_cache_ttls(settings_registry.read_or("AZAK_CACHE_TTLS", "")),
            auto_migrate=_bool("AZAK_AUTO_MIGRATE", True),
            auth_cache_seconds=float(_int("AZAK_AUTH_CACHE_SECONDS", 5)),
            auth_cache_entries=max(1, _int("AZAK_AUTH_CACHE_ENTRIES", 10_000)),
            max_body_bytes=_int("AZAK_MAX_BODY_BYTES", 64 * 1024),
            cors_origins=_origins(settings_registry.read_or("AZAK_CORS_ORIGINS", "")),
            dagster_url=(settings_registry.read_or("AZAK_DAGSTER_URL", "").rstrip("/") or None),
            analysis_refreshes_per_day=_int("AZAK_ANALYSIS_REFRESHES_PER_DAY", 3),
            statement_timeout_ms=max(0, _int("AZAK_API_STATEMENT_TIMEOUT_MS", 5000)),
            milvus_clients=max(1, _int("AZAK_MILVUS_CLIENTS", 4)),
            embedder=_embedder(),
            openai_api_key=(settings_registry.read_or("AZAK_OPENAI_API_KEY", "")
                            or os.environ.get("OPENAI_API_KEY", "").strip() or None),
            openai_base_url=settings_registry.read("AZAK_OPENAI_BASE_URL"),
            openai_embedding_model=settings_registry.read_or(
            "AZAK_OPENAI_EMBEDDING_MODEL", "text-embedding-3-small"),
            llm_egress=_llm_egress(),
        )
