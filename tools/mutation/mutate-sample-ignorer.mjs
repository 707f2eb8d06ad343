/**
 * Stryker ignore plugin for `npm run mutate:sample` (tools/mutation/mutate-sample.mjs): the run is restricted to the
 * sampled mutants' source ranges, and a range also holds the mutants nested in it (a block holds its
 * statements'). This plugin skips a node inside a sampled range when nothing sampled lies at or inside it, so
 * the run tests the sample and not its neighbours. The sample comes from the file named by
 * MLFLOW_GITOPS_MUTATION_SAMPLE: { "<file relative to the repository>": [[startLine, startCol, endLine, endCol], ...] }
 * in the instrumenter's coordinates (0-based lines and columns).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PluginKind, declareValuePlugin } from '@stryker-mutator/api/plugin';

const file = process.env.MLFLOW_GITOPS_MUTATION_SAMPLE;
const sample = file ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
const root = file ? path.resolve(path.dirname(file), '..', '..', '..') : process.cwd();

const before = (a, b) => a[0] < b[0] || (a[0] === b[0] && a[1] <= b[1]);
/** Does range `outer` hold range `inner` ([sl, sc, el, ec])? */
const holds = (outer, inner) => before([outer[0], outer[1]], [inner[0], inner[1]]) && before([inner[2], inner[3]], [outer[2], outer[3]]);
const same = (a, b) => a.every((x, i) => x === b[i]);

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, 'mutation-sample', {
    shouldIgnore(nodePath) {
      const loc = nodePath.node.loc;
      const name = nodePath.hub?.file?.opts?.filename;
      if (!loc || !name) return undefined;
      const ranges = sample[path.isAbsolute(name) ? path.relative(root, name) : name];
      if (!ranges) return undefined;
      const node = [loc.start.line - 1, loc.start.column, loc.end.line - 1, loc.end.column];
      if (!ranges.some((r) => holds(r, node))) return undefined; // outside every range: Stryker does not mutate it
      if (ranges.some((r) => same(r, node) || holds(node, r))) return undefined; // sampled here or below
      return 'not in the sample (npm run mutate:sample)';
    },
  }),
];
