# Test-harness stand-in for apache/superset (the official image, pinned in docker-compose.yml),
# built from Debian's python3.11 and Apache Superset from PyPI. Laid out like the official image
# (venv in /app/.venv on PATH, SUPERSET_HOME /app/superset_home, user superset, port 8088) so
# docker/superset/Dockerfile derives from either. Superset 6.1.0 from PyPI also needs `rich` and
# `cachetools`, and flask-caching 2.3.1 (later releases break `superset db upgrade`).
ARG PYTHON_IMAGE
FROM ${PYTHON_IMAGE}
ARG SUPERSET_VERSION=6.1.0
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --home-dir /app/superset_home --uid 1000 superset \
    && python3 -m venv /app/.venv \
    && /app/.venv/bin/pip install --no-cache-dir "apache-superset==${SUPERSET_VERSION}" \
        rich==15.0.0 cachetools==8.0.2 flask-caching==2.3.1 psycopg2-binary==2.9.10 \
    && chown -R superset /app/superset_home
ENV PATH=/app/.venv/bin:$PATH SUPERSET_HOME=/app/superset_home SUPERSET_PORT=8088 \
    FLASK_APP="superset.app:create_app()" PYTHONUNBUFFERED=1
WORKDIR /app
USER superset
EXPOSE 8088
CMD ["gunicorn", "--bind", "0.0.0.0:8088", "superset.app:create_app()"]
