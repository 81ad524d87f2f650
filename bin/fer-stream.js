#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so `npm install` is enough: no build step, no install script.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
