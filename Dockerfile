# kgrca's image, used by compose.yaml. Targets:
#   runtime  kgrca build / kgrca serve, as the non-root user kgrca
#   tracer   runtime plus Debian's BCC, for kgrca trace (runs as root, privileged, host PID namespace)
#
#   docker build --target runtime -t kgrca:local .

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# --- dependencies: a virtualenv with pyproject.toml's dependencies only, so a source change does not
# reinstall them
FROM ${PYTHON_IMAGE} AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > requirements.txt \
    && /opt/venv/bin/pip install -r requirements.txt

# --- runtime: the sources and the kgrca command
FROM ${PYTHON_IMAGE} AS runtime
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN groupadd --system --gid 10001 kgrca \
    && useradd --system --uid 10001 --gid kgrca --home-dir /var/lib/kgrca --create-home kgrca
COPY --from=deps /opt/venv /opt/venv
WORKDIR /app
COPY pyproject.toml README.md ./
COPY kgrca ./kgrca
COPY faces ./faces
COPY localdev ./localdev
COPY kg_builder ./kg_builder
COPY ingest ./ingest
COPY bpf ./bpf
COPY webhooks ./webhooks
COPY rca ./rca
# kg_builder and rca read cypher/ beside the packages, so the sources stay in /app (editable install)
COPY cypher ./cypher
# Bytecode at build time: the chart runs with a read-only root filesystem.
RUN pip install --no-deps -e /app && python -m compileall -q /app && kgrca --help >/dev/null
USER kgrca
WORKDIR /var/lib/kgrca
ENTRYPOINT ["kgrca"]
CMD ["--help"]

# --- tracer: BCC from Debian (bookworm's python3 is 3.11 too, so its bcc module imports here)
FROM runtime AS tracer
USER root
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3-bpfcc \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /opt/bcc-only \
    && ln -s /usr/lib/python3/dist-packages/bcc /opt/bcc-only/bcc \
    && echo /opt/bcc-only > "$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/bcc.pth" \
    && /opt/venv/bin/python -c "import bcc"
