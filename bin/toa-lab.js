#!/usr/bin/env node
// The toa-lab CLI. The harness is TypeScript run through tsx, so there is no build step to forget.
import { register } from 'tsx/esm/api';

register();
await import('../harness/cli/main.ts');
