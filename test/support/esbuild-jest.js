/**
 * Jest transform: TypeScript → CommonJS with esbuild (already locked in as tsx's engine).
 *
 * Why not @swc/jest or Jest 30: both pull per-platform native packages (@swc/core-*, @unrs/resolver-*)
 * whose lockfile entries the registry mirror on our machines cannot resolve, which makes `npm ci` refuse the
 * lock. esbuild's platform packages resolve everywhere. Type-checking is `tsc --noEmit`, run by `npm test`.
 */
const { createHash } = require('node:crypto');
const { transformSync, version } = require('esbuild');

const OPTIONS = { format: 'cjs', target: 'node20', sourcemap: 'inline' };

module.exports = {
  process(source, filename) {
    const loader = filename.endsWith('.js') ? 'js' : 'ts';
    return { code: transformSync(source, { ...OPTIONS, loader, sourcefile: filename }).code };
  },
  /** Jest caches transformed files: the key covers everything that changes the output. */
  getCacheKey(source, filename) {
    return createHash('sha256')
      .update([version, JSON.stringify(OPTIONS), filename, source].join('\0'))
      .digest('hex');
  },
};
