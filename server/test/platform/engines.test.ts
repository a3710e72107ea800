// Rough edge 8 (issue 21): npm warned that cookie, content-disposition and canonicalize need
// Node ≥ 22 while the project declared ">=20.19". The lockfile is what npm installs, so every
// package in it must run on every Node version the project declares — otherwise the declaration
// promises an installation npm itself warns about.
import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

interface LockedPackage { version?: string; engines?: { node?: string } | string[]; hasInstallScript?: boolean }
interface Lockfile { packages: Record<string, LockedPackage> }

const root = new URL('../../../', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { engines: { node: string }; allowScripts?: Record<string, boolean> };
const lock = JSON.parse(readFileSync(new URL('package-lock.json', root), 'utf8')) as Lockfile;

/** Packages in the lockfile whose declared Node range does not cover all of `declared`. */
function excludedBy(declared: string, packages: Record<string, LockedPackage>): string[] {
  const out: string[] = [];
  for (const [where, pkg] of Object.entries(packages)) {
    // Old packages wrote engines as an array of strings, which npm ignores.
    const wanted = Array.isArray(pkg.engines) ? undefined : pkg.engines?.node;
    if (!where || wanted === undefined) continue;
    if (!semver.validRange(wanted) || !semver.subset(declared, wanted)) out.push(`${where}@${pkg.version ?? '?'} wants node ${wanted}`);
  }
  return out.sort();
}

describe('declared Node engines and the dependency tree', () => {
  it('the declared range is valid and is the one the lockfile records', () => {
    expect(semver.validRange(manifest.engines.node)).not.toBeNull();
    expect(lock.packages['']?.engines).toEqual(manifest.engines);
  });

  it('every locked package supports every Node version the project declares', () => {
    expect(excludedBy(manifest.engines.node, lock.packages)).toEqual([]);
  });

  it('the check catches a dependency that needs a newer Node than declared', () => {
    const tree = { '': {}, 'node_modules/cookie': { version: '2.0.2', engines: { node: '>=22' } }, 'node_modules/ok': { version: '1.0.0', engines: { node: '>=18' } } };
    expect(excludedBy('>=20.19', tree)).toEqual(['node_modules/cookie@2.0.2 wants node >=22']);
    // An open-ended declaration also promises odd releases a dependency may skip.
    expect(excludedBy('>=20.19', { 'node_modules/glob': { version: '14.0.6', engines: { node: '18 || 20 || >=22' } } })).toHaveLength(1);
    expect(excludedBy('>=20.19', { 'node_modules/bad': { version: '1.0.0', engines: { node: 'not a range' } } })).toHaveLength(1);
  });
});

/** Names of the locked packages with install scripts that `allowScripts` neither approves nor denies. */
function undecidedInstallScripts(allowScripts: Record<string, boolean>, packages: Record<string, LockedPackage>): string[] {
  const names = Object.entries(packages).filter(([where, pkg]) => where !== '' && pkg.hasInstallScript)
    .map(([where]) => where.slice(where.lastIndexOf('node_modules/') + 'node_modules/'.length));
  return [...new Set(names.filter((name) => !(name in allowScripts)))].sort();
}

// npm 11 lists every dependency whose install script `allowScripts` does not decide after each
// install: a newcomer's `npm install` must end without that list, so each is decided in package.json.
describe('install scripts of the dependency tree', () => {
  it('every locked package with an install script is approved or denied in package.json', () => {
    expect(undecidedInstallScripts(manifest.allowScripts ?? {}, lock.packages)).toEqual([]);
  });

  it('the check catches a new dependency with an install script', () => {
    const tree = { '': {}, 'node_modules/esbuild': { hasInstallScript: true }, 'node_modules/a/node_modules/sharp': { hasInstallScript: true }, 'node_modules/plain': {} };
    expect(undecidedInstallScripts({ esbuild: true }, tree)).toEqual(['sharp']);
  });
});
