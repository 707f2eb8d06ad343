/**
 * The config of a server's clients and served models: every refusal with its exact message (file, field, what is
 * wrong, the value), and what the resolved model gives the constructs. Built on the shipped dev environment, which
 * lists two clients and one served model.
 */
import { formatProblem, validateEnvironment } from '../../lib/config/config';
import type { Server } from '../../lib/config/model';
import { rawConfig } from '../../tools/environments';

function messages(mutate: (doc: any) => void, name = 'dev'): string[] {
  const doc = rawConfig(name);
  mutate(doc);
  return validateEnvironment(`config/${name}.yaml`, doc).problems.map(formatProblem);
}

function server(mutate: (doc: any) => void = () => {}): Server {
  const doc = rawConfig('dev');
  mutate(doc);
  const r = validateEnvironment('config/dev.yaml', doc);
  if (!r.environment) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.environment.servers[0];
}

const client = (name: string, namespace: string, extra: object = {}) => ({
  name,
  namespace,
  passwordSecret: `mlflow-dev-client-${name}-password`,
  serviceAccountEmail: 'mlflow-dev-c-x@example-mlflow-dev.iam.gserviceaccount.com',
  ...extra,
});

describe('clients: refused at synth, each with its field', () => {
  test("a client in the server's own namespace", () => {
    expect(messages((d) => (d.clients[1].namespace = 'mlflow'))).toEqual([
      "config/dev.yaml: clients.1.namespace: is the server's own namespace 'mlflow': a client runs in a namespace of its own, which the " +
        "server's NetworkPolicy admits (served models already run beside the server: see serving)",
    ]);
  });

  test('a name used twice (the second is named, with the first)', () => {
    expect(messages((d) => d.clients.push(client('iris-trainer', 'other')))).toEqual([
      "config/dev.yaml: clients.2.name: 'iris-trainer' is already the name of clients.0: client names are unique",
    ]);
  });

  test('a permission MLflow does not have, on an experiment and on a model', () => {
    expect(
      messages((d) => {
        d.clients[0].permissions = { experiments: { iris: 'WRITE' }, models: { iris: 'NO_PERMISSIONS' } };
      }),
    ).toEqual([
      "config/dev.yaml: clients.0.permissions.experiments.iris: expected one of 'READ', 'USE', 'EDIT', 'MANAGE' (MLflow's grants on one experiment or model) (got \"WRITE\")",
      "config/dev.yaml: clients.0.permissions.models.iris: expected one of 'READ', 'USE', 'EDIT', 'MANAGE' (MLflow's grants on one experiment or model) (got \"NO_PERMISSIONS\")",
    ]);
  });

  test.each([
    ['team/iris', "MLflow refuses a registered model name with '/' or ':'"],
    ['iris:v2', "MLflow refuses a registered model name with '/' or ':'"],
    ['..iris', "MLflow refuses a registered model name that reads as a relative path ('.', or starting with '..')"],
    ['   ', 'expected a registered model name (MLflow refuses an empty one)'],
  ])('a model name MLflow would not accept: %j', (name, message) => {
    expect(messages((d) => (d.clients[0].permissions.models = { [name]: 'READ' }))).toEqual([
      `config/dev.yaml: clients.0.permissions.models: ${JSON.stringify(name)}: ${message}`,
    ]);
  });

  test('an experiment name MLflow would not accept: empty, or longer than 500 characters', () => {
    expect(messages((d) => (d.clients[0].permissions.experiments = { '': 'READ' }))).toEqual([
      'config/dev.yaml: clients.0.permissions.experiments: "": expected an experiment name (MLflow refuses an empty one)',
    ]);
    const long = 'e'.repeat(501);
    expect(messages((d) => (d.clients[0].permissions.experiments = { [long]: 'READ' }))).toEqual([
      `config/dev.yaml: clients.0.permissions.experiments: "${long}": expected an experiment name of at most 500 characters (MLflow's limit)`,
    ]);
    expect(messages((d) => (d.clients[0].permissions.experiments = { ['e'.repeat(500)]: 'READ', '/Users/team/iris: v2': 'EDIT' }))).toEqual([]);
  });

  test('a client name that is another user of the server', () => {
    expect(messages((d) => (d.clients[0].name = 'smoke-test'))).toEqual([
      "config/dev.yaml: clients.0.name: client name 'smoke-test' is already the MLflow user of auth.smokeUsername: each needs a user of its own",
    ]);
    expect(messages((d) => (d.clients[0].name = 'serve-iris'))).toEqual([
      "config/dev.yaml: serving.0.name: serving user 'serve-iris' is already the MLflow user of clients.0.name: each needs a user of its own",
    ]);
  });

  test('clients and serving without basic-auth', () => {
    expect(
      messages((d) => {
        d.auth = { enabled: false };
      }),
    ).toEqual([
      'config/dev.yaml: clients: needs basic-auth (auth.enabled: true): each client logs in as its own MLflow user',
      'config/dev.yaml: serving: needs basic-auth (auth.enabled: true): each served model reads the registry as its own MLflow user',
    ]);
  });

  test('a pod selector or permissions that are no mapping', () => {
    expect(messages((d) => (d.clients[0].podSelector = ['x']))).toEqual([
      'config/dev.yaml: clients.0.podSelector: expected a mapping of pod labels (matchLabels) (got ["x"])',
    ]);
    expect(messages((d) => (d.clients[0].permissions.experiments = ['iris']))).toEqual([
      'config/dev.yaml: clients.0.permissions.experiments: expected a mapping of experiment name → permission (got ["iris"])',
    ]);
  });

  test('an empty pod selector, and a label key Kubernetes refuses', () => {
    expect(messages((d) => (d.clients[0].podSelector = {}))).toEqual([
      'config/dev.yaml: clients.0.podSelector: expected at least one label (omit podSelector to admit every pod of the namespace) (got {})',
    ]);
    expect(messages((d) => (d.clients[0].podSelector = { 'bad key!': 'x' }))).toEqual([
      `config/dev.yaml: clients.0.podSelector: "bad key!": expected a label key such as 'app.kubernetes.io/name' (an optional DNS prefix and '/', then a name of at most 63 characters)`,
    ]);
  });
});

