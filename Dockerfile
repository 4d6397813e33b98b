# syntax=docker/dockerfile:1
# Backprop Playground, the hosted demo: one image, CPU-only PyTorch, demo limits on.
#   docker build -t backprop-playground .
#   docker run -p 8000:8000 -v playground-data:/data backprop-playground
# tests/docker/test_dockerfile.py performs these install and start steps in a fresh
# virtualenv (no Docker engine there): keep every step a plain RUN / ENV / CMD line.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv /opt/venv
# g++ compiles the fused training kernel (app/nn/fused) below, at image build, so that
# Play never waits for a compiler.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends g++ \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
# CPU-only PyTorch from PyTorch's CPU wheel index: PyPI's default build pulls CUDA (GBs).
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu torch==2.13.0
COPY pyproject.toml README.md LICENSE ./
COPY app ./app
# EXTRAS="[queue]" adds the job-queue client (Redis, Dramatiq, psycopg): the scale profile.
ARG EXTRAS=""
RUN pip install --no-cache-dir -e ".${EXTRAS}" \
    && python -m app.nn.fused.build
COPY static ./static
COPY templates ./templates

# Unprivileged user (uid 1000) owning only the data volume (SQLite database).
RUN useradd --uid 1000 --create-home --shell /usr/sbin/nologin playground \
    && mkdir -p /data \
    && chown playground:playground /data
USER 1000

# No PLAYGROUND_PORT here: the server listens on 8000 unless the platform sets $PORT
# (Render) or PLAYGROUND_PORT is given (docs/HOSTING.md).
ENV PLAYGROUND_DEMO=1 \
    PLAYGROUND_HOST=0.0.0.0 \
    PLAYGROUND_DATA_DIR=/data \
    PLAYGROUND_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "app.healthcheck"]
# Workers and torch threads follow the container's CPU quota (app/cpus.py), not the host.
CMD ["backprop", "serve"]
