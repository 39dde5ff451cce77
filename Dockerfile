# syntax=docker/dockerfile:1
# Doppel's ext_proc server. The NER model (engine/model/*.onnx, *.json) is package data, so a
# plain `pip install .` puts it inside the image. The Helm chart's default image is built from
# this file: docker build -t ghcr.io/doppel-privacy/doppel:0.1.0 .

ARG PYTHON=python:3.11-slim-bookworm

FROM ${PYTHON} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# .dockerignore keeps tests, benchmarks, training, venvs and caches out of the context.
COPY . .
RUN python -m venv /opt/doppel \
 && /opt/doppel/bin/pip install --upgrade pip \
 && /opt/doppel/bin/pip install . \
 && /opt/doppel/bin/python -c "from importlib.resources import files; m = files('engine.model'); assert any(p.name.endswith('.onnx') for p in m.iterdir()), 'model missing'" \
 && mkdir -p /licenses && cp -f LICENSE* NOTICE* /licenses/ 2>/dev/null || true

FROM ${PYTHON}
RUN groupadd --system --gid 10001 doppel \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin doppel
COPY --from=build /opt/doppel /opt/doppel
COPY --from=build /licenses /usr/share/doc/doppel
ENV PATH=/opt/doppel/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
# Numeric user: Kubernetes runAsNonRoot can verify it. The root filesystem may be read-only;
# only /tmp needs to be writable.
USER 10001:10001
EXPOSE 50051 9090
ENTRYPOINT ["doppel"]
CMD ["serve", "--host", "0.0.0.0"]
