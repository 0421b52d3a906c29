FROM python:3.11-slim-bookworm
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg fonts-noto-cjk && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY dashboard dashboard
COPY grid grid
COPY video video
COPY geodata geodata
COPY workers workers
RUN pip install --no-cache-dir .
