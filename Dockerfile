# One image for every process of sparklayer-erp: the gRPC code server (default command), the Dagster webserver and
# daemon, each run's container (DockerRunLauncher) or Job (K8sRunLauncher), and `sparklayer-erp ledger upgrade`.
#   docker build -t sparklayer-erp:0.1.0 .        (tag = the version in pyproject.toml)
# See docs/deploy.md, deploy/docker-compose.yaml (one host) and deploy/helm-values.yaml (Kubernetes).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed, unprivileged user (uid/gid 10001) that owns nothing but its home and the scratch data folder.
ARG APP_UID=10001
RUN groupadd --system --gid "${APP_UID}" dagster \
    && useradd --system --uid "${APP_UID}" --gid dagster --home-dir /opt/dagster --shell /usr/sbin/nologin dagster

WORKDIR /opt/dagster/app
COPY pyproject.toml setup.py README.md ./
COPY sparklayer_erp ./sparklayer_erp
# The package, its pinned Dagster (dagster, dagster-webserver, dagster-postgres) and the deploy extra: the Docker
# and Kubernetes run launchers. No demo or dev extras: the sandbox and local Tryton never ship.
RUN pip install ".[deploy]" \
    && rm -rf /opt/dagster/app/build /opt/dagster/app/*.egg-info

# The Dagster instance: PostgreSQL storage, queued runs (one `erp/writer` at a time), one container per run.
# (On Kubernetes the Helm chart mounts its own instance file and sets DAGSTER_HOME; this one is not used there.)
ENV DAGSTER_HOME=/opt/dagster/home \
    SPARKLAYER_ERP_DATA_DIR=/opt/dagster/data \
    SPARKLAYER_ERP_ENV_FILE=""
COPY deploy/dagster.docker.yaml /opt/dagster/home/dagster.yaml
# The workspace the webserver and the daemon load in deploy/docker-compose.yaml: the code server `code` on port 4000,
# under the same location name as the local workspace.yaml.
RUN printf '%s\n' \
        '# Written by the Dockerfile: the gRPC code server of deploy/docker-compose.yaml.' \
        'load_from:' \
        '  - grpc_server:' \
        '      host: code' \
        '      port: 4000' \
        '      location_name: sparklayer_erp' \
        > /opt/dagster/workspace.yaml \
    && mkdir -p /opt/dagster/data \
    && chown -R dagster:dagster /opt/dagster/home /opt/dagster/data

USER dagster
EXPOSE 4000
# The code location as a gRPC server; the webserver, the daemon and each run reach the code through it.
CMD ["dagster", "api", "grpc", "-m", "sparklayer_erp.definitions", "-a", "defs", "-h", "0.0.0.0", "-p", "4000"]
