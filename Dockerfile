FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir -e .
COPY . .
# /app/media exists (owned by app) so the shared media volume starts writable by the app user.
RUN useradd --create-home app && mkdir -p /app/media && chown -R app /app
USER app
EXPOSE 8000
