from __future__ import annotations

from pathlib import Path

import pytest

from core.config import Settings, TokenKind, load_settings
from core.config.clouds import CLOUDS
from core.errors import ConfigError

TOKEN = "atl-token-do-not-print"
ORG_KEY = "org-key-do-not-print"
FERNET = "fernet-key-do-not-print"
DB_PASSWORD = "db-password-do-not-print"


def load(**env: str) -> Settings:
    return load_settings({f"ENTRA_SYNC_{k}": v for k, v in env.items()}, env_file=None)


def problem_fields(error: ConfigError) -> set[str]:
    return {p.field for p in error.problems}


def test_defaults_need_nothing_from_atlassian() -> None:
    settings = load()
    assert settings.database_url == "sqlite:///data/entra-sync.db"
    assert settings.secret_key is None
    assert settings.atlassian_site is None
    assert settings.atlassian_api_url == "https://api.atlassian.com"
    assert settings.cloud == "global"
    assert settings.login_url == "https://login.microsoftonline.com"
    assert settings.graph_url == "https://graph.microsoft.com"
    assert settings.assets_requests_per_minute == 900
    assert settings.write_concurrency == 4
    assert settings.http_timeout == 30
    assert settings.preview_ttl_hours == 24
    assert settings.allow_self_approval is False
    assert settings.has_org_admin is False
    assert settings.atlassian_token_kind is TokenKind.CLASSIC
    assert settings == Settings()


def test_reads_and_normalises_every_variable() -> None:
    settings = load(
        DATABASE_URL="postgresql://sync@db.example/sync",
        SECRET_KEY=FERNET,
        ATLASSIAN_SITE="https://example.atlassian.net/",
        ATLASSIAN_EMAIL="bot@example.com",
        ATLASSIAN_API_TOKEN=TOKEN,
        ATLASSIAN_ORG_ID="org-1",
        ATLASSIAN_ORG_API_KEY=ORG_KEY,
        ATLASSIAN_API_URL="https://api.example.com/",
        ASSETS_RATE="600",
        WRITE_CONCURRENCY="8",
        HTTP_TIMEOUT="12.5",
        PREVIEW_TTL_HOURS="48",
        ALLOW_SELF_APPROVAL="yes",
    )
    assert settings.database_url == "postgresql://sync@db.example/sync"
    assert settings.secret_key == FERNET
    assert settings.atlassian_site == "https://example.atlassian.net"
    assert settings.atlassian_email == "bot@example.com"
    assert settings.atlassian_api_token == TOKEN
    assert (settings.atlassian_org_id, settings.atlassian_org_api_key) == ("org-1", ORG_KEY)
    assert settings.has_org_admin
    assert settings.atlassian_api_url == "https://api.example.com"
    assert settings.assets_requests_per_minute == 600
    assert settings.write_concurrency == 8
    assert settings.http_timeout == 12.5
    assert settings.preview_ttl_hours == 48
    assert settings.allow_self_approval is True


@pytest.mark.parametrize("name", sorted(CLOUDS))
def test_cloud_sets_both_endpoints(name: str) -> None:
    settings = load(CLOUD=name.upper())
    assert settings.cloud == name
    assert (settings.login_url, settings.graph_url) == (
        CLOUDS[name].login_url,
        CLOUDS[name].graph_url,
    )


def test_endpoint_overrides_win_over_the_cloud() -> None:
    settings = load(CLOUD="usgov", GRAPH_URL="http://127.0.0.1:8080/")
    assert settings.login_url == "https://login.microsoftonline.us"
    assert settings.graph_url == "http://127.0.0.1:8080"


def test_clouds_are_https_without_trailing_slash() -> None:
    for cloud in CLOUDS.values():
        for url in (cloud.login_url, cloud.graph_url):
            assert url.startswith("https://")
            assert not url.endswith("/")
    assert CLOUDS["dod"].graph_url == "https://dod-graph.microsoft.us"
    assert CLOUDS["china"].login_url == "https://login.chinacloudapi.cn"


def test_env_file_fills_gaps_and_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "ENTRA_SYNC_ATLASSIAN_EMAIL=file@example.com\n"
        "ENTRA_SYNC_WRITE_CONCURRENCY=2\n"
        "ENTRA_SYNC_ASSETS_RATE=100\n"
    )
    settings = load_settings({"ENTRA_SYNC_WRITE_CONCURRENCY": "6"}, env_file=env_file)
    assert settings.atlassian_email == "file@example.com"
    assert settings.write_concurrency == 6
    assert settings.assets_requests_per_minute == 100


def test_missing_env_file_is_fine(tmp_path: Path) -> None:
    assert load_settings({}, env_file=tmp_path / "absent.env") == Settings()


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENTRA_SYNC_CLOUD", "china")
    assert load_settings().graph_url == "https://microsoftgraph.chinacloudapi.cn"


