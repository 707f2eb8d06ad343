/**
 * The config files of a repository, taken together (`npm run synth` without options): one file per environment
 * name, and no two environments that would take the same public host, Cloud SQL database, artifact location or
 * Argo CD destination — each such pair would make two environments fight over one thing, and neither file
 * alone shows it. (Within one file, the instances of an environment follow the same rules: lib/config/instances.ts.)
 */
import { ConfigError, environmentNameOf, loadEnvironmentFile, type ConfigProblem } from './config';
import { prefixesOverlap } from './instances';
import type { Environment, Server } from './model';

/** Argo CD's name for the cluster it runs in: every environment may deploy there (each runs its own Argo CD). */
export const IN_CLUSTER = 'https://kubernetes.default.svc';

/** Loads the config files of a repository; throws a {@link ConfigError} listing every problem of every file. */
export function loadRepositoryEnvironments(files: readonly string[]): Environment[] {
  const problems: ConfigProblem[] = [];
  const first = new Map<string, string>();
  for (const file of files) {
    const { name } = environmentNameOf(file);
    const other = first.get(name);
    if (other === undefined) first.set(name, file);
    else problems.push({ file, path: '', message: `another file for environment '${name}': ${other}; an environment has one file, so keep one of them` });
  }
  const loaded: Array<{ file: string; environment: Environment }> = [];
  for (const file of files) {
    const r = loadEnvironmentFile(file);
    problems.push(...r.problems);
    if (r.environment) loaded.push({ file, environment: r.environment });
  }
  if (problems.length === 0) problems.push(...collisions(loaded));
  if (problems.length > 0) throw new ConfigError(problems);
  return loaded.map((l) => l.environment);
}

/** One MLflow server of a file, and how a message names one of its fields. */
interface Located {
  readonly file: string;
  readonly config: Server;
  readonly field: (path: string) => string;
}

function serversOf(file: string, env: Environment): Located[] {
  // A single-server file's server bears the environment's name; an instance's is `<env>-<instance>`.
  return env.servers.map((config) => ({ file, config, field: (p: string) => (config.name === env.name ? p : `${p} (instance '${config.path}')`) }));
}

/** Each server against the servers of earlier files: the problem is reported on the later file, naming the earlier. */
function collisions(loaded: ReadonlyArray<{ file: string; environment: Environment }>): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const earlier: Located[] = [];
  for (const { file, environment } of loaded) {
    const servers = serversOf(file, environment);
    for (const s of servers) {
      const at = (field: string, message: string) => out.push({ file, path: s.field(field), message });
      s.config.hosts.forEach((host, k) => {
        for (const e of earlier) {
          const m = e.config.hosts.indexOf(host);
          if (m < 0) continue;
          at(`exposure.hosts.${k}`, `host '${host}' is also served by ${e.file} (${e.field(`exposure.hosts.${m}`)}): a host routes to one environment's server`);
          break;
        }
      });

      const db = s.config.database;
      if (db.engine !== 'sqlite') {
        const e = earlier.find((o) => o.config.database.engine !== 'sqlite' && o.config.database.instanceConnectionName === db.instanceConnectionName && o.config.database.name === db.name);
        if (e) {
          at(
            'database.name',
            `database '${db.name}' on Cloud SQL instance '${db.instanceConnectionName}' is also used by ${e.file} (${e.field('database.name')}): ` +
              'each environment needs its own database (its schema, users and runs)',
          );
        }
      }

      const a = s.config.artifacts;
      if ('bucket' in a && 'prefix' in a) {
        for (const e of earlier) {
          const o = e.config.artifacts;
          if (!('bucket' in o && 'prefix' in o) || o.bucket !== a.bucket || !prefixesOverlap(a.prefix, o.prefix)) continue;
          const how = a.prefix === o.prefix ? 'is also the artifact location of' : a.prefix.startsWith(`${o.prefix}/`) ? 'lies inside the artifact location of' : 'contains the artifact location of';
          at(
            'artifacts.prefix',
            `gs://${a.bucket}/${a.prefix} ${how} ${e.file} (${e.field('artifacts.prefix')}): each environment needs its own bucket, or a prefix that neither contains nor lies inside another's`,
          );
          break;
        }
      }

      const cluster = s.config.gitops?.destinationServer;
      if (cluster !== undefined && cluster !== IN_CLUSTER) {
        const e = earlier.find((o) => o.config.gitops?.destinationServer === cluster && o.config.namespace === s.config.namespace);
        if (e) {
          at(
            'namespace',
            `namespace '${s.config.namespace}' on cluster '${cluster}' (gitops.destinationServer) is also the destination of ${e.file} (${e.field('namespace')}): ` +
              "two environments' Applications would manage the same objects; give one of them another namespace or cluster",
          );
        }
      }
    }
    earlier.push(...servers);
  }
  return out;
}
