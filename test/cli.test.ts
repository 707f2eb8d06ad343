/**
 * The synth command as a user runs it: every malformed config in test/fixtures/bad-configs is refused with
 * exit ≠ 0, a message naming the file and the problem, and nothing written; a valid config is synthesized
 * into --out.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { promisify } from 'util';
import { ROOT, RUN_TS } from './support/environments';

const run = promisify(execFile);
const CORPUS = path.join(ROOT, 'test', 'fixtures', 'bad-configs');

async function synth(config: string, out: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [...RUN_TS, 'main.ts', '--config', config, '--out', out], { cwd: ROOT });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Runs `fn` over `items`, `limit` at a time (each call is a separate node process). */
async function pool<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

function snapshotTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p, 'utf8');
    }
  };
  walk(dir);
  return out;
}

describe('malformed configs', () => {
  const files = fs.readdirSync(CORPUS).filter((f) => f.endsWith('.yaml')).sort();

  test('the corpus has at least 20 cases, each stating the message it expects', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
    for (const f of files) expect(fs.readFileSync(path.join(CORPUS, f), 'utf8')).toMatch(/^# expect: .+\n/);
  });

  test('each is refused: exit ≠ 0, file + field + expectation in the message, output untouched', async () => {
    const results = await pool(files, 3, async (f) => {
      const file = path.join(CORPUS, f);
      const expected = /^# expect: (.+)\n/.exec(fs.readFileSync(file, 'utf8'))![1];
      const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bad-config-'));
      fs.writeFileSync(path.join(out, 'previous.yaml'), 'kept: true\n');
      const r = await synth(file, out);
      const tree = snapshotTree(out);
      fs.rmSync(out, { recursive: true, force: true });
      return { f, expected, r, tree };
    });
    for (const { f, expected, r, tree } of results) {
      expect({ f, code: r.code }).toEqual({ f, code: 1 });
      expect({ f, stderr: r.stderr }).toEqual({ f, stderr: expect.stringContaining(`nothing was written`) });
      expect({ f, stderr: r.stderr }).toEqual({ f, stderr: expect.stringContaining(`${path.join(CORPUS, f)}: `) });
      expect({ f, stderr: r.stderr }).toEqual({ f, stderr: expect.stringContaining(expected) });
      expect({ f, tree }).toEqual({ f, tree: { 'previous.yaml': 'kept: true\n' } });
    }
  });
});

describe('single-file mode', () => {
  test('writes exactly that environment into --out, replacing what was there', async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'synth-one-'));
    fs.writeFileSync(path.join(out, 'stale.yaml'), 'stale: true\n');
    const r = await synth(path.join(ROOT, 'config', 'dev.yaml'), out);
    const tree = snapshotTree(out);
    fs.rmSync(out, { recursive: true, force: true });
    expect(r.code).toBe(0);
    expect(Object.keys(tree)).not.toContain('stale.yaml');
    expect(Object.keys(tree)).toEqual(expect.arrayContaining(['mlflow/deployment-mlflow.yaml', 'apps/application-mlflow-dev.yaml', 'argocd/kustomization.yaml']));
    // Same bytes as the committed dist/dev.
    expect(tree['mlflow/deployment-mlflow.yaml']).toBe(fs.readFileSync(path.join(ROOT, 'dist', 'dev', 'mlflow', 'deployment-mlflow.yaml'), 'utf8'));
  });

  test('usage errors exit non-zero', async () => {
    const r = await synth(path.join(ROOT, 'config', 'dev.yaml'), '');
    expect(r.code).not.toBe(0);
  });
});
