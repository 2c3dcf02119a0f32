"""Every ``AZAK_*`` variable in one registry: name, default, meaning and who reads it.

The code reads its settings through :func:`read` (a name missing here is a programming error, not
an unset variable), ``docs/configuration.md`` is generated from :data:`VARIABLES`
(``python -m azak_core.settings_registry > docs/configuration.md``), and ``tests/test_docs.py``
checks both ways that every variable the code names is registered and every registered one is read.

A value is read stripped of surrounding spaces; an empty value counts as unset.
"""

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass

# who reads a variable; "azak" is the command (demo, serve and the runtime it sets up)
COMPONENTS = ("azak", "api", "pipelines", "dbt", "tests", "benchmarks")


@dataclass(frozen=True)
class Variable:
    name: str
    default: str  # as a person reads it: a value, or what happens when unset
    meaning: str
    components: tuple[str, ...]
    section: str
    secret: bool = False


def _section(title: str, *rows: tuple[str, str, str, str] | tuple[str, str, str, str, bool]) -> tuple[Variable, ...]:
    return tuple(Variable(name, default, meaning, tuple(components.split()), title, *secret)
                 for name, default, meaning, components, *secret in rows)


VARIABLES: tuple[Variable, ...] = (
    *_section(
        "Databases and local services",
        ("AZAK_DATABASE_URL", "embedded server, database `azak`",
         "PostgreSQL for the warehouse (`raw`, `staging`, `marts`, `ops`) and the API (`app`)",
         "azak api pipelines tests benchmarks", True),
        ("AZAK_DAGSTER_DATABASE_URL", "same server, database `<name>_dagster`",
         "Dagster's run, event and schedule storage", "azak", True),
        ("AZAK_HOME", "`./.azak`",
         "state: embedded PostgreSQL data, Dagster home, logs, generated secrets, calendar overrides",
         "azak pipelines"),
        ("AZAK_PG_PORT", "`54329`", "port of the embedded PostgreSQL (127.0.0.1 only, password auth)", "azak"),
        ("AZAK_MILVUS_URI", "the embedded milvus-lite server `azak` starts",
         "Milvus endpoint (docker-compose: Milvus standalone); checked by `/health`", "azak api pipelines"),
        ("AZAK_MILVUS_PORT", "`19530`",
         "port of the embedded Milvus (127.0.0.1 only, data under `.azak/milvus`)", "azak"),
        ("AZAK_REDIS_URL", "unset (in-memory cache)", "Redis for the API response cache", "api tests"),
        ("AZAK_DBT_HOST", "`127.0.0.1`", "dbt's profile: set from `AZAK_DATABASE_URL` by the pipelines", "dbt"),
        ("AZAK_DBT_PORT", "`5432`", "dbt's profile: set from `AZAK_DATABASE_URL` by the pipelines", "dbt"),
        ("AZAK_DBT_USER", "`postgres`", "dbt's profile: set from `AZAK_DATABASE_URL` by the pipelines", "dbt"),
        ("AZAK_DBT_PASSWORD", "empty", "dbt's profile: set from `AZAK_DATABASE_URL` by the pipelines", "dbt", True),
        ("AZAK_DBT_DBNAME", "`azak`", "dbt's profile: set from `AZAK_DATABASE_URL` by the pipelines", "dbt"),
    ),
    *_section(
        "Serving",
        ("AZAK_DAGIT_PORT", "`3000`", "Dagit (the Dagster webserver)", "azak"),
        ("AZAK_API_PORT", "`8000`", "the API", "azak"),
        ("AZAK_BIND_HOST", "`127.0.0.1`",
         "address the API listens on (`azak serve` says where Dagit stays when it is not loopback)", "azak"),
        ("AZAK_DAGIT_BIND_HOST", "`127.0.0.1`",
         "address Dagit listens on; never taken from `AZAK_BIND_HOST` (Dagit has no login)", "azak"),
        ("AZAK_DAGSTER_URL", "Dagit's URL under `azak serve`",
         "where the API launches on-demand runs and `azak backfill` submits backfills (GraphQL)", "api azak"),
        ("AZAK_EXECUTOR", "`in_process`", "`celery`: every run's steps go to Celery workers (`azak worker`)",
         "pipelines"),
        ("AZAK_CELERY_BROKER", "`amqp://guest:guest@127.0.0.1:5672//`",
         "the Celery broker (RabbitMQ); results come back over it (`rpc://`)", "pipelines", True),
        ("AZAK_CELERY_QUEUE", "`dagster`", "the queue runs submit to and workers listen on", "pipelines"),
        ("AZAK_GIT_URL", "unset (links go to local files)",
         "repository URL that Dagit's code links point into", "pipelines"),
        ("AZAK_GIT_BRANCH", "`main`", "branch of `AZAK_GIT_URL` the code links use", "pipelines"),
        ("AZAK_POOL_POLL_SECONDS", "`5`",
         "how often a command waiting for a concurrency-pool slot looks again (and reaps dead runs)", "azak"),
        ("AZAK_DEAD_RUN_CHECK_SECONDS", "`60`",
         "interval of the daemon's `dead_runs_sensor`: the detection window of a CLI run whose process died",
         "pipelines"),
    ),
    *_section(
        "The API",
        ("AZAK_ENV", "`development`",
         "`development`, `production` or `test`; `production` refuses to start the API with a short, "
         "placeholder or predictable `AZAK_JWT_SECRET`", "api"),
        ("AZAK_JWT_SECRET", "generated into `.azak/jwt-secret` by `azak`", "HS256 signing key for API tokens",
         "azak api", True),
        ("AZAK_CACHE_TTLS", "per route, see the [API guide](api-guide.md#the-api)",
         "per-route cache seconds, e.g. `prices=60,news=30` (0 disables)", "api"),
        ("AZAK_TOKEN_TTL_SECONDS", "`86400`", "lifetime of a login token and its cookie", "api"),
        ("AZAK_COOKIE_SECURE", "true in production", "mark the session cookie Secure", "api"),
        ("AZAK_LOGIN_ATTEMPTS_PER_MINUTE", "`10`",
         "login attempts per account (e-mail), from any address, in a sliding minute before 429", "api"),
        ("AZAK_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE", "`30`",
         "login attempts per client address, for any account, in a sliding minute before 429", "api"),
        ("AZAK_PREVIEW_READS_PER_ADDRESS_PER_MINUTE", "`60`",
         "public preview page reads per client address, for any link, in a sliding minute before 429", "api"),
        ("AZAK_TRUSTED_PROXIES", "unset",
         "addresses/CIDRs of your reverse proxies; only their `X-Forwarded-For` names the client address", "api"),
        ("AZAK_PASSWORD_HASH_CONCURRENCY", "`2`", "argon2 checks (64 MiB each) run at once, in worker threads",
         "api"),
        ("AZAK_CACHE_MEMORY_BYTES", "`67108864`",
         "budget of the in-memory response cache (least recently used answers go first)", "api"),
        ("AZAK_AUTH_CACHE_SECONDS", "`5`",
         "how long an instance trusts its copy of a user's role and of the revocation list", "api"),
        ("AZAK_AUTH_CACHE_ENTRIES", "`10000`",
         "entries each of the per-process caches of users, revocations and verified tokens holds (least "
         "recently used out first)", "api"),
        ("AZAK_MAX_BODY_BYTES", "`65536`", "larger request bodies are refused with 413", "api"),
        ("AZAK_CORS_ORIGINS", "unset (no CORS)",
         "comma-separated origins allowed to call the API from a browser (with the session cookie); "
         "`*` is refused", "api"),
        ("AZAK_AUTO_MIGRATE", "`true`", "apply pending `app` migrations when the API starts", "api"),
        ("AZAK_API_STATEMENT_TIMEOUT_MS", "`5000`",
         "the API's connections cancel any statement after this many milliseconds (0: none); "
         "the request is a 503 naming the setting", "api"),
        ("AZAK_MILVUS_CLIENTS", "`4`", "Milvus clients of one API process, so searches run side by side", "api"),
        ("AZAK_ANALYSIS_REFRESHES_PER_DAY", "`3`",
         "on-demand report refreshes per user and KST day (admins unlimited; 0: admins only): slots 1..N taken "
         "atomically before the launch (`app.quota_slots`), given back when the launch fails; on-demand "
         "predictions of one article are to draw on the same quota (`azak_api/quota.py`)", "api"),
    ),
    *_section(
        "Embeddings",
        ("AZAK_EMBEDDER", "`auto`",
         "`auto` (OpenAI when a key is set, offline otherwise), `offline` (Kiwi morphemes + n-grams, no key, "
         "no download) or `openai`; the pipelines and the API's search must agree", "azak api pipelines"),
        ("AZAK_OPENAI_API_KEY", "unset (`OPENAI_API_KEY` is read too)",
         "OpenAI key for `text-embedding-3-small` and for OpenAI models of the registry",
         "azak api pipelines", True),
        ("AZAK_OPENAI_BASE_URL", "OpenAI", "any OpenAI-compatible embeddings server", "azak api pipelines"),
        ("AZAK_OPENAI_EMBEDDING_MODEL", "`text-embedding-3-small`",
         "the OpenAI embedding model (its name is the vectors' version)", "azak api pipelines"),
    ),
    *_section(
        "Sources",
        ("AZAK_LINK_WORKERS_FROM", "`20000`",
         "articles in one `news_stock_matches` materialization (an import or backfill of many days) from which "
         "the links are computed in spawned worker processes, one per core, while the run writes them; `0`: "
         "always in the run's process", "pipelines"),
        ("AZAK_MODEL_BACKFILL_DAYS", "`30`",
         "calendar days a model's (or an A/B pair's) onboarding backfill covers when the request gives no window: "
         "the days up to the last priced session (on the demo, the sample's last month)", "pipelines"),
        ("AZAK_ONBOARDING_HISTORY_DAYS", "`730` (two years)",
         "calendar days of daily prices a stock's onboarding run fills when it joins the watch-list (the "
         "days after its latest stored bar only; history imported from files stays)", "pipelines"),
        ("AZAK_SAMPLE_DATA_DIR", "bundled `azak_pipelines/sample_data`",
         "the offline dataset replayed when credentials are absent", "pipelines"),
        ("AZAK_SOURCE_MODE", "`auto`",
         "`auto` (live when a source's credentials are set, replay otherwise), `live` or `replay`, "
         "for every source", "pipelines"),
        ("AZAK_KIS_MODE", "`AZAK_SOURCE_MODE`", "the same, for KIS only", "pipelines"),
        ("AZAK_KIS_APP_KEY", "unset (replay)", "KIS OpenAPI app key", "pipelines", True),
        ("AZAK_KIS_APP_SECRET", "unset (replay)", "KIS OpenAPI app secret", "pipelines", True),
        ("AZAK_KIS_APP_KEYS", "unset (one key)",
         "more app keys of the same account, `key:secret` pairs separated by commas: each has its own "
         "token and its own `AZAK_KIS_RATE_LIMIT`, and calls are dealt to the keys in turn", "pipelines", True),
        ("AZAK_KIS_ENV", "`paper`",
         "`real` (openapi.koreainvestment.com:9443) or `paper` (openapivts…:29443)", "pipelines"),
        ("AZAK_KIS_BASE_URL", "the host of `AZAK_KIS_ENV`",
         "override the KIS host (a proxy or a local KIS server in tests)", "pipelines"),
        ("AZAK_KIS_RATE_LIMIT", "19 (real), 2 (paper)",
         "requests per second per app key, shared by every process", "pipelines"),
        ("AZAK_KIS_CONCURRENCY", "`8`", "requests in flight per app key in a process", "pipelines"),
        ("AZAK_PRICE_HEAL_LOOKBACK_DAYS", "`10`",
         "calendar days the nightly healer searches for missing price partitions", "pipelines"),
        ("AZAK_RETENTION_MINUTE_PRICES_MONTHS", "`12`",
         "whole months of one-minute bars kept before the current month; older monthly children of "
         "`raw.minute_prices` are dropped nightly (at least 1)", "pipelines"),
        ("AZAK_RETENTION_QUOTE_SNAPSHOTS_MONTHS", "`3`",
         "the same for `raw.quote_snapshots` (at least 1)", "pipelines"),
        ("AZAK_LISTING_MODE", "`replay`",
         "`live` refreshes `raw.stocks` and `computed.stock_history` from the KIS master files "
         "(public downloads, no key); the `listing_source` resource's `base_url` and `replay_dir` can be "
         "overridden per run", "pipelines"),
        ("AZAK_LISTING_BASE_URL", "the KIS master download host", "where the master files are downloaded from",
         "pipelines"),
        ("AZAK_NAVER_MODE", "`replay`",
         "Naver Finance needs no credentials, so it reads the live site only when set to `live` "
         "(or `AZAK_SOURCE_MODE=live`)", "pipelines"),
        ("AZAK_RSS_MODE", "`replay`", "the same for the Hankyung and Maeil RSS feeds", "pipelines"),
        ("AZAK_DART_MODE", "`AZAK_SOURCE_MODE`", "the source mode for OpenDART only", "pipelines"),
        ("AZAK_DART_API_KEY", "unset (replay)", "OpenDART key", "pipelines", True),
        ("AZAK_REDDIT_MODE", "`AZAK_SOURCE_MODE`", "the source mode for Reddit only", "pipelines"),
        ("AZAK_REDDIT_CLIENT_ID", "unset (replay)", "Reddit app client id (PRAW)", "pipelines", True),
        ("AZAK_REDDIT_CLIENT_SECRET", "unset (replay)", "Reddit app client secret (PRAW)", "pipelines", True),
        ("AZAK_REDDIT_USER_AGENT", "`Azak/0.1 (Korean market research platform)`",
         "Reddit asks for a descriptive agent", "pipelines"),
        ("AZAK_REDDIT_BASE_URL", "Reddit's own hosts", "override both Reddit hosts (the token and the "
         "listings: the local server of `azak simulate` and of tests)", "pipelines"),
        ("AZAK_REDDIT_SUBREDDITS", "`KoreaStocks,stocks,investing`", "comma-separated subreddits", "pipelines"),
        ("AZAK_REDDIT_KEYWORDS", "Samsung,SK Hynix,…", "comma-separated keywords a post must contain",
         "pipelines"),
        ("AZAK_REDDIT_MIN_SCORE", "`10`", "posts below this score are left out", "pipelines"),
        ("AZAK_REDDIT_MIN_COMMENTS", "`2`", "posts with fewer comments are left out", "pipelines"),
        ("AZAK_REDDIT_LOOKBACK_HOURS", "`24`", "posts older than this are left out", "pipelines"),
        ("AZAK_NAVER_BASE_URL", "finance.naver.com", "override the host (a proxy, or the local server in tests)",
         "pipelines"),
        ("AZAK_DART_BASE_URL", "opendart.fss.or.kr", "override the host (a proxy, or the local server in tests)",
         "pipelines"),
        ("AZAK_HANKYUNG_RSS_URL", "hankyung.com/feed/finance", "the Hankyung feed", "pipelines"),
        ("AZAK_MAEIL_RSS_URL", "mk.co.kr/rss/50200011/", "the Maeil feed", "pipelines"),
        ("AZAK_NAVER_MARKET_PAGES", "`5`", "market-list pages read per day", "pipelines"),
        ("AZAK_NAVER_STOCK_PAGES", "`2`", "pages read per stock", "pipelines"),
        ("AZAK_NEWS_HOST_INTERVAL", "`1.0`", "seconds between two requests to the same host", "pipelines"),
        ("AZAK_NEWS_FETCH_BODIES", "`false`",
         "also store full article text (Naver articles); never served by the API", "pipelines"),
    ),
    *_section(
        "Models",
        ("AZAK_LLM_BUDGET_USD", "unset (no cap)",
         "most one prediction run may spend on provider calls; the rest is skipped with the reason", "pipelines"),
        ("AZAK_OPENROUTER_API_KEY", "unset",
         "OpenRouter key (a model may name another variable of `AZAK_LLM_KEY_VARIABLES` with `--api-key-env`)",
         "pipelines", True),
        ("AZAK_LLM_KEY_VARIABLES", "`AZAK_OPENAI_API_KEY,AZAK_OPENROUTER_API_KEY`",
         "the only variables a model may read its key from (API, CLI and pipelines; others are refused, "
         "never read)", "azak api pipelines"),
        ("AZAK_LLM_BASE_URL_HOSTS", "`api.openai.com,openrouter.ai`",
         "the hosts a model that sends a key may call (https only; plain http only to a loopback address)",
         "azak api pipelines"),
        ("AZAK_LLM_PRIVATE_NETWORKS", "empty (loopback only, for keyless models)",
         "CIDR networks models may reach besides public addresses of the listed hosts, e.g. `10.0.0.0/8` for a "
         "vLLM server on the LAN; keyed models reach loopback only if listed here; link-local and metadata "
         "addresses are refused always", "azak api pipelines"),
    ),
    *_section(
        "Telegram",
        ("AZAK_TELEGRAM_BOT_TOKEN", "unset (nothing sent; the outbox still fills)",
         "the bot's token from @BotFather", "azak pipelines", True),
        ("AZAK_TELEGRAM_API_URL", "`https://api.telegram.org`",
         "the Bot API server's root (requests go to `{root}/bot{token}/{method}`): a self-hosted Bot API server, "
         "or the local one in the tests",
         "azak pipelines"),
        ("AZAK_TELEGRAM_ADMIN_CHAT_ID", "unset", "chat for failed runs and failing checks", "azak pipelines"),
        ("AZAK_TELEGRAM_DEMO_CHAT_ID", "`1` (a placeholder chat)",
         "the chat `azak demo` subscribes to the sample watch-list's first stocks", "azak"),
        ("AZAK_PUBLIC_URL", "`http://127.0.0.1:8000/api`",
         "where messages link: `{url}/stocks/{code}`, `{url}/news/{id}` (a frontend's base, or the API's)",
         "azak pipelines"),
        ("AZAK_DAGIT_URL", "unset", "links from admin messages to the run in Dagit", "pipelines"),
    ),
    *_section(
        "Tests and benchmarks",
        ("AZAK_TEST_DB_PREFIX", "`azak_test`", "prefix of the throw-away databases a test session creates",
         "tests"),
        ("AZAK_REQUIRE_REDIS", "unset", "`1`: fail instead of skipping the Redis tests (CI sets it)", "tests"),
        ("AZAK_REQUIRE_RABBITMQ", "unset", "`1`: fail instead of skipping the Celery tests (CI sets it)",
         "tests"),
        ("AZAK_UPDATE_SNAPSHOTS", "unset", "`1`: rewrite the snapshot files instead of comparing with them",
         "tests"),
        ("AZAK_BENCH_PAYLOAD", "set by `benchmarks/api.py`", "the document the bare comparison app serves",
         "benchmarks"),
        ("AZAK_BENCH_SERVER", "`postgresql://postgres@127.0.0.1:5432`",
         "the PostgreSQL server `benchmarks/marts.py` creates its databases on", "benchmarks"),
    ),
)

