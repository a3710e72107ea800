import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cruise, type IConfiguration, type ICruiseResult, type IViolation } from 'dependency-cruiser';

/**
 * The house's boundaries (issue 13), checked on every run with the rules in
 * `.dependency-cruiser.cjs`: no exceptions, and no cycle between capability folders either.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const config = createRequire(import.meta.url)(join(ROOT, '.dependency-cruiser.cjs')) as IConfiguration;

async function cruiseTree(baseDir: string, folders: string[]): Promise<ICruiseResult> {
  const result = await cruise(folders, { ...config.options, validate: true, ruleSet: { forbidden: config.forbidden ?? [] }, baseDir });
  if (typeof result.output === 'string') throw new Error('dependency-cruiser answered text, not a result');
  return result.output;
}

const describeViolation = (v: IViolation) => `${v.rule.name}: ${v.from} → ${v.cycle?.map((c) => c.name).join(' → ') ?? v.to}`;

/** A capability folder (`server/src/<capability>`), a part of the platform shell (`server/src/platform/<part>`), or `platform` for the composition roots on top. */
function folderOf(path: string): string | undefined {
  const match = /^server\/src\/(platform\/[^/]+(?=\/)|[^/]+(?=\/))/.exec(path);
  return match?.[1];
}

/** Strongly connected groups of more than one folder: each is a folder cycle. */
function folderCycles(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const to of edges.get(node) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) === index.get(node)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== node);
      if (group.length > 1) cycles.push(group.sort());
    }
  };
  for (const node of edges.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

function folderEdges(result: ICruiseResult): Map<string, Set<string>> {
  const edges = new Map<string, Set<string>>();
  for (const module of result.modules) {
    const from = folderOf(module.source);
    if (!from) continue;
    for (const dependency of module.dependencies) {
      const to = folderOf(dependency.resolved);
      if (!to || to === from) continue;
      edges.set(from, (edges.get(from) ?? new Set()).add(to));
    }
  }
  return edges;
}

describe('the boundaries of the house', () => {
  it('hold for the whole tree, without exceptions', async () => {
    const result = await cruiseTree(ROOT, ['server/src', 'web/src', 'contract/src']);
    expect(result.summary.totalCruised).toBeGreaterThan(300);
    expect(result.summary.violations.map(describeViolation)).toEqual([]);
  }, 120_000);

  it('leave no cycle between capability folders', async () => {
    const result = await cruiseTree(ROOT, ['server/src']);
    const edges = folderEdges(result);
    // The check sees the real dependencies between folders (sharing reads intervals through its index).
    expect(edges.get('sharing')?.has('intervals')).toBe(true);
    expect(folderCycles(edges)).toEqual([]);
  }, 120_000);
});

describe('the rules catch what they forbid', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gridshare-boundaries-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };

  it('flags a kernel import, an impure domain, a reach past an index, a shell that knows a capability, a cycle, a heavy worker and a web import of the server', async () => {
    write('server/src/kernel/time.ts', "import { x } from '../registry/index.js';\nexport const t = x;\n");
    write('server/src/registry/index.ts', "export const x = 1;\nexport { y } from './members.js';\n");
    write('server/src/registry/members.ts', "export const y = 2;\n");
    write('server/src/sharing/domain/split.ts', "import { readFileSync } from 'node:fs';\nimport { y } from '../../registry/index.js';\nexport const s = [readFileSync, y];\n");
    write('server/src/billing/settlements.ts', "import { y } from '../registry/members.js';\nexport const b = y;\n");
    write('server/src/platform/http/app.ts', "import { x } from '../../registry/index.js';\nexport const a = x;\n");
    write('server/src/ops/a.ts', "import { b } from './b.js';\nexport const a = b;\n");
    write('server/src/ops/b.ts', "import { a } from './a.js';\nexport const b = a;\n");
    write('server/src/provisioning/artefact-worker.ts', "import { y } from './build.js';\nexport const w = y;\n");
    write('server/src/provisioning/build.ts', "import { y } from '../registry/index.js';\nexport { y };\n");
    write('web/src/page.ts', "import { x } from '../../server/src/registry/index.js';\nexport const p = x;\n");
    const result = await cruiseTree(dir, ['server/src', 'web/src']);
    const broken = new Set(result.summary.violations.map((v) => v.rule.name));
    expect([...broken].sort()).toEqual([
      'capability-through-index', 'domain-does-no-io', 'domain-is-pure', 'kernel-imports-nothing', 'no-cycles',
      'platform-shell-imports-no-capability', 'web-only-through-the-contract', 'worker-modules-stay-light',
    ]);
  }, 120_000);

  it('finds a cycle between folders, and none where dependencies only go one way', () => {
    expect(folderCycles(new Map([['registry', new Set(['sharing'])], ['sharing', new Set(['billing'])], ['billing', new Set(['registry'])]])))
      .toEqual([['billing', 'registry', 'sharing']]);
    expect(folderCycles(new Map([['billing', new Set(['sharing'])], ['sharing', new Set(['registry'])]]))).toEqual([]);
    expect(folderOf('server/src/platform/events/bus.ts')).toBe('platform/events');
    expect(folderOf('server/src/sharing/domain/allocation/engine.ts')).toBe('sharing');
    expect(folderOf('server/src/platform/compose.ts')).toBe('platform');
  });
});
