"""Production settings: secrets only from the environment, and ``manage.py check --deploy`` clean
with a production-like environment (DEBUG off, a random key, a host, a database URL)."""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")


def manage(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``manage.py`` in a fresh process with only ``env`` (and PATH) in its environment."""
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "settings.base",
        **env,
    }
    return subprocess.run(
        [sys.executable, MANAGE, *args],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def production(tmp_path: Path) -> dict[str, str]:
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "replay.example.com",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }


def test_check_deploy_is_clean_in_production(tmp_path, production):
    done = manage(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **production)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues" in done.stdout
    assert "WARNING" not in done.stdout + done.stderr


@pytest.mark.parametrize("secret_key", [None, "", "django-insecure-replay-issues-development-only"])
def test_production_refuses_to_start_without_a_secret_key_of_its_own(
    tmp_path, production, secret_key
):
    if secret_key is None:
        del production["SECRET_KEY"]
    else:
        production["SECRET_KEY"] = secret_key
    done = manage(tmp_path, "check", **production)
    assert done.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set in the environment" in done.stderr


def test_plain_http_in_production_is_all_that_check_deploy_warns_about(tmp_path, production):
    """docker-compose.yml's localhost default (HTTPS_ONLY=false): the only warnings are the
    HTTPS settings to turn on behind TLS."""
    done = manage(tmp_path, "check", "--deploy", **production, HTTPS_ONLY="false")
    warned = set(re.findall(r"\(security\.(W\d+)\)", done.stdout + done.stderr))
    assert warned == {"W004", "W008", "W012", "W016"}, done.stderr


SHOW_SETTINGS = """
import json, django
django.setup()
from django.conf import settings
names = ["DEBUG", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
         "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER"]
print(json.dumps({name: getattr(settings, name) for name in names}))
"""


def settings_of(tmp_path: Path, **env: str) -> dict:
    environment = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "settings.base", **env}
    done = subprocess.run(
        [sys.executable, "-c", SHOW_SETTINGS],
        cwd=settings.BASE_DIR,
        env={"HOME": str(tmp_path), **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_development_defaults_stay_plain_http(tmp_path):
    """``make run`` sets none of these: DEBUG on, plain http, no HSTS."""
    assert settings_of(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}") == {
        "DEBUG": True,
        "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_PROXY_SSL_HEADER": None,
    }


def test_production_behind_a_tls_proxy(tmp_path, production):
    assert settings_of(tmp_path, **production, TRUST_X_FORWARDED_PROTO="true") == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 365 * 24 * 3600,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }


@pytest.fixture
def https_only(settings) -> Client:
    """The redirect to https that production has by default (settings as base.py makes them)."""
    settings.SECURE_SSL_REDIRECT = True
    return Client()


def test_pages_redirect_to_https_but_probes_and_envelopes_do_not(https_only, db):
    login = https_only.get("/accounts/login/")
    assert (login.status_code, login["Location"]) == (301, "https://testserver/accounts/login/")
    assert https_only.get("/healthz").status_code == 200
    assert https_only.get("/metrics").status_code == 200
    # Not redirected: the endpoint itself answers (no key: 401).
    assert https_only.post("/api/42/envelope/", b"{}", content_type="text/plain").status_code == 401
    assert https_only.get("/accounts/login/", secure=True).status_code == 200


def test_a_proxys_x_forwarded_proto_counts_only_when_trusted(https_only, settings):
    forwarded = {"X-Forwarded-Proto": "https"}
    assert https_only.get("/accounts/login/", headers=forwarded).status_code == 301
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    assert Client().get("/accounts/login/", headers=forwarded).status_code == 200
