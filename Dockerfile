# syntax=docker/dockerfile:1
# Build stage: install Encore and its dependencies into a virtual environment.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/encore
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY db ./db
COPY sandbox ./sandbox
RUN /opt/encore/bin/pip install .

# Runtime stage: the virtual environment, the migrations, and an unprivileged user.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 encore
COPY --from=build /opt/encore /opt/encore
WORKDIR /app
COPY alembic.ini ./
COPY alembic ./alembic
ENV PATH=/opt/encore/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    ENCORE_DATA_DIR=/data \
    WEB_HOST=0.0.0.0 \
    WEB_PORT=8080
RUN mkdir -p /data && chown encore:encore /data
USER encore
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=4).status == 200 else 1)"
ENTRYPOINT ["encore"]
CMD ["run"]
