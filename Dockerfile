# The pacte worker and API. Production talks to a Temporal cluster and a PostgreSQL given by PACTE_* variables.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY eventstore ./eventstore
COPY activities ./activities
COPY workflows ./workflows
COPY pacte ./pacte
RUN pip install --no-cache-dir . && useradd --system --uid 10001 pacte \
    && mkdir /data && chown pacte /data && chmod 0700 /data
# Tokens, anchor and session keys: a volume owned by the service's user (a new named volume takes this ownership).
VOLUME ["/data"]
ENV PACTE_DATA_DIR=/data
USER pacte
EXPOSE 8000
CMD ["pacte", "api"]
