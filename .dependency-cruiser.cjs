/**
 * The boundaries of the house (issue 13), checked by server/test/architecture/boundaries.test.ts
 * in `npm test`. There are no exceptions: a violation fails the run. Folder cycles (capability ⇄
 * capability) are checked by the same test on top of these rules.
 */
const CAPABILITY = '^server/src/([^/]+)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'kernel-imports-nothing',
      comment: 'The kernel is the shared vocabulary (time, energy, money, errors, events): it stands on its own.',
      severity: 'error',
      from: { path: '^server/src/kernel/' },
      to: { path: '^server/src/', pathNot: '^server/src/kernel/' },
    },
    {
      name: 'domain-is-pure',
      comment: 'Pure cores (domain/) import only the kernel and their own domain: no database, no HTTP, no other capability.',
      severity: 'error',
      from: { path: '^server/src/([^/]+)/domain/' },
      to: { path: '^server/src/', pathNot: ['^server/src/kernel/', '^server/src/$1/domain/'] },
    },
    {
      name: 'domain-does-no-io',
      comment: 'Pure cores read no files, open no sockets and start no processes; the service around them does.',
      severity: 'error',
      from: { path: '^server/src/[^/]+/domain/' },
      to: { dependencyTypes: ['core'], path: '^(node:)?(fs|fs/promises|net|http|https|http2|dgram|child_process|worker_threads|cluster)$' },
    },
    {
      name: 'capability-through-index',
      comment: 'A capability (and the composition root) reaches another capability only through its public index.ts, never its files or tables.',
      severity: 'error',
      from: { path: CAPABILITY },
      to: {
        path: '^server/src/[^/]+/.',
        pathNot: ['^server/src/$1/', '^server/src/(kernel|platform)/', '^server/src/[^/]+/index\\.ts$'],
      },
    },
    {
      name: 'platform-shell-imports-no-capability',
      comment: 'The shell (store, http, mqtt, events, jobs, cli kit) serves every capability and knows none; only the composition roots at platform/*.ts wire them.',
      severity: 'error',
      from: { path: '^server/src/platform/[^/]+/' },
      to: { path: '^server/src/', pathNot: ['^server/src/(kernel|platform)/'] },
    },
    {
      name: 'nobody-imports-the-composition-root',
      comment: 'platform/compose.ts, platform/cli.ts and platform/start-command.ts sit on top; capabilities never reach up to them.',
      severity: 'error',
      from: { path: '^server/src/', pathNot: '^server/src/platform/[^/]+\\.ts$' },
      to: { path: '^server/src/platform/[^/]+\\.ts$' },
    },
    {
      name: 'no-cycles',
      comment: 'No import cycle between files (folder cycles are checked by the test).',
      severity: 'error',
      from: { path: '^(server/src|web/src|contract)/' },
      to: { circular: true },
    },
    {
      name: 'worker-modules-stay-light',
      comment: 'A module run in a worker thread loads only what it needs: a capability index would pull native add-ons (argon2) into the thread, which abort the process when the thread ends.',
      severity: 'error',
      from: { path: '-worker\\.(ts|mjs)$' },
      to: { path: '^server/src/[^/]+/index\\.ts$', reachable: true },
    },
    {
      name: 'web-only-through-the-contract',
      comment: 'The browser app shares nothing with the server but the contract package.',
      severity: 'error',
      from: { path: '^web/src/' },
      to: { path: '^(server|bench)/' },
    },
    {
      name: 'contract-stands-alone',
      comment: 'The contract is imported by server and web alike, so it imports neither (and no Node-only module).',
      severity: 'error',
      from: { path: '^contract/' },
      to: { path: '^(server|web|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/|\\.d\\.ts$' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.json'],
    },
  },
};
