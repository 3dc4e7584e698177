"""docker-compose.yml: what the production shape promises, read from the file itself; and
``docker compose config`` (or the older ``docker-compose config``) accepts it where installed."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

COMPOSE_FILE = Path(settings.BASE_DIR) / "docker-compose.yml"
REQUIRED_ENV = {"SECRET_KEY": "x", "POSTGRES_PASSWORD": "y", "MINIO_ROOT_PASSWORD": "z"}
LONG_RUNNING = (
    "kafka",
    "postgres",
    "minio",
    "proxy",
    "web",
    "ingest",
    "recordings",
    "occurrences",
    "errors",
    "alerts",
    "previews",
)
NGINX_CONF = Path(settings.BASE_DIR) / "deploy" / "nginx.conf"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


def test_every_image_is_pinned_to_an_exact_version(compose):
    """The images run what was tested: an exact release, never a moving tag (``latest``, or a
    major version alone, which moves with each minor release)."""
    exact = re.compile(r"\d+\.\d+(\.\d+)?(-[a-z0-9]+)?|RELEASE\.\d{4}-\d\d-\d\dT[\d-]+Z")
    images = {
        name: service["image"]
        for name, service in compose["services"].items()
        if "build" not in service and "image" in service
    }
    assert {"kafka", "postgres", "minio", "minio-setup", "proxy"} <= set(images)
    for name, image in images.items():
        repository, _, tag = image.rpartition(":")
        assert repository, f"{name}: {image} has no tag"
        assert exact.fullmatch(tag), f"{name}: {image} is not pinned to an exact version"


def test_the_services_of_the_production_shape(compose):
    services = compose["services"]
    assert set(services) == {*LONG_RUNNING, "minio-setup", "setup"}
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["minio"]["image"].startswith("minio/minio:")
    assert services["recordings"]["deploy"]["replicas"] == 2
    assert "consume_recordings" in services["recordings"]["command"]
    assert "consume_occurrences" in services["occurrences"]["command"]
    assert "consume_replay_events" in services["errors"]["command"]
    assert "gunicorn" in Path(settings.BASE_DIR, "Dockerfile").read_text()


def test_every_long_running_service_has_a_healthcheck_and_waits_for_what_it_needs(compose):
    services = compose["services"]
    for name in LONG_RUNNING:
        assert services[name]["healthcheck"]["test"], name
    assert services["setup"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "kafka": {"condition": "service_healthy"},
    }
    for name in ("web", "ingest", "recordings", "occurrences", "alerts", "previews"):
        assert services[name]["depends_on"] == {
            "setup": {"condition": "service_completed_successfully"},
            "minio-setup": {"condition": "service_completed_successfully"},
        }, name


def test_the_app_is_configured_by_environment_only_with_recordings_in_object_storage(compose):
    services = compose["services"]
    for name in ("setup", "web", "ingest", "recordings", "occurrences"):
        env = services[name]["environment"]
        assert env["RECORDINGS_STORAGE"] == "s3"
        assert env["DATABASE_URL"].startswith("postgres://")
        assert env["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        assert env["DEBUG"] == "false"
        # Secrets come from the operator's environment, never from the file.
        assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
        assert "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"]
        assert env["AWS_SECRET_ACCESS_KEY"].startswith("${MINIO_ROOT_PASSWORD:?")


def test_ingest_has_workers_of_its_own_behind_the_one_public_port(compose):
    services = compose["services"]
    # The same image and command as web: the proxy decides what each one serves.
    assert services["ingest"]["image"] == services["web"]["image"]
    assert services["ingest"].get("command") == services["web"].get("command")
    assert [name for name, service in services.items() if service.get("ports")] == ["proxy"]
    # Pinned by version, never :latest.
    assert re.fullmatch(r"nginx:\d+\.\d+\.\d+-alpine", services["proxy"]["image"])
    assert "./deploy/nginx.conf:/etc/nginx/nginx.conf:ro" in services["proxy"]["volumes"]
    assert services["proxy"]["depends_on"] == {
        "web": {"condition": "service_healthy"},
        "ingest": {"condition": "service_healthy"},
    }


def test_the_proxy_sends_envelopes_and_occurrences_to_ingest_and_the_rest_to_web():
    config = NGINX_CONF.read_text()
    routes = dict(re.findall(r"location (.+?) \{\s*proxy_pass http://(\w+);", config))
    assert routes == {"~ ^/api/[0-9]+/(envelope|occurrences)/?$": "ingest", "/": "web"}
    ingest = re.compile(routes_pattern(routes, "ingest"))
    for path in ("/api/42/envelope/", "/api/42/envelope", "/api/42/occurrences/"):
        assert ingest.match(path), path
    for path in (
        "/api/0/projects/42/issues/",
        "/api/42/envelope/x",
        "/api/0/issues/7/occurrences/",
        "/projects/42/issues/",
    ):
        assert not ingest.match(path), path
    # Every path the app routes to ingest's views goes to ingest.
    from ingest.urls import urlpatterns

    assert [pattern.pattern.regex.pattern for pattern in urlpatterns] == [
        r"^api/(?P<project_id>[0-9]+)/envelope/?$",
        r"^api/(?P<project_id>[0-9]+)/occurrences/?$",
    ]


def routes_pattern(routes: dict[str, str], upstream: str) -> str:
    [location] = [location for location, target in routes.items() if target == upstream]
    return location.removeprefix("~ ")


def compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


@pytest.mark.skipif(compose_command() is None, reason="neither docker compose nor docker-compose")
def test_docker_compose_config_accepts_the_file(tmp_path):
    done = subprocess.run(
        [*compose_command(), "--file", str(COMPOSE_FILE), "config", "--quiet"],
        cwd=settings.BASE_DIR,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(tmp_path), **REQUIRED_ENV},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.skipif(compose_command() is None, reason="neither docker compose nor docker-compose")
def test_docker_compose_refuses_to_start_without_the_secrets(tmp_path):
    done = subprocess.run(
        [*compose_command(), "--file", str(COMPOSE_FILE), "config", "--quiet"],
        cwd=settings.BASE_DIR,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "SECRET_KEY" in done.stderr or "POSTGRES_PASSWORD" in done.stderr