def test_blank_values_count_as_unset() -> None:
    settings = load(SECRET_KEY="  ", ASSETS_RATE="", ATLASSIAN_SITE="")
    assert settings.secret_key is None
    assert settings.assets_requests_per_minute == 900
    assert settings.atlassian_site is None


def test_every_invalid_variable_is_reported_at_once() -> None:
    with pytest.raises(ConfigError) as caught:
        load(
            ATLASSIAN_SITE="http://example.atlassian.net",
            ATLASSIAN_API_URL="ftp://api.example.com",
            LOGIN_URL="not a url",
            GRAPH_URL="https://user:pw@graph.example.com",
            CLOUD="mars",
            ASSETS_RATE="10001",
            WRITE_CONCURRENCY="four",
            HTTP_TIMEOUT="0",
            ATLASSIAN_ORG_ID="org-1",
            ATLASSIAN_EMAIL="not-an-email",
            DATABASE_URL="::nonsense::",
            PREVIEW_TTL_HOURS="0",
            ALLOW_SELF_APPROVAL="maybe",
        )
    assert problem_fields(caught.value) == {
        "ENTRA_SYNC_ATLASSIAN_SITE",
        "ENTRA_SYNC_ATLASSIAN_API_URL",
        "ENTRA_SYNC_LOGIN_URL",
        "ENTRA_SYNC_GRAPH_URL",
        "ENTRA_SYNC_CLOUD",
        "ENTRA_SYNC_ASSETS_RATE",
        "ENTRA_SYNC_WRITE_CONCURRENCY",
        "ENTRA_SYNC_HTTP_TIMEOUT",
        "ENTRA_SYNC_ATLASSIAN_ORG_API_KEY",
        "ENTRA_SYNC_ATLASSIAN_EMAIL",
        "ENTRA_SYNC_DATABASE_URL",
        "ENTRA_SYNC_PREVIEW_TTL_HOURS",
        "ENTRA_SYNC_ALLOW_SELF_APPROVAL",
    }
    message = str(caught.value)
    assert "must be one of global, usgov, dod, china" in message
    assert "must be a whole number from 0 to 10000" in message
    assert "pw@" not in message
    assert "mars" not in message
    assert "must be a whole number from 1 to 720" in message
    assert "must be one of true, false, yes, no, 1, 0" in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ASSETS_RATE", "7.5"),
        ("ASSETS_RATE", "-1"),
        ("ASSETS_RATE", "1e3"),
        ("WRITE_CONCURRENCY", "33"),
        ("WRITE_CONCURRENCY", "+4"),
        ("HTTP_TIMEOUT", "abc"),
        ("HTTP_TIMEOUT", "nan"),
        ("HTTP_TIMEOUT", "601"),
        ("PREVIEW_TTL_HOURS", "721"),
        ("PREVIEW_TTL_HOURS", "1.5"),
        ("ALLOW_SELF_APPROVAL", "2"),
        ("ALLOW_SELF_APPROVAL", "on"),
    ],
)
def test_bad_numbers(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(**{name: value})
    assert problem_fields(caught.value) == {f"ENTRA_SYNC_{name}"}


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_plain_http_only_for_local_hosts(host: str) -> None:
    assert load(ATLASSIAN_SITE=f"http://{host}:9000").atlassian_site == f"http://{host}:9000"


def test_org_key_without_org_id_names_the_missing_id() -> None:
    with pytest.raises(ConfigError) as caught:
        load(ATLASSIAN_ORG_API_KEY=ORG_KEY)
    assert problem_fields(caught.value) == {"ENTRA_SYNC_ATLASSIAN_ORG_ID"}
    assert ORG_KEY not in str(caught.value)


def test_require_atlassian_lists_every_missing_variable() -> None:
    with pytest.raises(ConfigError) as caught:
        load(ATLASSIAN_EMAIL="bot@example.com").require_atlassian()
    assert problem_fields(caught.value) == {
        "ENTRA_SYNC_ATLASSIAN_SITE",
        "ENTRA_SYNC_ATLASSIAN_API_TOKEN",
    }
    with pytest.raises(ConfigError) as caught:
        load().require_atlassian()
    assert len(caught.value.problems) == 3


def test_require_atlassian_passes_when_complete() -> None:
    load(
        ATLASSIAN_SITE="https://example.atlassian.net",
        ATLASSIAN_EMAIL="bot@example.com",
        ATLASSIAN_API_TOKEN=TOKEN,
    ).require_atlassian()


def test_repr_and_str_never_show_secrets() -> None:
    settings = load(
        DATABASE_URL=f"postgresql://sync:{DB_PASSWORD}@db.example/sync",
        SECRET_KEY=FERNET,
        ATLASSIAN_API_TOKEN=TOKEN,
        ATLASSIAN_ORG_ID="org-1",
        ATLASSIAN_ORG_API_KEY=ORG_KEY,
    )
    for text in (repr(settings), str(settings), f"{settings}"):
        for secret in (TOKEN, ORG_KEY, FERNET, DB_PASSWORD):
            assert secret not in text
    assert "db.example" in repr(settings)
    assert "org-1" in repr(settings)


def test_invalid_secret_values_never_reach_the_message() -> None:
    with pytest.raises(ConfigError) as caught:
        load(ATLASSIAN_ORG_ID="org-1", ATLASSIAN_API_TOKEN=TOKEN, ASSETS_RATE=TOKEN)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("Yes", True),
        ("false", False),
        ("0", False),
        ("no", False),
        ("NO", False),
    ],
)
def test_allow_self_approval_words(value: str, expected: bool) -> None:
    """Booleans accept true/false, yes/no and 1/0 in any case."""
    assert load(ALLOW_SELF_APPROVAL=value).allow_self_approval is expected


