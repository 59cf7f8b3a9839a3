// Import rules for lib/, checked by `npm run deps` (part of `npm run check`, which CI runs).
// The layout they keep is the "lib/ layout" table of the design: imports flow down it.

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'No import cycle in lib/, type-only imports included: a cycle of types is still a cycle ' +
        'for a reader. Break it by moving the type or function to the file that owns it.',
      from: { path: '^lib/' },
      to: { circular: true },
    },
    {
      name: 'concerns-do-not-import-options',
      severity: 'error',
      comment:
        'options/ composes the option tables each concern owns, so it sits above the concerns: ' +
        'only options/ itself and the root files (lib/*.ts) import it. A concern declares the ' +
        'options it reads (client/provider-options.ts, canary/canary-options.ts, ...) and ' +
        'options/ re-exports them.',
      from: { path: '^lib/[^/]+/', pathNot: '^lib/options/' },
      to: { path: '^lib/options/' },
    },
    {
      name: 'rules-are-the-bottom-layer',
      severity: 'error',
      comment:
        'rules/ is the option rule vocabulary and the timeouts every layer shares (providers, ' +
        'calls, routes, the fault classifier): every concern may import it, so it imports none.',
      from: { path: '^lib/rules/' },
      to: { path: '^lib/', pathNot: '^lib/rules/' },
    },
    {
      name: 'resolvable',
      severity: 'error',
      comment:
        'An import of a lib/ file the checker cannot resolve would hide its cycles (packages are ' +
        "the typecheck's business).",
      from: { path: '^lib/' },
      to: { couldNotResolve: true, path: '^[.]' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports and re-exports count.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
