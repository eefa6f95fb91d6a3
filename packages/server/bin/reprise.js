#!/usr/bin/env node
// Checked-in entry point, so `npx reprise` is linked at install time, before the build
// has produced dist/ (npm links a package's bins only to files that exist).
import '../dist/cli.js';
