/**
 * `database.engine: postgres` end to end through the constructs: dev and prod as shipped, switched to Cloud SQL for
 * PostgreSQL (no config/ file: a new environment would change dist/'s layout). The same objects as on MySQL, and
 * the only differences are the engine's: the URI scheme and port in the two ExternalSecret templates and the
 * proxy's `--port` in every pod that reaches the database. Every object is checked against the Kubernetes and CRD
 * schemas and Pod Security `restricted`, as synth checks the shipped environments.
 */
import type { Server } from '../../lib/config/model';
import { validateManifest } from '../../tools/schema-validation';
import { mlflowManifests, policyProblems, renderEnvironment } from '../../lib/synth/synth';
import { containerNamed, find } from '../support/constructs';
import { configFrom, rawConfig } from '../../tools/environments';

function postgresVariant(name: string): Server {
  const doc = rawConfig(name);
  doc.database.engine = 'postgres';
  return configFrom(name, doc);
}

/**
 * Every leaf of a JSON value as `path` → value, for comparing two renderings field by field. List items with a
 * `name` are keyed by it (`initContainers[cloud-sql-proxy]`); a list of plain values (an argv) is one leaf.
 */
function leaves(value: unknown, at = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (Array.isArray(value) && value.every((v) => v === null || typeof v !== 'object')) {
    out[at] = JSON.stringify(value);
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => leaves(v, `${at}[${typeof v?.name === 'string' ? v.name : i}]`, out));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) leaves(v, at === '' ? k : `${at}.${k}`, out);
  } else {
    out[at] = value;
  }
  return out;
}

/** The fields that differ between two renderings, keyed `Kind/name path`, as `[mysql, postgres]`. */
function differences(mysql: any[], postgres: any[]): Record<string, [unknown, unknown]> {
  const byId = (ms: any[]) => Object.fromEntries(ms.map((m) => [`${m.kind}/${m.metadata.name}`, leaves(m)]));
  const a = byId(mysql);
  const b = byId(postgres);
  expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort()); // the same objects
  const out: Record<string, [unknown, unknown]> = {};
  for (const id of Object.keys(a)) {
    for (const p of new Set([...Object.keys(a[id]), ...Object.keys(b[id])])) {
      if (a[id][p] !== b[id][p]) out[`${id} ${p}`] = [a[id][p], b[id][p]];
    }
  }
  return out;
}

const proxyPortArg = (spec: any) => containerNamed(spec, 'cloud-sql-proxy').args.find((a: string) => a.startsWith('--port='));

describe.each(['dev', 'prod'])('%s on Cloud SQL for PostgreSQL', (name) => {
  // Rendered in beforeAll, not while jest collects the suite (tools/mutation/mutation-attribution.js).
  let mysql: any[];
  let postgres: any[];
  beforeAll(() => {
    mysql = mlflowManifests(configFrom(name, rawConfig(name)));
    postgres = mlflowManifests(postgresVariant(name));
  });

  test('the same objects; only the URI scheme and port and the proxy port differ', () => {
    const dbUri = (u: string) => u.replace('mysql+pymysql://', 'postgresql+psycopg2://').replace('@127.0.0.1:3306/', '@127.0.0.1:5432/');
    const mysqlDb = find(mysql, 'ExternalSecret', 'mlflow-database').spec.target.template.data.MLFLOW_BACKEND_STORE_URI;
    const mysqlIni = find(mysql, 'ExternalSecret', 'mlflow-auth').spec.target.template.data['basic_auth.ini'];
    const mysqlProxyArgs = JSON.stringify(containerNamed(find(mysql, 'Deployment', 'mlflow').spec.template.spec, 'cloud-sql-proxy').args);
    expect(differences(mysql, postgres)).toEqual({
      'ExternalSecret/mlflow-database spec.target.template.data.MLFLOW_BACKEND_STORE_URI': [mysqlDb, dbUri(mysqlDb)],
      'ExternalSecret/mlflow-auth spec.target.template.data.basic_auth.ini': [mysqlIni, dbUri(mysqlIni)],
      'Deployment/mlflow spec.template.spec.initContainers[cloud-sql-proxy].args': [mysqlProxyArgs, mysqlProxyArgs.replace('"--port=3306"', '"--port=5432"')],
      'Job/mlflow-migrate spec.template.spec.initContainers[cloud-sql-proxy].args': [mysqlProxyArgs, mysqlProxyArgs.replace('"--port=3306"', '"--port=5432"')],
    });
    expect(mysqlProxyArgs).toContain('"--port=3306"');
  });

  test('the backend URI and the auth store URI: psycopg2 through the proxy on 5432, credentials from Secret Manager', () => {
    expect(find(postgres, 'ExternalSecret', 'mlflow-database').spec.target.template.data).toEqual({
      MLFLOW_BACKEND_STORE_URI: 'postgresql+psycopg2://{{ .user | urlquery | replace "+" "%20" }}:{{ .password | urlquery | replace "+" "%20" }}@127.0.0.1:5432/mlflow',
    });
    expect(find(postgres, 'ExternalSecret', 'mlflow-auth').spec.target.template.data['basic_auth.ini']).toContain(
      'database_uri = postgresql+psycopg2://{{ .user | urlquery | replace "+" "%20" | replace "%" "%%" }}:{{ .password | urlquery | replace "+" "%20" | replace "%" "%%" }}@127.0.0.1:5432/mlflow\n',
    );
  });

  test('the server and the migration Job reach it through the proxy on 5432', () => {
    expect(proxyPortArg(find(postgres, 'Deployment', 'mlflow').spec.template.spec)).toBe('--port=5432');
    expect(proxyPortArg(find(postgres, 'Job', 'mlflow-migrate').spec.template.spec)).toBe('--port=5432');
  });

  test('every object passes the Kubernetes and CRD schemas and Pod Security restricted; the whole environment renders', () => {
    expect(postgres.flatMap((m) => validateManifest(m).map((p) => `${m.kind}/${m.metadata.name}: ${p}`))).toEqual([]);
    expect(policyProblems(postgres)).toEqual([]);
    expect(() => renderEnvironment({ name, servers: [postgresVariant(name)] })).not.toThrow();
  });
});
