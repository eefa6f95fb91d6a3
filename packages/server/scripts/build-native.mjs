// Builds reprise's optional native addons at install time (`npm install` runs it through the
// workspace's `prepare` script): LAME against the system's libmp3lame (Debian: libmp3lame-dev),
// about 1.6× as fast as the WebAssembly LAME that reprise otherwise uses; and a call that hands
// the C allocator's free memory back to the system after a burst of uploads (api/burst-collector.ts).
// Never fails the install: without the library or a compiler, reprise runs without them.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const here = path.dirname(new URL(import.meta.url).pathname);
const nativeDir = path.join(here, '..', 'native');
const HEADER_DIRS = ['/usr/include', '/usr/local/include', '/opt/homebrew/include'];

function nodeGyp() {
  // npm hands its own node-gyp to lifecycle scripts; outside one, look beside npm.
  if (process.env.npm_config_node_gyp) return [process.execPath, process.env.npm_config_node_gyp];
  const npmRoot = spawnSync('npm', ['root', '-g'], { encoding: 'utf8' }).stdout?.trim();
  const bundled = npmRoot && path.join(npmRoot, 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  return bundled && fs.existsSync(bundled) ? [process.execPath, bundled] : null;
}

// Looked up once for both addons (outside a lifecycle script it asks npm where it is).
const gyp = nodeGyp();

/** Builds the addon in native/<dir>; the reason it was not built, or null. */
function build(dir) {
  if (!gyp) return 'node-gyp not found';
  const [command, script] = gyp;
  const built = spawnSync(command, [script, 'rebuild', '--directory', path.join(nativeDir, dir)], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  return built.status === 0 ? null : `the build failed: ${(built.stderr ?? '').trim().split('\n').slice(-3).join(' / ')}`;
}

function buildLame() {
  const notice = (why) => console.log(`reprise: native LAME not built (${why}); MP3 encoding uses the WebAssembly build`);
  if (process.env.REPRISE_NATIVE_LAME === '0') return notice('REPRISE_NATIVE_LAME=0');
  if (!HEADER_DIRS.some((dir) => fs.existsSync(path.join(dir, 'lame', 'lame.h')))) return notice('no lame/lame.h: install libmp3lame-dev');
  const why = build('lame');
  if (why) return notice(why);
  console.log('reprise: native LAME built');
}

function buildMemory() {
  const why = build('memory');
  if (why) return console.log(`reprise: native memory trim not built (${why}); after a burst of uploads only V8's memory is given back`);
  console.log('reprise: native memory trim built');
}

buildLame();
buildMemory();
