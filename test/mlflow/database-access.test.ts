/**
 * DatabaseAccess in a test chart: the backend URI and, for Cloud SQL, the proxy as a native sidecar of any pod
 * that connects (docs/design.md#database-and-proxy).
 */
import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { CloudSqlDatabase } from '../../lib/config/model';
import { DataVolume } from '../../lib/mlflow/data-volume';
import { DatabaseAccess, iamDatabaseUser, iamDatabaseUserProblem, loginProxyArgs } from '../../lib/mlflow/database-access';
import { containerNamed, find, mountsOf, objectsOf, testChart } from '../support/constructs';
import { IAM_DATABASE, MYSQL_DATABASE as MYSQL } from '../support/resolved';

/** The same database on Cloud SQL for PostgreSQL. */
const POSTGRES: CloudSqlDatabase = { ...MYSQL, engine: 'postgres' };

/** A pod with one container `app`, connected through DatabaseAccess. */
function connected(database: CloudSqlDatabase | 'sqlite') {
  const chart = testChart();
  const db =
    database === 'sqlite'
      ? new DatabaseAccess(chart, 'Db', { engine: 'sqlite', volume: new DataVolume(chart, 'Data', { size: Size.gibibytes(1) }) })
      : new DatabaseAccess(chart, 'Db', { engine: 'cloud-sql', database, serviceAccount: new kplus.ServiceAccount(chart, 'Sa') });
  const pod = new kplus.Pod(chart, 'Pod', { metadata: { name: 'p' } });
  const app = pod.addContainer({ name: 'app', image: 'example/app:1' });
  db.connect(pod, app);
  // A SQLite pod connects twice (its migrate init container and the server): the mount must stay single.
  if (database === 'sqlite') db.connect(pod, app);
  return { db, spec: find(objectsOf(chart), 'Pod', 'p').spec };
}

describe('Cloud SQL', () => {
  test('the proxy: a native sidecar on loopback 3306, private IP, health checks, clean exit', () => {
    const { spec } = connected(MYSQL);
    const proxy = containerNamed(spec, 'cloud-sql-proxy');
    expect(proxy.restartPolicy).toBe('Always');
    expect(proxy.image).toBe('gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.23.0@sha256:54e23cad9aeeedbf88ab75f993146631b878035f702b31c51885a932e0c7286c');
    expect(proxy.args).toEqual([
      'proj-123456:europe-west1:db',
      '--address=127.0.0.1',
      '--port=3306',
      '--private-ip',
      '--structured-logs',
      '--health-check',
      '--http-address=0.0.0.0',
      '--http-port=9801',
      '--exit-zero-on-sigterm',
    ]);
    expect(proxy.ports).toEqual([{ name: 'proxy-health', containerPort: 9801 }]);
    expect(proxy.startupProbe).toMatchObject({ httpGet: { path: '/startup', port: 9801 }, periodSeconds: 2, failureThreshold: 30 });
    // A short CPU stall must not restart the proxy (every database connection of the pod goes with it): the proxy's
    // own example probes every 60 s, allows 30 s to answer and restarts after 5 misses.
    expect(proxy.livenessProbe).toEqual({ httpGet: { path: '/liveness', port: 9801, scheme: 'HTTP' }, periodSeconds: 60, timeoutSeconds: 30, failureThreshold: 5 });
    expect(proxy.resources).toEqual({ requests: { cpu: '50m', memory: '64Mi' }, limits: { cpu: '500m', memory: '256Mi' } });
    expect(proxy.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, readOnlyRootFilesystem: true });
  });

  test('privateIp false: no --private-ip', () => {
    expect(containerNamed(connected({ ...MYSQL, privateIp: false }).spec, 'cloud-sql-proxy').args).not.toContain('--private-ip');
  });

  test('the backend URI comes from the Secret; pool sizing from the config', () => {
    const { db } = connected(MYSQL);
    const chart = testChart();
    const pod = new kplus.Pod(chart, 'Pod', { metadata: { name: 'p' } });
    pod.addContainer({ name: 'app', image: 'example/app:1', envVariables: { MLFLOW_BACKEND_STORE_URI: db.backendStoreUri, ...db.poolEnv() } });
    expect(containerNamed(find(objectsOf(chart), 'Pod', 'p').spec, 'app').env).toEqual([
      { name: 'MLFLOW_BACKEND_STORE_URI', valueFrom: { secretKeyRef: { name: 'mlflow-database', key: 'MLFLOW_BACKEND_STORE_URI' } } },
      { name: 'MLFLOW_SQLALCHEMYSTORE_POOL_SIZE', value: '4' },
      { name: 'MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW', value: '3' },
      { name: 'MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE', value: '900' },
    ]);
    expect(db.migratesInServerPod).toBe(false);
  });
});