describe('serving: refused at synth, each with its field', () => {
  test('neither alias nor version, and both', () => {
    expect(messages((d) => delete d.serving[0].alias)).toEqual([
      'config/dev.yaml: serving.0.alias: expected an alias (models:/<model>@<alias>) or a version (models:/<model>/<version>)',
    ]);
    expect(messages((d) => (d.serving[0].version = 3))).toEqual(['config/dev.yaml: serving.0.version: set alias or version, not both']);
  });

  test('a promotion count on a pinned version', () => {
    expect(
      messages((d) => {
        delete d.serving[0].alias;
        d.serving[0].version = 3;
        d.serving[0].promotion = 2;
      }),
    ).toEqual(['config/dev.yaml: serving.0.promotion: only with alias: a pinned version rolls out when serving.version changes']);
  });

  test.each([
    ['latest', "'latest' is reserved by MLflow: name the alias your promotion moves (e.g. 'champion')"],
    ['v2', "'v2' is reserved by MLflow for version 2: use `version: 2` to pin it"],
    ['champion!', "expected an alias of letters, digits, '_' and '-' (MLflow's rule)"],
  ])('an alias MLflow would not accept: %j', (alias, message) => {
    expect(messages((d) => (d.serving[0].alias = alias))).toEqual([`config/dev.yaml: serving.0.alias: ${message} (got "${alias}")`]);
  });

  test('an alias longer than MLflow allows', () => {
    const long = 'a'.repeat(256);
    expect(messages((d) => (d.serving[0].alias = long))).toEqual([
      `config/dev.yaml: serving.0.alias: expected an alias of at most 255 characters (got "${'a'.repeat(119)}… (258 characters))`,
    ]);
    expect(messages((d) => (d.serving[0].alias = 'a'.repeat(255)))).toEqual([]);
  });

  test('a name whose serve-<name> is no Kubernetes name (more than 63 characters)', () => {
    expect(messages((d) => (d.serving[0].name = 'm'.repeat(58)))).toEqual([
      `config/dev.yaml: serving.0.name: '${'m'.repeat(58)}' makes the Service and label value 'serve-${'m'.repeat(58)}', longer than 63 characters: use a name of at most 57`,
    ]);
    expect(messages((d) => (d.serving[0].name = 'm'.repeat(57)))).toEqual([]);
  });

  test('a model name MLflow would not accept', () => {
    expect(messages((d) => (d.serving[0].model = 'team/iris'))).toEqual([
      "config/dev.yaml: serving.0.model: MLflow refuses a registered model name with '/' or ':' (got \"team/iris\")",
    ]);
  });

  test('a client that is not listed, and a name used twice', () => {
    expect(messages((d) => (d.serving[0].clients = ['iris-predictor', 'nobody']))).toEqual([
      "config/dev.yaml: serving.0.clients.1: no client named 'nobody' (clients: iris-trainer, iris-predictor)",
    ]);
    expect(messages((d) => delete d.clients)).toEqual(["config/dev.yaml: serving.0.clients.0: no client named 'iris-predictor' (the file lists no clients)"]);
    expect(messages((d) => d.serving.push({ ...d.serving[0] }))).toEqual([
      "config/dev.yaml: serving.1.name: 'iris' is already the name of serving.0: serving names are unique",
    ]);
  });
});