def test_preview_ttl_bounds() -> None:
    """One hour to thirty days."""
    assert load(PREVIEW_TTL_HOURS="1").preview_ttl_hours == 1
    assert load(PREVIEW_TTL_HOURS="720").preview_ttl_hours == 720


@pytest.mark.parametrize(
    ("value", "expected"),
    [("classic", TokenKind.CLASSIC), ("scoped", TokenKind.SCOPED), ("Scoped", TokenKind.SCOPED)],
)
def test_token_kind_words(value: str, expected: TokenKind) -> None:
    """Which kind of API token ENTRA_SYNC_ATLASSIAN_API_TOKEN is; the case does not matter."""
    assert load(ATLASSIAN_TOKEN_KIND=value).atlassian_token_kind is expected


@pytest.mark.parametrize("value", ["oauth", "service-account", "true"])
def test_an_unknown_token_kind_names_the_variable_and_the_choices(value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load(ATLASSIAN_TOKEN_KIND=value)
    assert problem_fields(raised.value) == {"ENTRA_SYNC_ATLASSIAN_TOKEN_KIND"}
    assert "must be one of classic, scoped" in str(raised.value)
    assert "service account" in str(raised.value)


# -- the key, the container and the logs -------------------------------------------------


@pytest.mark.parametrize(
    "database_url",
    ["postgresql://sync@db.example/sync", "postgresql+psycopg://sync@db.example/sync"],
)
def test_a_shared_database_needs_the_key_variable(database_url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(DATABASE_URL=database_url)
    assert problem_fields(caught.value) == {"ENTRA_SYNC_SECRET_KEY"}
    assert "not a local SQLite file" in str(caught.value)
    assert load(DATABASE_URL=database_url, SECRET_KEY=FERNET).secret_key == FERNET


def test_a_container_needs_the_key_variable_even_for_sqlite() -> None:
    with pytest.raises(ConfigError) as caught:
        load(IN_CONTAINER="1")
    assert problem_fields(caught.value) == {"ENTRA_SYNC_SECRET_KEY"}
    assert "ENTRA_SYNC_IN_CONTAINER" in str(caught.value)
    settings = load(IN_CONTAINER="true", SECRET_KEY=FERNET)
    assert settings.in_container
    assert not settings.key_file_allowed


def test_a_local_sqlite_file_may_keep_its_key_in_a_file() -> None:
    assert load().key_file_allowed
    assert load(IN_CONTAINER="0").key_file_allowed


def test_the_missing_key_is_reported_with_every_other_problem() -> None:
    with pytest.raises(ConfigError) as caught:
        load(IN_CONTAINER="yes", LOG_LEVEL="loud", LOG_FORMAT="xml", CLOUD="mars")
    assert problem_fields(caught.value) == {
        "ENTRA_SYNC_SECRET_KEY",
        "ENTRA_SYNC_LOG_LEVEL",
        "ENTRA_SYNC_LOG_FORMAT",
        "ENTRA_SYNC_CLOUD",
    }
    message = str(caught.value)
    assert "must be one of debug, info, warning, error" in message
    assert "must be one of text, json" in message
    assert "loud" not in message and "xml" not in message


def test_log_settings_are_read_case_insensitively() -> None:
    settings = load(LOG_LEVEL="DEBUG", LOG_FORMAT="JSON")
    assert (settings.log_level, settings.log_format) == ("debug", "json")
    assert (load().log_level, load().log_format) == (None, "text")


def test_the_shown_database_url_hides_its_password() -> None:
    settings = load(
        DATABASE_URL=f"postgresql://sync:{DB_PASSWORD}@db.example/sync", SECRET_KEY=FERNET
    )
    assert DB_PASSWORD not in settings.shown_database_url
    assert settings.shown_database_url == "postgresql://sync:***@db.example/sync"