test('the MySQL URI template: percent-encoded credentials, the proxy on loopback, the database; an extra pipe per credential', () => {
  expect(DatabaseAccess.cloudSqlUriTemplate(MYSQL)).toBe('mysql+pymysql://{{ .user | urlquery | replace "+" "%20" }}:{{ .password | urlquery | replace "+" "%20" }}@127.0.0.1:3306/tracking');
  expect(DatabaseAccess.cloudSqlUriTemplate(MYSQL, ' | upper')).toBe('mysql+pymysql://{{ .user | urlquery | replace "+" "%20" | upper }}:{{ .password | urlquery | replace "+" "%20" | upper }}@127.0.0.1:3306/tracking');
});

describe('Cloud SQL for PostgreSQL', () => {
  test('the URI template: psycopg2 through the proxy on loopback 5432, credentials percent-encoded as for MySQL', () => {
    expect(DatabaseAccess.cloudSqlUriTemplate(POSTGRES)).toBe(
      'postgresql+psycopg2://{{ .user | urlquery | replace "+" "%20" }}:{{ .password | urlquery | replace "+" "%20" }}@127.0.0.1:5432/tracking',
    );
    expect(DatabaseAccess.cloudSqlUriTemplate(POSTGRES, ' | upper')).toBe(
      'postgresql+psycopg2://{{ .user | urlquery | replace "+" "%20" | upper }}:{{ .password | urlquery | replace "+" "%20" | upper }}@127.0.0.1:5432/tracking',
    );
  });

  test('the proxy listens on 5432; every other argument, probe and limit as for MySQL', () => {
    const pg = containerNamed(connected(POSTGRES).spec, 'cloud-sql-proxy');
    expect(pg.args).toEqual([
      'proj-123456:europe-west1:db',
      '--address=127.0.0.1',
      '--port=5432',
      '--private-ip',
      '--structured-logs',
      '--health-check',
      '--http-address=0.0.0.0',
      '--http-port=9801',
      '--exit-zero-on-sigterm',
    ]);
    const { args: _pgArgs, ...pgRest } = pg;
    const { args: _myArgs, ...mysqlRest } = containerNamed(connected(MYSQL).spec, 'cloud-sql-proxy');
    expect(pgRest).toEqual(mysqlRest);
  });

  test('the URI from the Secret and the pool env, as for MySQL; migrated by the Job, not in the server pod', () => {
    const { db } = connected(POSTGRES);
    expect(db.poolEnv()).toEqual({
      MLFLOW_SQLALCHEMYSTORE_POOL_SIZE: expect.objectContaining({ value: '4' }),
      MLFLOW_SQLALCHEMYSTORE_MAX_OVERFLOW: expect.objectContaining({ value: '3' }),
      MLFLOW_SQLALCHEMYSTORE_POOL_RECYCLE: expect.objectContaining({ value: '900' }),
    });
    expect(db.migratesInServerPod).toBe(false);
  });
});

describe('IAM database login', () => {
  /** A pod connected through DatabaseAccess with IAM login as `iamUser`. */
  function connectedIam(iamUser: string) {
    const chart = testChart();
    const db = new DatabaseAccess(chart, 'Db', { engine: 'cloud-sql', database: { ...IAM_DATABASE, iamUser }, serviceAccount: new kplus.ServiceAccount(chart, 'Sa') });
    const pod = new kplus.Pod(chart, 'Pod', { metadata: { name: 'p' } });
    const app = pod.addContainer({ name: 'app', image: 'example/app:1', envVariables: { MLFLOW_BACKEND_STORE_URI: db.backendStoreUri } });
    db.connect(pod, app);
    return { db, spec: find(objectsOf(chart), 'Pod', 'p').spec };
  }

  test('the proxy adds --auto-iam-authn after the connection flags; the URI is a plain value with the user and no password', () => {
    const { db, spec } = connectedIam('mlflow-server');
    expect(containerNamed(spec, 'cloud-sql-proxy').args).toEqual([
      'proj-123456:europe-west1:db',
      '--address=127.0.0.1',
      '--port=3306',
      '--private-ip',
      '--auto-iam-authn',
      '--structured-logs',
      '--health-check',
      '--http-address=0.0.0.0',
      '--http-port=9801',
      '--exit-zero-on-sigterm',
    ]);
    expect(containerNamed(spec, 'app').env).toEqual([{ name: 'MLFLOW_BACKEND_STORE_URI', value: 'mysql+pymysql://mlflow-server@127.0.0.1:3306/tracking' }]);
    expect(db.migratesInServerPod).toBe(false);
  });

  test('password login: no IAM flag (the flag follows the login alone)', () => {
    expect(containerNamed(connected(MYSQL).spec, 'cloud-sql-proxy').args).not.toContain('--auto-iam-authn');
    expect(loginProxyArgs(true)).toEqual(['--auto-iam-authn']);
    expect(loginProxyArgs(false)).toEqual([]);
  });

  test("the IAM URI percent-encodes the user (PostgreSQL's names keep the '@')", () => {
    expect(DatabaseAccess.cloudSqlIamUri(MYSQL, 'mlflow-server')).toBe('mysql+pymysql://mlflow-server@127.0.0.1:3306/tracking');
    expect(DatabaseAccess.cloudSqlIamUri(MYSQL, 'sa@proj-123456.iam')).toBe('mysql+pymysql://sa%40proj-123456.iam@127.0.0.1:3306/tracking');
  });
});

