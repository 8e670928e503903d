FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY core ./core
COPY bot ./bot
RUN pip install --no-cache-dir . && useradd --create-home entra
USER entra
ENV ENTRA_SYNC_DATABASE_URL=sqlite:////home/entra/data/entra-sync.db
ENTRYPOINT ["entra-sync"]
CMD ["--help"]
