/**
 * The `gc` section: its fields (cron schedule, days), the combinations refused (SQLite), and the connection budget
 * counting the gc pod — each with its exact message, and each guard shown silent at its boundary.
 */
import { formatProblem, validateEnvironment } from '../../lib/config/config';
import { GC_CONNECTIONS, connectionBudget } from '../../lib/config/sizing';
import { rawConfig, shippedConfigs } from '../../tools/environments';

function messages(name: string, mutate: (doc: any) => void): string[] {
  const doc = rawConfig(name);
  mutate(doc);
  return validateEnvironment(`config/${name}.yaml`, doc).problems.map(formatProblem);
}
const withGc = (gc: unknown) => (d: any) => (d.gc = gc);
const scheduleProblems = (schedule: unknown) => messages('dev', withGc({ schedule }));

test('the shipped environments do not opt in', () => {
  expect(shippedConfigs().map((c) => [c.name, c.gc])).toEqual([
    ['dev', undefined],
    ['local', undefined],
    ['prod', undefined],
  ]);
});

describe('gc.schedule', () => {
  test.each([
    '17 3 * * *',
    '0 */6 * * *',
    '0,30 1-5 * * MON-FRI',
    '5 4 1,15 * ?',
    '17 3 ? * *',
    '0 0 1 jan-jun/2 *',
    '59 23 31 12 6',
    '0 0 * * SUN',
    '  17   3 * * *  ',
  ])('%j is a valid schedule', (schedule) => {
    expect(scheduleProblems(schedule)).toEqual([]);
  });

  test.each([
    ['17 3 * *', "expected a cron schedule of five fields (minute hour day-of-month month day-of-week), e.g. '17 3 * * *'"],
    ['0 17 3 * * *', "expected a cron schedule of five fields (minute hour day-of-month month day-of-week), e.g. '17 3 * * *'"],
    ['', "expected a cron schedule of five fields (minute hour day-of-month month day-of-week), e.g. '17 3 * * *'"],
    ['@daily', "expected a cron schedule of five fields (minute hour day-of-month month day-of-week), e.g. '17 3 * * *'"],
    ['60 3 * * *', "the minute field '60' is out of range: expected values within 0-59"],
    ['17 24 * * *', "the hour field '24' is out of range: expected values within 0-23"],
    ['17 3 0 * *', "the day-of-month field '0' is out of range: expected values within 1-31"],
    ['17 3 * 13 *', "the month field '13' is out of range: expected values within 1-12"],
    ['17 3 * * 7', "the day-of-week field '7' is out of range: expected values within 0-6"],
    ['17 3 * * 1-9', "the day-of-week field '1-9' is out of range: expected values within 0-6"],
    ['*/0 3 * * *', "the minute field '*/0' has a step of 0: expected a step of at least 1"],
    ['17 5-1 * * *', "the hour field '5-1' has a range that runs backwards: expected a-b with a ≤ b"],
    ['17 3 * FOO *', "the month field 'FOO' is not valid: expected *, a value, a range a-b or a step */n within 1-12"],
    ['17 3 * * MON-', "the day-of-week field 'MON-' is not valid: expected *, a value, a range a-b or a step */n within 0-6"],
    ['? 3 * * *', "the minute field '?' is not valid: expected *, a value, a range a-b or a step */n within 0-59"],
    ['17 3,,4 * * *', "the hour field '3,,4' is not valid: expected *, a value, a range a-b or a step */n within 0-23"],
    ['1-2-3 3 * * *', "the minute field '1-2-3' is not valid: expected *, a value, a range a-b or a step */n within 0-59"],
  ])('%j is refused: %s', (schedule, message) => {
    expect(scheduleProblems(schedule)).toEqual([`config/dev.yaml: gc.schedule: ${message} (got ${JSON.stringify(schedule)})`]);
  });

  test('a schedule is required, and must be a string', () => {
    expect(messages('dev', withGc({ olderThanDays: 7 }))).toEqual([
      "config/dev.yaml: gc.schedule: required: expected a cron schedule such as '17 3 * * *'",
    ]);
    expect(scheduleProblems(3)).toEqual(["config/dev.yaml: gc.schedule: expected a cron schedule such as '17 3 * * *' (got 3)"]);
  });
});

