# syntax=docker/dockerfile:1
# Kyoso web image: `docker build -t kyoso .` then `docker run -p 8000:8000 -v kyoso-var:/app/var kyoso`
# (SQLite under /app/var), or `docker compose up` for PostgreSQL, Redis and Mailpit.
FROM python:3.11-slim

# PYTHONPATH=/app: the app finds templates/, static/, locale/ and migrations/ next to its package
# (app.settings.PROJECT_ROOT), so it must be imported from /app/app, not from site-packages.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DATA_DIR=/app/var

RUN groupadd --system --gid 10001 kyoso \
    && useradd --system --uid 10001 --gid kyoso --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin kyoso

WORKDIR /app

# Dependencies in their own layer: a stub package lets `pip install .` resolve them before the code is
# copied, so editing the code does not reinstall them. (README.m[d] is optional: a wildcard may match nothing.)
COPY pyproject.toml README.m[d] ./
RUN mkdir app && touch app/__init__.py \
    && pip install --no-cache-dir . \
    && rm -rf app build ./*.egg-info

# Catalogues compiled as `make i18n-compile` does (--use-fuzzy), so the image shows what development shows.
COPY . .
RUN pip install --no-cache-dir --no-deps --force-reinstall . \
    && rm -rf build ./*.egg-info \
    && pybabel compile --use-fuzzy -d locale -D messages \
    && mkdir -p /app/var \
    && chown kyoso:kyoso /app/var

# SQLite database, generated SECRET_KEY and file stores live here (see DATA_DIR).
VOLUME /app/var

# The code stays owned by root and read-only to the server.
USER 10001:10001

EXPOSE 8000

# Liveness only; /readyz (database + migrations) is for orchestrators, see compose.yaml.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]

# Migrate, then exec uvicorn so it is PID 1 and receives SIGTERM from `docker stop`.
# WEB_CONCURRENCY sets the worker count (default 2); uvicorn reads FORWARDED_ALLOW_IPS from the
# environment to decide which proxies' X-Forwarded-* headers to trust (default 127.0.0.1).
CMD ["sh", "-c", "python -m app migrate && exec uvicorn app.asgi:app --host 0.0.0.0 --port 8000 --proxy-headers --workers \"${WEB_CONCURRENCY:-2}\""]
