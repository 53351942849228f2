#!/usr/bin/env node
// The `gatehouse` command: TypeScript sources run through tsx, so there is no build step.
require('tsx/cjs');
require('../cli/main.ts');
