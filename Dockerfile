# hepgan for GPU nodes: `hepgan serve` by default, `hepgan train` as a batch job from the same image.
#
#   docker build -t hepgan:0.1.0 .
#   docker run --gpus all -p 8000:8000 -v "$PWD/artefacts:/models:ro" hepgan:0.1.0
#   docker run --gpus all -v "$PWD/data:/data" -v "$PWD/artefacts:/models" hepgan:0.1.0 train ...
#
# Model artefacts (one folder each) are mounted at /models (HEPGAN_MODELS_DIR); inputs and
# training runs at /data. See docs/deployment.md.

# The CUDA build of PyTorch comes from the base image; pyproject's torch range (>=2.2,<3)
# accepts it, so pip installs no second torch. Override with --build-arg BASE_IMAGE=...
ARG BASE_IMAGE=pytorch/pytorch:2.7.1-cuda12.8-cudnn9-runtime

# Stage 1: build the hepgan wheel from the source tree (no dependencies fetched here).
FROM ${BASE_IMAGE} AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY hepgan ./hepgan
COPY models ./models
COPY training ./training
COPY datafiles ./datafiles
COPY simulators ./simulators
COPY service ./service
COPY validation ./validation
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

# Stage 2: the runtime image with only the installed package.
FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="hepgan" \
      org.opencontainers.image.description="Conditional-GAN fast simulation for HEP, served over HTTP" \
      org.opencontainers.image.licenses="BSD-3-Clause"

# glibc malloc: by default each thread gets its own arena and the mmap threshold rises after
# every large free, so batch-sized buffers end up in fragmented arenas and the server's memory
# creeps up under concurrent requests (+13% in 60 s). Two arenas and a fixed 128 KiB mmap
# threshold (large buffers go back to the system when freed) keep it flat (+1.4%);
# docs/reliability.md has the figures. numba compiles the validation report's kernels on first
# use (the warm-up, before /readyz) and caches them in NUMBA_CACHE_DIR: the installed package is
# not writable for the service user, /tmp is (an emptyDir under the read-only root in k8s).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MALLOC_ARENA_MAX=2 \
    MALLOC_MMAP_THRESHOLD_=131072 \
    NUMBA_CACHE_DIR=/tmp/numba-cache \
    HEPGAN_MODELS_DIR=/models

COPY --from=wheel /wheels /wheels
RUN python -m pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels \
    && groupadd --gid 10001 hepgan \
    && useradd --create-home --uid 10001 --gid 10001 --shell /usr/sbin/nologin hepgan \
    && mkdir -p /models /data \
    && chown 10001:10001 /models /data

USER 10001:10001
WORKDIR /home/hepgan
VOLUME ["/models", "/data"]
EXPOSE 8000

# /readyz answers 200 once loading has ended and at least one model is served (a broken
# artefact is listed there, not fatal); urllib raises on its 503.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]

ENTRYPOINT ["hepgan"]
CMD ["serve", "--models", "/models", "--host", "0.0.0.0", "--port", "8000"]
