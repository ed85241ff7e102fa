# sco-monitor daemon image.
#   docker build -t sco-monitor .
#   docker run -d -p 9464:9464 -v sco-monitor-data:/data -v "$PWD/config:/data/config:ro" \
#     -v "$PWD/alerts/rules.yaml:/data/alerts/rules.yaml:ro" \
#     -v "$PWD/alerts/playbooks.yaml:/data/alerts/playbooks.yaml:ro" sco-monitor
# Without a mounted config it runs on the defaults shipped in the package.
ARG PYTHON_VERSION=3.11

# --- build: the project's wheel and every dependency's, PostgreSQL driver included ----------
FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
COPY config ./config
COPY alerts ./alerts
RUN pip wheel --wheel-dir /wheels ".[postgres]"

# --- runtime: slim, no compilers, no build files, a non-root user ----------------------------
FROM python:${PYTHON_VERSION}-slim AS runtime
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SCO_MONITOR_HTTP_LISTEN=0.0.0.0:9464
RUN groupadd --system --gid 10001 sco \
 && useradd --system --uid 10001 --gid sco --home-dir /data --no-create-home --shell /usr/sbin/nologin sco
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels "sco-monitor[postgres]" && rm -rf /wheels
# /data is the working directory: the SQLite store (var/), reports/, alerts/out/ and, mounted
# read-only, config/ (picked up as ./config/sco-monitor.yaml) and alerts/*.yaml.
WORKDIR /data
RUN mkdir -p /data/var /data/reports /data/alerts/out && chown -R sco:sco /data
USER sco
VOLUME ["/data"]
EXPOSE 9464
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:9464/healthz', timeout=4).status != 200)"]
# SIGTERM (docker stop) lets running jobs finish for daemon.shutdown_grace, then exits 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["sco-monitor"]
CMD ["run"]