describe('the resolved model', () => {
  test("a client's user is its name with its password's secret; grants in config order; no selector when none is given", () => {
    const [trainer, predictor] = server().clients;
    expect(trainer).toEqual({
      name: 'iris-trainer',
      namespace: 'ml-training',
      podSelector: { 'app.kubernetes.io/name': 'iris-trainer' },
      user: { username: 'iris-trainer', passwordSecret: 'mlflow-dev-client-iris-trainer-password' },
      serviceAccountEmail: 'mlflow-dev-c-iris-trainer@example-mlflow-dev.iam.gserviceaccount.com',
      grants: { experiments: [{ name: 'iris', permission: 'EDIT' }], models: [{ name: 'iris', permission: 'EDIT' }] },
    });
    expect(predictor).not.toHaveProperty('podSelector');
    expect(predictor.grants.experiments).toEqual([
      { name: 'iris', permission: 'READ' },
      { name: 'iris-predictions', permission: 'EDIT' },
    ]);
  });

  test('a client without permissions: nothing granted (auth.defaultPermission applies)', () => {
    const s = server((d) => delete d.clients[0].permissions);
    expect(s.clients[0].grants).toEqual({ experiments: [], models: [] });
  });

  test("a served model: its user serve-<name>, its alias with promotion 0 by default, its listed clients", () => {
    const s = server();
    const [iris] = s.serving;
    expect(iris.user).toEqual({ username: 'serve-iris', passwordSecret: 'mlflow-dev-serving-iris-password' });
    expect(iris.target).toEqual({ alias: 'champion', promotion: 0 });
    expect(iris.clients.map((c) => c.name)).toEqual(['iris-predictor']);
    const pinned = server((d) => {
      delete d.serving[0].alias;
      d.serving[0].version = 7;
    }).serving[0];
    expect(pinned.target).toEqual({ version: 7 });
  });

  test('a file without clients or serving resolves to none of either', () => {
    const s = server((d) => {
      delete d.clients;
      delete d.serving;
    });
    expect(s.clients).toEqual([]);
    expect(s.serving).toEqual([]);
  });
});
