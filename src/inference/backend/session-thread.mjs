// A Worker cannot load TypeScript by itself: register tsx in this thread, then load the thread module.
// Works under plain node (bin/fer-stream.js), `node --import tsx` and vitest alike.
import { register } from 'tsx/esm/api';

register();
await import('./session-thread.ts');
