# syntax=docker/dockerfile:1
#
# One image for the whole platform: the three services, their migrations, the web UI (its
# server and built bundle) and the kopf operator.
#
#   docker build -t incident-platform:dev .
#   docker run --rm -p 8001:8001 -e DATABASE_URL=... incident-platform:dev     # alert ingestion
#
# What runs is chosen by the command (docker-compose.yml and the Helm chart set it):
#   python -m incident_platform.entrypoints.alert_ingestion      --workers N   (:8001, the default CMD)
#   python -m incident_platform.entrypoints.incident_management  --workers N   (:8002)
#   python -m incident_platform.entrypoints.oncall               --workers N   (:8003)
#   python -m incident_platform.web                  --workers N   (:8080, the web UI)
#   python -c "from incident_platform.db import migrate; migrate()"  (schema to head, then exit)
#   kopf run --standalone --all-namespaces --liveness=http://0.0.0.0:8080/healthz --module=incident_operator
# The services listen on $HOST:$PORT (0.0.0.0:8001 here) unless --host/--port say otherwise;
# the HEALTHCHECK probes /healthz on $PORT, so set PORT rather than --port when overriding.
#
# Build stage: the project is installed (not editable) with its operator extra into a venv at
# /opt/venv. Every dependency ships as a manylinux wheel, so no compiler is needed anywhere.
# Web stage: the UI bundle, built with Node from the committed package-lock.json (npm ci).
# Final stage: the same slim Python plus that venv and the bundle, nothing else; runs as the
# numeric non-root user 10001 and works with a read-only root filesystem (only /tmp needs to be writable: the
# Prometheus multiprocess directory of --workers > 1 lives there).

FROM python:3.11-slim-bookworm AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

RUN python -m venv /opt/venv

WORKDIR /src
# Only what the distribution is built from (see .dockerignore for what never gets here).
COPY pyproject.toml ./
COPY services ./services
COPY operator/incident_operator ./operator/incident_operator
RUN /opt/venv/bin/pip install --no-cache-dir ".[operator]" \
    && /opt/venv/bin/pip uninstall --yes pip


FROM node:22-bookworm-slim AS web

WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./
RUN npm run build


FROM python:3.11-slim-bookworm

LABEL org.opencontainers.image.title="incident-platform" \
      org.opencontainers.image.description="Self-hosted, Kubernetes-native incident platform: alert ingestion, incident management, on-call and the Kubernetes operator" \
      org.opencontainers.image.licenses="Apache-2.0"

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH="/opt/venv/bin:${PATH}" \
    HOME=/tmp \
    HOST=0.0.0.0 \
    PORT=8001 \
    WEB_DIST_DIR=/opt/web

RUN groupadd --system --gid 10001 incident \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin incident

COPY --from=build /opt/venv /opt/venv
COPY --from=web /web/dist /opt/web

USER 10001:10001

EXPOSE 8001 8002 8003 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8001'), timeout=4)"]

CMD ["python", "-m", "incident_platform.entrypoints.alert_ingestion"]
