// A Worker cannot load TypeScript by itself: register tsx in this thread, then load the thread module.
import { register } from 'tsx/esm/api';

register();
await import('./preprocess-thread.ts');
