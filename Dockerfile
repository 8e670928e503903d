FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY core ./core
COPY bot ./bot
RUN pip install --no-cache-dir . && useradd --create-home entra
USER entra
# ENTRA_SYNC_IN_CONTAINER: a key file made in here would be lost with the container, so
# ENTRA_SYNC_SECRET_KEY is required (docs/operations.md, "Secrets and key rotation").
ENV ENTRA_SYNC_DATABASE_URL=sqlite:////home/entra/data/entra-sync.db \
    ENTRA_SYNC_IN_CONTAINER=1 \
    PORT=3000
EXPOSE 3000
# In HTTP mode the bot answers GET /healthz; in Socket Mode there is no listener to probe.
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import os,sys,urllib.request; sys.exit(0) if os.environ.get('SLACK_APP_TOKEN') else urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"3000\")}/healthz', timeout=2)"
ENTRYPOINT ["entra-sync"]
CMD ["serve"]
