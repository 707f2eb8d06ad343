/** An older MLflow's tracking schema, for the migration suites' upgrade cases (test/fixtures/older-schema.py). */
import { spawnSync } from 'child_process';
import * as path from 'path';

const SCRIPT = path.join(__dirname, '..', 'fixtures', 'older-schema.py');

/** Makes the tracking schema of an older MLflow at `uri` with MLflow's own code: its first tables, then alembic up to `revision`. */
export function makeOlderSchema(python: string, uri: string, revision: string, env: NodeJS.ProcessEnv): void {
  const r = spawnSync(python, [SCRIPT, uri, revision], { encoding: 'utf8', timeout: 300_000, env });
  if (r.status !== 0) throw new Error(`could not make the older schema at ${revision} (exit ${r.status}):\n${r.stdout}${r.stderr}`);
}
