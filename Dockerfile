# syntax=docker/dockerfile:1
# Build stage: install Encore and its dependencies into a virtual environment. The wheel
# carries the migrations (alembic/ becomes the package's db/migrations: see setup.py).
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/encore
COPY pyproject.toml setup.py README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY db ./db
COPY sandbox ./sandbox
COPY alembic ./alembic
RUN /opt/encore/bin/pip install . \
    && /opt/encore/bin/python -c "import db.migrate as m; m.migrations_directory(); print('migrations:', m.head_revision())"

# Runtime stage: the virtual environment and an unprivileged user; nothing else is needed.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 encore
COPY --from=build /opt/encore /opt/encore
WORKDIR /app
# WEB_HOST and ENCORE_DATA_DIR are what a container needs; docker-compose.yml sets them again
# in `environment:`, which wins over a copied .env.
ENV PATH=/opt/encore/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    ENCORE_DATA_DIR=/data \
    WEB_HOST=0.0.0.0 \
    WEB_PORT=8080
RUN mkdir -p /data && chown encore:encore /data
USER encore
EXPOSE 8080
# The short /health: 200 while the database answers (the web role; compose probes the
# gateway's and worker's own METRICS_PORT instead).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=4).status == 200 else 1)"
ENTRYPOINT ["encore"]
CMD ["run"]
