# The gateway's image (README "Deployment"): `docker compose up` builds and runs it. Two stages:
# `build` installs the locked dependencies and the project into a virtualenv, checking every
# download against a pinned hash; `runtime` is the slim base, that virtualenv, and a non-root user.
#
# The base image is pinned by tag only: base images are not in requirements.lock, and no
# registry could be reached where this file was written to read a digest. To pin it, run
# `docker buildx imagetools inspect python:3.11-slim` and build with
# `--build-arg PYTHON_IMAGE=python:3.11-slim@sha256:<the index digest>` (or write it here, kept
# current by Renovate or Dependabot). Both stages must share it: the venv links its Python.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PATH=/opt/venv/bin:$PATH
RUN python -m venv /opt/venv
WORKDIR /src
# Dependencies first, in their own layer: it is rebuilt only when the lock changes.
# (The lock includes the `test` extra's tools too: a runtime-only lock would leave them out.)
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
# The build backend (pyproject's build-system: setuptools>=75; the venv's own is too old to
# build a wheel), pinned with its hash like the lock's: build isolation would fetch it unpinned.
RUN echo "setuptools==84.2.1 --hash=sha256:ca140b45d5325a9478f880e351484f62fef15f336462e449ca0c03c873d589c2" \
        > build-requirements.txt \
    && pip install --require-hashes --only-binary=:all: -r build-requirements.txt
COPY pyproject.toml README.md ./
COPY api ./api
COPY auth ./auth
COPY domain ./domain
COPY graph ./graph
COPY models ./models
# --no-index: this step can download nothing; --no-deps: the lock installed them all above.
RUN pip install --no-index --no-deps --no-build-isolation . \
    && pip check

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 gateway \
    && useradd --system --uid 10001 --gid gateway --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin gateway
COPY --from=build /opt/venv /opt/venv
# PYTHONUNBUFFERED: log lines leave at once (the container's stdout is a pipe, not a terminal).
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    ENVIRONMENT=production
# Owned by root, so not writable: the image is for PostgreSQL (DATABASE_URL), never for a SQLite
# file in the container (`--workers` share changes through PostgreSQL; README "Deployment").
WORKDIR /app
USER 10001:10001
EXPOSE 8000
# /healthz: the process answers (no database check: /readyz is for load balancers). slim has no
# curl; urlopen raises (exit status 1) on a refused connection, a timeout or a non-2xx status.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# SIGTERM (Docker's default, said outright): uvicorn stops listening, lets in-flight requests
# finish within SHUTDOWN_GRACE_SECONDS, closes websockets 1001, disposes the pools, exits 0.
# `docker stop`/compose must wait longer than that grace (compose.yaml: stop_grace_period).
STOPSIGNAL SIGTERM
# `serve` migrates before it serves (a no-op once compose's `migrate` service has run); with
# several containers, run `mentor-gateway migrate` once per release instead (README).
CMD ["mentor-gateway", "serve", "--host", "0.0.0.0", "--workers", "2"]
