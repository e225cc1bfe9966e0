// Lets plain Node (a worker thread, a child process) run the TypeScript sources the way vitest does:
// `./x.js` imports resolve to `./x.ts` when only the source exists, and .ts files lose their types.
// Passed with `--import` to the processes tests start (a worker thread inherits it); a build (dist/) never
// needs it. Written in erasable TypeScript only, so Node loads this file itself.
import { existsSync } from 'node:fs';
import { registerHooks, stripTypeScriptTypes } from 'node:module';
import { fileURLToPath } from 'node:url';

registerHooks({
  resolve(specifier, context, nextResolve) {
    if (specifier.endsWith('.js') && /^(\.|\/|file:)/.test(specifier)) {
      const url = new URL(specifier, context.parentURL);
      if (!existsSync(fileURLToPath(url))) {
        const source = new URL(url.href.replace(/\.js$/, '.ts'));
        if (existsSync(fileURLToPath(source))) return nextResolve(source.href, context);
      }
    }
    return nextResolve(specifier, context);
  },
  load(url, context, nextLoad) {
    if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
    const loaded = nextLoad(url, { ...context, format: 'module' });
    const source = typeof loaded.source === 'string' ? loaded.source : new TextDecoder().decode(loaded.source);
    return {
      format: 'module',
      source: stripTypeScriptTypes(source, { mode: 'transform', sourceUrl: url }),
      shortCircuit: true,
    };
  },
});
