# One image per service, from one file:  docker build --build-arg SERVICE=cases .
# The MongoDB stand-in (SecantusDB, GPL) is a development tool and is never in an image.
ARG PYTHON_IMAGE=python:3.11.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
RUN test -n "$SERVICE" || (echo "build with --build-arg SERVICE=<signals|cases|notifications|reporting>" && false)
WORKDIR /src
COPY constraints.txt ./
COPY contracts/ contracts/
COPY libs/servicekit/ libs/servicekit/
COPY services/${SERVICE}/ services/${SERVICE}/
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --disable-pip-version-check -c constraints.txt \
      ./contracts ./libs/servicekit ./services/${SERVICE}

FROM ${PYTHON_IMAGE}
ARG SERVICE
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SERVICE_MODULE=${SERVICE}_service \
    HTTP_HOST=0.0.0.0
COPY --from=build /opt/venv /opt/venv
RUN useradd --system --no-create-home --uid 10001 buurtsignaal
USER 10001
# /health/ready: the database and the broker are reachable.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=5 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health/ready' % os.environ['HTTP_PORT'], timeout=4)"]
# exec: the service is PID 1 and gets SIGTERM itself, so it drains in-flight work.
CMD ["sh", "-c", "exec python -m \"$SERVICE_MODULE\""]