describe('gc.olderThanDays', () => {
  test.each([0, 3651, 1.5, '30'])('%j is refused', (days) => {
    expect(messages('dev', withGc({ schedule: '17 3 * * *', olderThanDays: days }))).toEqual([
      `config/dev.yaml: gc.olderThanDays: expected a number of days from 1 to 3650 (got ${JSON.stringify(days)})`,
    ]);
  });

  test.each([1, 3650])('%j is accepted, and applied', (days) => {
    const doc = rawConfig('dev');
    doc.gc = { schedule: '17 3 * * *', olderThanDays: days };
    const { environment } = validateEnvironment('config/dev.yaml', doc);
    expect(environment?.servers[0].gc?.olderThanDays).toBe(days);
  });

  test('omitted: 30 days', () => {
    const doc = rawConfig('dev');
    doc.gc = { schedule: '17 3 * * *' };
    const { environment } = validateEnvironment('config/dev.yaml', doc);
    expect(environment?.servers[0].gc?.olderThanDays).toBe(30);
  });

  test('unknown fields are refused', () => {
    expect(messages('dev', withGc({ schedule: '17 3 * * *', olderThan: '30d' }))).toEqual([
      "config/dev.yaml: gc: unknown field 'olderThan': remove or fix the spelling",
    ]);
  });
});

describe('combinations', () => {
  test('SQLite: refused, the database file is on the server pod’s ReadWriteOnce volume', () => {
    expect(messages('local', withGc({ schedule: '17 3 * * *' }))).toEqual([
      "config/local.yaml: gc: needs a database server (database.engine 'mysql' or 'postgres'): the SQLite file is on the server's " +
        'ReadWriteOnce volume, which a CronJob pod cannot mount beside the server (it may be scheduled on another node); ' +
        'remove gc and run `mlflow gc` in the server pod instead (`kubectl exec deploy/mlflow -c mlflow -- mlflow gc --backend-store-uri sqlite:////mlflow/data/mlflow.db`)',
    ]);
  });

  test('Cloud SQL, with and without basic-auth and exposure: accepted', () => {
    expect(messages('prod', withGc({ schedule: '17 3 * * *', olderThanDays: 14 }))).toEqual([]);
    expect(
      messages('dev', (d) => {
        d.gc = { schedule: '17 3 * * *' };
        d.auth = { enabled: false };
        delete d.clients; // clients and served models need basic-auth
        delete d.serving;
        d.exposure = { mode: 'none' };
        d.metrics = 'none';
      }),
    ).toEqual([]);
  });
});

describe('the connection budget counts the gc pod', () => {
  // dev: (maxReplicas 3 + surge 1) × (parent 3 + workers 2 × stores 3 × (5 + 5)) = 252 connections.
  test(`${GC_CONNECTIONS} connections on top of the pods: fits at max_connections − headroom, refused one below`, () => {
    expect(GC_CONNECTIONS).toBe(2);
    // 254 available = 283 − headroom 29.
    expect(messages('dev', (d) => ((d.database.maxConnections = 283), (d.gc = { schedule: '17 3 * * *' })))).toEqual([]);
    expect(messages('dev', (d) => ((d.database.maxConnections = 282), (d.gc = { schedule: '17 3 * * *' })))).toEqual([
      'config/dev.yaml: database.pool: connection budget exceeded: (maxReplicas 3 + surge 1) × (parent 3 + workers 2 × stores 3 × ' +
        '(pool.size 5 + pool.maxOverflow 5)) + gc 2 = 254 connections, but max_connections 282 − headroom 29 leaves 253; lower ' +
        'the pool, workers or maxReplicas, or raise database.maxConnections',
    ]);
    // The same instance without gc has room for its 252.
    expect(messages('dev', (d) => (d.database.maxConnections = 282))).toEqual([]);
  });

  test('connectionBudget adds the gc connections to the peak, none by default', () => {
    const input = { maxReplicas: 1, workers: 1, authEnabled: false, poolSize: 5, maxOverflow: 0, maxConnections: 36 };
    expect(connectionBudget(input)).toMatchObject({ gcConnections: 0, peak: 26, available: 26, fits: true });
    expect(connectionBudget({ ...input, gcConnections: 2 })).toMatchObject({ gcConnections: 2, peak: 28, available: 26, fits: false });
  });
});
