// Builds reprise's optional native addons at install time (`npm install` runs it through the
// workspace's `prepare` script). Today one: LAME against the system's libmp3lame (Debian:
// libmp3lame-dev), about 1.6× as fast as the WebAssembly LAME that reprise otherwise uses.
// Never fails the install: without the library or a compiler, reprise runs on the WebAssembly build.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const lameDir = path.join(here, '..', 'native', 'lame');
const HEADER_DIRS = ['/usr/include', '/usr/local/include', '/opt/homebrew/include'];

function nodeGyp() {
  // npm hands its own node-gyp to lifecycle scripts; outside one, look beside npm.
  if (process.env.npm_config_node_gyp) return [process.execPath, process.env.npm_config_node_gyp];
  const npmRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout?.trim();
  const bundled = npmRoot && path.join(npmRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  return bundled && fs.existsSync(bundled) ? [process.execPath, bundled] : null;
}

function buildLame() {
  const notice = (why) => console.log(`reprise: native LAME not built (${why}); MP3 encoding uses the WebAssembly build`);
  if (process.env.REPRISE_NATIVE_LAME === '0') return notice('REPRISE_NATIVE_LAME=0');
  if (!HEADER_DIRS.some((dir) => fs.existsSync(path.join(dir, 'lame', 'lame.h')))) return notice('no lame/lame.h: install libmp3lame-dev');
  const gyp = nodeGyp();
  if (!gyp) return notice('node-gyp not found');
  const [command, script] = gyp;
  const built = spawnSync(command, [script, 'rebuild', '--directory', lameDir], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (built.status !== 0) return notice(`the build failed: ${(built.stderr ?? '').trim().split('\n').slice(-3).join(' / ')}`);
  console.log('reprise: native LAME built');
}

buildLame();
