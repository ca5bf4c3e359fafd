FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# collectstatic needs settings that load; the real values come from the environment at run time.
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=build-only-key-build-only-key-build-only-key-0000 \
    DATABASE_URL=postgres://build@localhost/build python manage.py collectstatic --noinput
RUN useradd --create-home clinic
USER clinic
EXPOSE 8000
CMD ["gunicorn", "clinic.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "30"]
