# syntax=docker/dockerfile:1
# fer-stream, CPU image: API, producer and worker (the command picks the role:
# `docker run fer-stream:cpu worker`). onnxruntime-node's CPU provider is bundled in its npm
# package; .npmrc skips dependency install scripts (its CUDA download). See Dockerfile.gpu for CUDA workers.
ARG NODE_VERSION=22

# --- 1. production dependencies (native modules resolved for linux-x64 glibc) ---
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- 2. build check: the sources type-check against the full dependency set ---
# (No emit step: the CLI runs TypeScript through tsx. This stage makes a broken tree fail the
# image build instead of the first job.)
FROM node:${NODE_VERSION}-bookworm-slim AS check
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.json ./
RUN npm ci --no-audit --no-fund
COPY bin ./bin
COPY src ./src
RUN npx tsc --noEmit && touch /app/.typechecked

# --- 3. runtime ---
FROM node:${NODE_VERSION}-bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg tini ca-certificates \
    && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    FER_MODELS_DIR=/models \
    FER_UPLOAD_DIR=/uploads \
    FER_METRICS_PORT=9464 \
    FER_METRICS_PORT_ATTEMPTS=1 \
    FER_EXECUTION_PROVIDERS=cpu
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=check /app/.typechecked ./.typechecked
COPY package.json ./
COPY bin ./bin
COPY src ./src
# Writable places for the non-root user: uploads and tsx's compile cache; models come as a volume.
RUN mkdir -p /models /uploads && chown node:node /models /uploads
USER node
EXPOSE 8080 9464
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/fer-stream.js"]
CMD ["worker"]
