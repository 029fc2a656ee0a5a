FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 WATTWATCH_DATA_DIR=/data
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# A data folder of its own for the build: the installation's keys (secret key, VAPID) are made at first
# start in the /data volume, never baked into the image.
RUN DEBUG=1 WATTWATCH_DATA_DIR=/tmp/build-data python manage.py collectstatic --noinput && rm -rf /tmp/build-data
RUN useradd --create-home wattwatch && mkdir -p /data /app/ml_models && chown -R wattwatch /data /app/ml_models
USER wattwatch
EXPOSE 8000
# The web process (docker-compose.yml runs web and ingest with their own commands; see gunicorn.conf.py).
CMD ["gunicorn", "config.asgi:application", "--worker-class", "uvicorn_worker.UvicornWorker", "--bind", "0.0.0.0:8000", "--workers", "2"]