describe('iamDatabaseUser: the name Cloud SQL gives a service account, per engine', () => {
  // Written out from Cloud SQL's documentation (iam-logins, add-manage-iam-users), not computed.
  test.each([
    ['mlflow-server@example-mlflow-dev.iam.gserviceaccount.com', 'mysql', 'mlflow-server'],
    ['mlflow-server@example-mlflow-dev.iam.gserviceaccount.com', 'postgres', 'mlflow-server@example-mlflow-dev.iam'],
    ['sa-name@project-id.iam.gserviceaccount.com', 'mysql', 'sa-name'],
    ['sa-name@project-id.iam.gserviceaccount.com', 'postgres', 'sa-name@project-id.iam'],
    // The longest account id (30) and project id (30): MySQL keeps the 30 characters before '@'.
    ['abcdefghijklmnopqrstuvwxyz0123@abcdefghijklmnopqrstuvwxyz0123.iam.gserviceaccount.com', 'mysql', 'abcdefghijklmnopqrstuvwxyz0123'],
    // PostgreSQL at its limit: 28 + 1 + 30 + 4 = 63 characters.
    ['abcdefghijklmnopqrstuvwxyz01@abcdefghijklmnopqrstuvwxyz0123.iam.gserviceaccount.com', 'postgres', 'abcdefghijklmnopqrstuvwxyz01@abcdefghijklmnopqrstuvwxyz0123.iam'],
  ] as const)('%s on %s → %s', (email, engine, user) => {
    expect(iamDatabaseUser(email, engine)).toBe(user);
    expect(iamDatabaseUserProblem(email, engine)).toBeUndefined();
  });

  test('PostgreSQL: a name over 63 characters is refused with its length', () => {
    const email = 'abcdefghijklmnopqrstuvwxyz012@abcdefghijklmnopqrstuvwxyz0123.iam.gserviceaccount.com';
    const message =
      "the IAM database user 'abcdefghijklmnopqrstuvwxyz012@abcdefghijklmnopqrstuvwxyz0123.iam' of " +
      'abcdefghijklmnopqrstuvwxyz012@abcdefghijklmnopqrstuvwxyz0123.iam.gserviceaccount.com has 64 characters; postgres accepts at most 63';
    expect(iamDatabaseUserProblem(email, 'postgres')).toBe(message);
    expect(() => iamDatabaseUser(email, 'postgres')).toThrow(message);
    expect(iamDatabaseUser(email, 'mysql')).toBe('abcdefghijklmnopqrstuvwxyz012');
  });

  test('MySQL: a name over 32 characters is refused (not reachable from a valid account id, which has at most 30)', () => {
    const email = 'abcdefghijklmnopqrstuvwxyz0123456@p.iam.gserviceaccount.com';
    expect(() => iamDatabaseUser(email, 'mysql')).toThrow(
      "the IAM database user 'abcdefghijklmnopqrstuvwxyz0123456' of abcdefghijklmnopqrstuvwxyz0123456@p.iam.gserviceaccount.com has 33 characters; mysql accepts at most 32",
    );
  });

  test.each(['someone@example.com', '@p.iam.gserviceaccount.com', 'sa@p.gserviceaccount.com'])('not a service account email: %s', (email) => {
    expect(() => iamDatabaseUser(email, 'mysql')).toThrow(`not a Google service account email (NAME@PROJECT.iam.gserviceaccount.com): '${email}'`);
  });
});

describe('SQLite', () => {
  test('a file on the data volume, mounted once however often a pod connects; no proxy; migrated in the server pod', () => {
    const { db, spec } = connected('sqlite');
    expect(spec.initContainers).toBeUndefined();
    expect(mountsOf(containerNamed(spec, 'app'))).toEqual({ '/mlflow/data': { name: 'data' } });
    expect(db.backendStoreUri.value).toBe('sqlite:////mlflow/data/mlflow.db');
    expect(db.poolEnv()).toEqual({});
    expect(db.migratesInServerPod).toBe(true);
  });
});

test('snapshot: a pod connected to Cloud SQL', () => {
  expect(connected(MYSQL).spec).toMatchSnapshot();
});
