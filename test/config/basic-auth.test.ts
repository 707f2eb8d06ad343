/**
 * Basic-auth settings a user configures: the credential cache TTL rendered into the auth ini (the real server reading
 * it is shown in test/e2e/smoke.test.ts), and the smoke user's fields. Guards are asserted with their exact messages.
 */
import { validateEnvironment, formatProblem } from '../../lib/config/config';
import { configFrom, find, rawConfig, render } from '../../tools/environments';

function problems(name: string, mutate: (doc: any) => void): string[] {
  const doc = rawConfig(name);
  mutate(doc);
  return validateEnvironment(`config/${name}.yaml`, doc).problems.map(formatProblem);
}

/** The ini lines the mlflow-auth ExternalSecret renders for a variant of `name`. */
function iniLines(name: string, mutate: (doc: any) => void = () => undefined): string[] {
  const doc = rawConfig(name);
  mutate(doc);
  const es = find(render(configFrom(name, doc)).byPath.mlflow, 'ExternalSecret', 'mlflow-auth');
  return es.spec.target.template.data['basic_auth.ini'].split('\n');
}

describe('auth.credentialCacheTtlSeconds → auth_cache_ttl_seconds in the auth ini', () => {
  test('dev and prod cache a login for 60 s', () => {
    expect(iniLines('dev')).toContain('auth_cache_ttl_seconds = 60');
    expect(iniLines('prod')).toContain('auth_cache_ttl_seconds = 60');
  });

  test('omitted: 60 s; 0 turns the cache off; the bounds are accepted', () => {
    expect(iniLines('dev', (d) => delete d.auth.credentialCacheTtlSeconds)).toContain('auth_cache_ttl_seconds = 60');
    expect(iniLines('dev', (d) => (d.auth.credentialCacheTtlSeconds = 0))).toContain('auth_cache_ttl_seconds = 0');
    expect(iniLines('dev', (d) => (d.auth.credentialCacheTtlSeconds = 600))).toContain('auth_cache_ttl_seconds = 600');
  });

  test('invalid values are refused, field-precise', () => {
    const at = 'config/dev.yaml: auth.credentialCacheTtlSeconds: ';
    expect(problems('dev', (d) => (d.auth.credentialCacheTtlSeconds = -1))).toEqual([
      `${at}expected a number of seconds from 0 (cache off) to 600 (got -1)`,
    ]);
    expect(problems('dev', (d) => (d.auth.credentialCacheTtlSeconds = 1.5))).toEqual([
      `${at}expected a whole number of seconds from 0 (cache off) to 600 (got 1.5)`,
    ]);
    expect(problems('dev', (d) => (d.auth.credentialCacheTtlSeconds = '60s'))).toEqual([
      `${at}expected a number of seconds from 0 (cache off) to 600 (got "60s")`,
    ]);
    expect(problems('dev', (d) => (d.auth.credentialCacheTtlSeconds = 3600))).toEqual([
      `${at}expected at most 600 seconds: a revoked or rotated password keeps working for up to this long on every worker that cached it (got 3600)`,
    ]);
  });
});

describe('the smoke user', () => {
  test('required under basic-auth when Argo CD deploys the environment', () => {
    expect(problems('dev', (d) => delete d.auth.smokeUsername)).toEqual([
      'config/dev.yaml: auth.smokeUsername: required under basic-auth when Argo CD deploys the environment (gitops): the PostSync smoke test logs in as this user',
    ]);
    expect(problems('prod', (d) => delete d.auth.smokePasswordSecret)).toEqual([
      'config/prod.yaml: auth.smokePasswordSecret: required under basic-auth when Argo CD deploys the environment (gitops): the PostSync smoke test logs in as this user',
    ]);
  });

  test('without gitops both fields may be omitted, but not just one', () => {
    expect(problems('dev', (d) => (delete d.gitops, delete d.auth.smokeUsername, delete d.auth.smokePasswordSecret))).toEqual([]);
    expect(problems('dev', (d) => (delete d.gitops, delete d.auth.smokePasswordSecret))).toEqual([
      'config/dev.yaml: auth.smokePasswordSecret: required with the other smoke user field: set both auth.smokeUsername and auth.smokePasswordSecret, or neither',
    ]);
  });

  test('must not be the metrics scraper', () => {
    expect(problems('dev', (d) => (d.auth.smokeUsername = d.auth.metricsUsername))).toEqual([
      'config/dev.yaml: auth.smokeUsername: must differ from auth.metricsUsername: the smoke user creates and deletes experiments and models, the scraper only reads /metrics',
    ]);
  });

  test('a malformed user name is refused', () => {
    expect(problems('dev', (d) => (d.auth.smokeUsername = 'smoke test'))).toEqual([
      `config/dev.yaml: auth.smokeUsername: expected an MLflow user name (letters, digits, '_', '.', '@', '-') (got "smoke test")`,
    ]);
  });
});
