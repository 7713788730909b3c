#!/usr/bin/env node
// The CLI ships as TypeScript; tsx compiles it in memory at load, so `npm ci` needs no build step.
import { register } from 'tsx/esm/api';

register();
await import('./cli.ts');
