# segwise: Apache Airflow 3.3.2 + the segwise package in one image, used by every service of
# docker-compose.yml (api-server, scheduler, dag-processor, triggerer, celery worker, init).
#
# BASE_IMAGE is a build argument so an offline test harness can pass a local stand-in; users get
# the official image. Two stages: the build stage creates the virtualenv, the runtime stage copies
# only the venv and the project's assets (no compilers, caches or sources), runs as uid 50000.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
RUN python -m venv /opt/segwise/venv \
    && /opt/segwise/venv/bin/pip install --quiet pip==26.3
WORKDIR /src
# Dependencies first (cached until pyproject or the lock changes), then the package itself.
COPY pyproject.toml README.md docker/constraints.txt ./
RUN mkdir -p etl && touch etl/__init__.py \
    && /opt/segwise/venv/bin/pip install --constraint constraints.txt '.[airflow]' \
    && /opt/segwise/venv/bin/pip uninstall --yes segwise \
    && rm -rf etl build ./*.egg-info
COPY etl ./etl
RUN /opt/segwise/venv/bin/pip install --no-deps --constraint constraints.txt . \
    && /opt/segwise/venv/bin/pip check
# The scientific stack ships its own test suites (~150 MB) that nothing imports at run time.
RUN cd /opt/segwise/venv/lib/python3.11/site-packages \
    && find numpy pandas scipy sklearn pyarrow -depth -type d -name tests -exec rm -rf {} +

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="segwise" \
      org.opencontainers.image.description="Airflow 3.3.2 and the segwise customer-segmentation pipeline" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/segwise/venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow \
    SEGWISE_HOME=/opt/segwise/app \
    SEGWISE_INBOX=/opt/segwise/data/inbox \
    SEGWISE_SECRETS_DIR=/run/segwise/secrets \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/segwise/app/dags \
    AIRFLOW__CORE__LOAD_EXAMPLES=False \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1
# Like the official Airflow image: user airflow, uid 50000, group 0, so an arbitrary
# `user: <uid>:0` (AIRFLOW_UID in .env) can still write the group-writable directories.
RUN useradd --uid 50000 --gid 0 --home-dir /opt/airflow --no-create-home --shell /bin/bash airflow \
    && mkdir -p /opt/airflow/logs /opt/segwise/data/inbox /run/segwise/secrets \
    && chown -R 50000:0 /opt/airflow /opt/segwise/data /run/segwise/secrets \
    && chmod -R g+rwX /opt/airflow /opt/segwise/data /run/segwise/secrets
COPY --from=build /opt/segwise/venv /opt/segwise/venv
COPY sql /opt/segwise/app/sql
COPY migrations /opt/segwise/app/migrations
COPY dags /opt/segwise/app/dags
COPY docker/entrypoint.sh docker/airflow-init.sh docker/stackctl.py docker/segwise_secrets.py \
     /opt/segwise/app/docker/
USER 50000:0
WORKDIR /opt/airflow
EXPOSE 8080
ENTRYPOINT ["/opt/segwise/app/docker/entrypoint.sh"]
CMD ["airflow", "version"]
