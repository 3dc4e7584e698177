# The service's image: one image for the web server, both consumers and the one-shot set-up.
# Configuration comes only from the environment (settings/base.py reads it).

# The replay player's browser bundle (rrweb-player from npm), served as a static file.
FROM node:20-bookworm-slim AS player
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=settings.base \
    PROMETHEUS_MULTIPROC_DIR=/tmp/prometheus \
    DEBUG=false \
    LOG_FORMAT=json
WORKDIR /app

# Exactly the versions that requirements.lock pins, each checked against its hash (the layer is
# rebuilt only when the lock changes); then the project itself, resolving nothing more.
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY settings settings
COPY pipeline pipeline
COPY organizations organizations
COPY ingest ingest
COPY replays replays
COPY issues issues
COPY alerts alerts
RUN pip install --no-deps .
COPY manage.py ./
COPY deploy deploy
COPY --from=player /build/node_modules/rrweb-player node_modules/rrweb-player

# Static files are collected into the image and served by whitenoise; the build needs no secret.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input --verbosity 0 \
    && useradd --system --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p var && chown app var

USER app
EXPOSE 8000
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["gunicorn", "--config", "python:settings.gunicorn", "settings.wsgi:application"]
