/**
 * Jest transform: TypeScript → CommonJS with esbuild (already locked in as tsx's engine).
 *
 * Why not @swc/jest or Jest 30: both pull per-platform native packages (@swc/core-*, @unrs/resolver-*)
 * whose lockfile entries the registry mirror on our machines cannot resolve, which makes `npm ci` refuse the
 * lock. esbuild's platform packages resolve everywhere. Type-checking is `tsc --noEmit`, run by `npm test`.
 */
const { createHash } = require('node:crypto');
const { transformSync, version } = require('esbuild');

module.exports = {
  process(source, filename) {
    const result = transformSync(source, {
      loader: filename.endsWith('.js') ? 'js' : 'ts',
      format: 'cjs',
      target: 'node20',
      sourcefile: filename,
      sourcemap: 'inline',
    });
    return { code: result.code };
  },
  getCacheKey(source, filename) {
    return createHash('sha256').update(version).update('\0').update(filename).update('\0').update(source).digest('hex');
  },
};
