// Builds the web app (Vite) when its sources are newer than web/dist, then writes gzip and
// brotli copies of every asset for the server to send as they are. `--force` always builds.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const web = fileURLToPath(new URL('..', import.meta.url));
const root = join(web, '..');
const dist = join(web, 'dist');

function newest(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

// The API contract (../contract) is bundled too: a change to it is a change to the app.
const inputs = ['src', 'index.html', 'vite.config.ts', 'package.json'].map((p) => join(web, p)).concat(join(root, 'package-lock.json'), join(root, 'contract/src'));
const builtAt = newest(join(dist, 'index.html'));
if (!process.argv.includes('--force') && builtAt > 0 && Math.max(...inputs.map(newest)) < builtAt) {
  process.stdout.write('web app is up to date (web/dist)\n');
  process.exit(0);
}

const started = Date.now();
const vite = spawnSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn', web], { stdio: 'inherit' });
if (vite.status !== 0) process.exit(vite.status ?? 1);

const assets = join(dist, 'assets');
for (const name of readdirSync(assets)) {
  if (!/\.(js|css|svg)$/.test(name)) continue;
  const content = readFileSync(join(assets, name));
  writeFileSync(join(assets, `${name}.gz`), gzipSync(content, { level: 9 }));
  writeFileSync(join(assets, `${name}.br`), brotliCompressSync(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
}
process.stdout.write(`web app built in ${((Date.now() - started) / 1000).toFixed(1)} s (web/dist)\n`);
