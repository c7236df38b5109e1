# syntax=docker/dockerfile:1
# The hub, the simulated registries and their contracts, installed from a wheel into a slim,
# non-root image. One image serves every role of docker-compose.yml (API, workers, mocks,
# migration); the command chooses.

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md constraints.txt ./
COPY hub hub
COPY mocks mocks
COPY fixtures fixtures
COPY contracts contracts
# the hub's wheel and every dependency's at the versions constraints.txt pins, so the final
# stage installs without compilers
RUN pip wheel --no-cache-dir --wheel-dir /wheels -c constraints.txt .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HUB_LOG_FORMAT=json
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links /wheels ura-hub \
    && useradd --system --uid 10001 --create-home --home-dir /var/lib/ura ura
USER ura
WORKDIR /var/lib/ura
EXPOSE 8000
CMD ["hub", "serve", "--host", "0.0.0.0", "--port", "8000"]
