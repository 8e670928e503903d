# entra-assets-sync: the Slack bot (`entra-sync serve`), HTTP or Socket Mode.
# Build: docker build -t entra-assets-sync .   Run: see compose.yaml and docs/operations.md.
#
# The base image is pinned by tag and by the digest of its multi-architecture index, so
# a rebuild gets the same system until this line is changed on purpose.
FROM python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A numeric user and group, so Kubernetes' runAsNonRoot can verify them, and the data
# directory (database, key file when no ENTRA_SYNC_SECRET_KEY) owned by that user.
RUN groupadd --system --gid 10001 entra \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin entra \
    && mkdir /data \
    && chown 10001:10001 /data \
    && chmod 0700 /data

WORKDIR /src

# Dependencies first, from the hashed lock (make lock), in their own layer: a change to
# the code does not reinstall them, and pip refuses any file whose hash differs.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock

# Then the project itself, without resolving anything again: its build backend
# (setuptools) is in the lock too, so nothing unpinned is downloaded for the build.
COPY pyproject.toml README.md ./
COPY core ./core
COPY bot ./bot
RUN pip install --no-cache-dir --no-deps --no-build-isolation . \
    && pip check \
    && entra-sync --help > /dev/null

USER 10001:10001
WORKDIR /data
# ENTRA_SYNC_IN_CONTAINER: a key file made in here would be lost with the container, so
# ENTRA_SYNC_SECRET_KEY is required (docs/operations.md, "Secrets and key rotation").
ENV HOME=/data \
    ENTRA_SYNC_IN_CONTAINER=1 \
    ENTRA_SYNC_DATABASE_URL=sqlite:////data/entra-sync.db \
    PORT=3000
VOLUME ["/data"]
EXPOSE 3000

# `serve` answers /healthz on PORT in both modes (Socket Mode opens it for probes only).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["entra-sync", "healthcheck"]

ENTRYPOINT ["entra-sync"]
CMD ["serve"]
