// fer-stream's own version, for `--version`, the build-info metric and logs.

import { readFileSync } from 'node:fs';

/** fer-stream's version, from its package.json (read once; found upwards: src/ or a compiled dist/<hash>/). */
export const FERSTREAM_VERSION: string = (() => {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    try {
      const json = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (json.name === 'fer-stream' && json.version) return json.version;
    } catch {
      // not here: look one folder up
    }
    if (dir.pathname === '/') return 'unknown';
  }
})();
