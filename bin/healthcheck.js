#!/usr/bin/env node
// The containers' health check: this process's /healthz on FER_METRICS_PORT (9464 in the images),
// exit 0 when it answers 2xx within 4 s. A file rather than `node -e '…'` in docker-compose.yml:
// Podman's Docker-compatible API (4.3) splits a health check's arguments at spaces.
const port = process.env.FER_METRICS_PORT || '9464';
fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(4000) }).then(
  (response) => process.exit(response.ok ? 0 : 1),
  () => process.exit(1),
);
