# Production image for the web, worker and beat services of docker-compose.yml.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=itbc_portal.settings.production

WORKDIR /app
COPY requirements-prod.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements-prod.lock

COPY . .
# collectstatic needs settings that import cleanly; the real secrets arrive at run time.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v0 \
    && useradd --create-home --uid 1000 itbc && mkdir -p /app/var && chown -R itbc /app/var
USER itbc

EXPOSE 8000
CMD ["gunicorn", "itbc_portal.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "60"]