REGISTRY: Mapping[str, Variable] = {v.name: v for v in VARIABLES}


class UnregisteredVariable(KeyError):
    """A setting read by a name the registry does not list: add it to ``VARIABLES``."""


def variable(name: str) -> Variable:
    """The registry's entry for ``name``; an unknown name is an error, never an unset variable."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnregisteredVariable(f"{name} is not in azak_core/settings_registry.py: register it "
                                   "(name, default, meaning, who reads it)") from None


def read(name: str, environ: Mapping[str, str] | None = None) -> str | None:
    """The variable's value, stripped; ``None`` when unset or empty."""
    variable(name)
    value = (os.environ if environ is None else environ).get(name, "").strip()
    return value or None


def read_or(name: str, default: str, environ: Mapping[str, str] | None = None) -> str:
    """The variable's value, or ``default`` when unset or empty."""
    return read(name, environ) or default


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown() -> str:
    """``docs/configuration.md``: one table per section, in the registry's order."""
    lines = [
        "# Configuration",
        "",
        "<!-- generated by `python -m azak_core.settings_registry > docs/configuration.md`; edit",
        "     azak_core/settings_registry.py instead (tests/test_docs.py checks this page is current) -->",
        "",
        "Every setting is an environment variable, and every variable is listed in one registry,",
        "`azak_core/settings_registry.py`, that the code reads them through; this page is generated from it.",
        "The pipelines' resources declare each as a typed field (Dagit shows them under each resource, by",
        "variable name, never by value, and a run's config can override them); the variables are read when",
        "the code location loads (restart or reload it after a change) and resolved when a run starts. The",
        "API and the CLI read them when they start. A value is stripped of spaces; an empty value counts as",
        "unset. Secrets (marked 🔒) come from the environment only and are never printed.",
        "",
        "*Read by*: `azak` is the command and the runtime it sets up (demo, serve, worker); `dbt` is",
        "dbt's profile, which the pipelines fill from `AZAK_DATABASE_URL`.",
    ]
    for section in dict.fromkeys(v.section for v in VARIABLES):
        lines += ["", f"## {section}", "", "| variable | default | meaning | read by |", "|---|---|---|---|"]
        for v in VARIABLES:
            if v.section == section:
                lock = " 🔒" if v.secret else ""
                lines.append(f"| `{v.name}`{lock} | {_cell(v.default)} | {_cell(v.meaning)} | "
                             f"{', '.join(v.components)} |")
    lines += ["", "`DAGSTER_HOME` and `DAGSTER_PG_URL` are derived from the above by `azak`; set them yourself",
              "only outside `azak`.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(markdown())
