/**
 * Rules that relate fields of different sections of one server's config (the connection budget, the memory
 * footprint, the login, what needs the GCP side), run once the schema admitted every field they read. The rules
 * across the servers of one file are in `instances.ts`.
 */
import { iamDatabaseUserProblem } from './cloud-sql-iam';
import { certManagerIssuerOf, cloudSqlOf, connectionBudgetOf, loginOf } from './model';
import { DEFAULT_GATEWAY_CLASS, GKE_GATEWAY_CLASSES, type CloudSqlDocument, type ConfigDocument } from './schema';
import { servingName } from '../names';
import { MEMORY_MIB, memoryFootprintMiB, parseMemoryMiB } from './sizing';

// ---------------------------------------------------------------------------------------------------------
// Cross-field guards: run once every field they read is valid.
// ---------------------------------------------------------------------------------------------------------


/** A problem of a document the schema admitted: the field path and what is wrong. */
export type Guard = { path: string; message: string };

/** Rules that relate fields of different sections. Each returns the problems it found. */
export function crossFieldProblems(c: ConfigDocument): Guard[] {
  const out: Guard[] = [];
  const needsGcp = (what: string, p: string) => {
    if (!c.gcp) out.push({ path: p, message: `${what} needs the 'gcp' section (project, region, service account)` });
  };
  const cloudSql = cloudSqlOf(c);
  if (cloudSql) needsGcp(`database.engine '${cloudSql.engine}' (Cloud SQL through Secret Manager)`, 'database.engine');
  if (cloudSql) out.push(...loginProblems(cloudSql, c.gcp?.serviceAccountEmail));
  if (c.artifacts.store === 'gcs') needsGcp("artifacts.store 'gcs' (Workload Identity)", 'artifacts.store');
  if (c.auth.enabled) needsGcp('auth (secrets from Secret Manager)', 'auth.enabled');
  if (c.auth.enabled && c.metrics !== 'none') {
    for (const f of ['metricsUsername', 'metricsPasswordSecret'] as const) {
      if (c.auth[f] === undefined) {
        out.push({ path: `auth.${f}`, message: `required when metrics are scraped under basic-auth (/metrics answers 401 to anonymous requests)` });
      }
    }
  }
  if (c.auth.enabled && c.gitops) {
    for (const f of ['smokeUsername', 'smokePasswordSecret'] as const) {
      if (c.auth[f] === undefined) {
        out.push({ path: `auth.${f}`, message: 'required under basic-auth when Argo CD deploys the environment (gitops): the PostSync smoke test logs in as this user' });
      }
    }
  }
  if (c.auth.enabled && c.auth.smokeUsername !== undefined && c.auth.smokeUsername === c.auth.metricsUsername) {
    out.push({
      path: 'auth.smokeUsername',
      message: 'must differ from auth.metricsUsername: the smoke user creates and deletes experiments and models, the scraper only reads /metrics',
    });
  }
  if (c.auth.enabled && !c.gitops && (c.auth.smokeUsername === undefined) !== (c.auth.smokePasswordSecret === undefined)) {
    const missing = c.auth.smokeUsername === undefined ? 'smokeUsername' : 'smokePasswordSecret';
    out.push({ path: `auth.${missing}`, message: 'required with the other smoke user field: set both auth.smokeUsername and auth.smokePasswordSecret, or neither' });
  }
  if (c.auth.enabled && !cloudSql) {
    out.push({
      path: 'auth.enabled',
      message: "basic-auth needs a shared database: set database.engine 'mysql' or 'postgres' (a per-pod SQLite auth store breaks with more than one pod)",
    });
  }

  const usesVolume = c.database.engine === 'sqlite' || c.artifacts.store === 'volume';
  if (usesVolume && !c.volume) {
    out.push({ path: 'volume', message: "expected a 'volume' section (size) because SQLite or volume artifacts store data on it" });
  }
  if (!usesVolume && c.volume) {
    out.push({ path: 'volume', message: "unused: remove 'volume' (only SQLite or artifacts.store 'volume' use it)" });
  }
  if (usesVolume && c.server.autoscaling) {
    out.push({
      path: 'server.autoscaling',
      message: 'must be omitted with SQLite or volume artifacts: a ReadWriteOnce volume allows a single replica',
    });
  }
  if (cloudSql && !c.server.autoscaling) {
    out.push({ path: 'server.autoscaling', message: `expected autoscaling (min/max replicas, CPU target) with database.engine '${cloudSql.engine}'` });
  }

  const memLimit = parseMemoryMiB(c.server.resources.limits.memory);
  const footprint = memoryFootprintMiB(c.server.workers);
  if (memLimit < footprint) {
    out.push({
      path: 'server.resources.limits.memory',
      message:
        `memory limit ${c.server.resources.limits.memory} (${memLimit} MiB) is below the measured footprint of ` +
        `${c.server.workers} workers: parent ${MEMORY_MIB.parent} + supervisors ${MEMORY_MIB.supervisors} + ` +
        `workers ${c.server.workers} × ${MEMORY_MIB.worker} MiB = ${footprint} MiB; raise the limit to at least ` +
        `${footprint}Mi or lower server.workers`,
    });
  }

  const b = connectionBudgetOf(c);
  if (b !== undefined) {
    if (!b.fits) {
      out.push({
        path: 'database.pool',
        message:
          `connection budget exceeded: (maxReplicas ${b.maxReplicas} + surge ${b.surge}) × (parent ${b.parentConnections} + ` +
          `workers ${b.workers} × stores ${b.stores} × (pool.size ${b.poolSize} + pool.maxOverflow ${b.maxOverflow}))` +
          `${b.gcConnections > 0 ? ` + gc ${b.gcConnections}` : ''} = ` +
          `${b.peak} connections, ` +
          `but max_connections ${b.maxConnections} − headroom ${b.headroom} leaves ${b.available}; lower the pool, ` +
          `workers or maxReplicas, or raise database.maxConnections`,
      });
    }
  }

  if (c.exposure.mode === 'gateway') {
    const className = c.exposure.className ?? DEFAULT_GATEWAY_CLASS;
    const global = GKE_GATEWAY_CLASSES[className].global;
    if (!global && c.exposure.proxyOnlySubnetCidr === undefined) {
      out.push({
        path: 'exposure.proxyOnlySubnetCidr',
        message: `required with exposure.className '${className}': its load balancer's proxies connect to the pods from the VPC's proxy-only subnet, which the server's NetworkPolicy must admit`,
      });
    }
    if (!global && c.exposure.proxyOnlySubnetCidr !== undefined) {
      const problem = proxyOnlySubnetProblem(c.exposure.proxyOnlySubnetCidr, c.exposure.proxyOnlySubnetPrivatelyUsedPublic === true);
      if (problem !== undefined) out.push(problem);
    }
    if (c.exposure.proxyOnlySubnetPrivatelyUsedPublic !== undefined && c.exposure.proxyOnlySubnetCidr === undefined) {
      out.push({ path: 'exposure.proxyOnlySubnetPrivatelyUsedPublic', message: 'unused without exposure.proxyOnlySubnetCidr: remove it' });
    }
    if (global && c.exposure.proxyOnlySubnetCidr !== undefined) {
      out.push({
        path: 'exposure.proxyOnlySubnetCidr',
        message: `unused: remove it (exposure.className '${className}' is served by Google Front Ends, not from a proxy-only subnet)`,
      });
    }
    if (!global && c.exposure.certificate.source === 'certificate-manager') {
      out.push({
        path: 'exposure.certificate.source',
        message: `a Certificate Manager map attaches only to a global load balancer, not to exposure.className '${className}': use 'gke-l7-global-external-managed' or 'gke-l7-gxlb', or source 'cert-manager'`,
      });
    }
  }

  if (c.gc && c.database.engine === 'sqlite') {
    out.push({
      path: 'gc',
      message:
        "needs a database server (database.engine 'mysql' or 'postgres'): the SQLite file is on the server's ReadWriteOnce volume, " +
        'which a CronJob pod cannot mount beside the server (it may be scheduled on another node); remove gc and run ' +
        '`mlflow gc` in the server pod instead (`kubectl exec deploy/mlflow -c mlflow -- mlflow gc --backend-store-uri sqlite:////mlflow/data/mlflow.db`)',
    });
  }

  out.push(...clientProblems(c));

  if (c.gitops?.addons?.certManager && certManagerIssuerOf(c.exposure) !== undefined && !c.gitops.addons.acmeEmail) {
    out.push({ path: 'gitops.addons.acmeEmail', message: 'expected an ACME account email for the ClusterIssuer installed with certManager' });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The proxy-only subnet: the one range besides Google's that the server's NetworkPolicy admits from outside
// ---------------------------------------------------------------------------------------------------------

/** The address ranges of private networks: RFC 1918, and the shared address space of RFC 6598. */
export const PRIVATE_IPV4_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10'] as const;
/** Ranges that are no one's unicast addresses (this network, loopback, link-local, multicast, reserved and broadcast). */
const NON_UNICAST_IPV4_RANGES = ['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/3'] as const;
/**
 * The smallest proxy-only subnet Google Cloud accepts: 64 addresses (a /26); it recommends a /23.
 * @see https://cloud.google.com/load-balancing/docs/proxy-only-subnets ("Plan the size of your proxy-only subnet")
 */
export const PROXY_ONLY_SUBNET_LONGEST_PREFIX = 26;
/** The widest proxy-only subnet accepted: a /8, the widest private range; a proxy pool never needs more. */
export const PROXY_ONLY_SUBNET_SHORTEST_PREFIX = 8;

/** `a.b.c.d/n` → the first address as a 32-bit number and the prefix length (the format is checked by the schema). */
function parseCidr(cidr: string): { address: number; prefix: number } {
  const [ip, prefix] = cidr.split('/');
  return { address: ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0), prefix: Number(prefix) };
}

function ipv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

/** The first and last address of a CIDR block, ignoring host bits. */
function blockOf(cidr: string): { first: number; last: number } {
  const { address, prefix } = parseCidr(cidr);
  const size = 2 ** (32 - prefix);
  const first = Math.floor(address / size) * size;
  return { first, last: first + size - 1 };
}

const within = (inner: { first: number; last: number }, outer: { first: number; last: number }) => inner.first >= outer.first && inner.last <= outer.last;
const overlaps = (a: { first: number; last: number }, b: { first: number; last: number }) => a.first <= b.last && b.first <= a.last;

/**
 * What is wrong with `exposure.proxyOnlySubnetCidr`, or `undefined`. The server admits this range as its load
 * balancer's source, so a wrong one opens it: `0.0.0.0/0` (or `0.0.0.0/1`) to the internet, a range with host bits
 * to whatever the API server rounds it to. The rule: a network address, no smaller than Google's minimum and no wider
 * than a /8, inside a private range; a public range only with `privatelyUsedPublic` (then never a non-unicast one).
 */
export function proxyOnlySubnetProblem(cidr: string, privatelyUsedPublic: boolean): Guard | undefined {
  const path = 'exposure.proxyOnlySubnetCidr';
  const { address, prefix } = parseCidr(cidr);
  const block = blockOf(cidr);
  const got = ` (got "${cidr}")`;
  if (address !== block.first) {
    return { path, message: `has host bits set: expected the network address '${ipv4(block.first)}/${prefix}'${got}` };
  }
  if (prefix > PROXY_ONLY_SUBNET_LONGEST_PREFIX) {
    return {
      path,
      message: `a /${prefix} is smaller than Google Cloud's minimum proxy-only subnet (/${PROXY_ONLY_SUBNET_LONGEST_PREFIX}, 64 addresses; /23 recommended)${got}`,
    };
  }
  if (prefix < PROXY_ONLY_SUBNET_SHORTEST_PREFIX) {
    return {
      path,
      message: `a /${prefix} is wider than any proxy-only subnet (at most /${PROXY_ONLY_SUBNET_SHORTEST_PREFIX}): the server would admit it as its load balancer's source${got}`,
    };
  }
  const isPrivate = PRIVATE_IPV4_RANGES.some((r) => within(block, blockOf(r)));
  if (isPrivate && privatelyUsedPublic) {
    return { path: 'exposure.proxyOnlySubnetPrivatelyUsedPublic', message: `unused: ${cidr} is in a private range (remove the field)` };
  }
  if (isPrivate) return undefined;
  if (!privatelyUsedPublic) {
    return {
      path,
      message:
        `expected a range inside a private one (${PRIVATE_IPV4_RANGES.join(', ')}): the server admits this range as its load balancer's source; ` +
        `for a public range the VPC uses privately, also set exposure.proxyOnlySubnetPrivatelyUsedPublic: true${got}`,
    };
  }
  const special = NON_UNICAST_IPV4_RANGES.find((r) => overlaps(block, blockOf(r)));
  if (special !== undefined) return { path, message: `overlaps ${special}, which is not a unicast range any subnet can use${got}` };
  return undefined;
}

/**
 * The login's own rules: password login needs both secrets; IAM login needs the service account it logs in as
 * (gcp) and refuses the secrets, which nothing would read — a config that names them looks as if it still used them.
 */
function loginProblems(database: CloudSqlDocument, serviceAccountEmail: string | undefined): Guard[] {
  const out: Guard[] = [];
  const secrets = ['userSecret', 'passwordSecret'] as const;
  if (loginOf(database) === 'password') {
    for (const f of secrets) {
      if (database[f] === undefined) {
        out.push({ path: `database.${f}`, message: "required with database.login 'password' (the default): a Secret Manager secret id" });
      }
    }
    return out;
  }
  if (serviceAccountEmail === undefined) {
    out.push({
      path: 'database.login',
      message: "database.login 'iam' needs the 'gcp' section: the proxy logs in as gcp.serviceAccountEmail (Workload Identity)",
    });
  } else {
    const problem = iamDatabaseUserProblem(serviceAccountEmail, database.engine);
    if (problem !== undefined) out.push({ path: 'gcp.serviceAccountEmail', message: `with database.login 'iam': ${problem}: choose a shorter service account id` });
  }
  for (const f of secrets) {
    if (database[f] !== undefined) {
      out.push({
        path: `database.${f}`,
        message: "not used with database.login 'iam' (the proxy logs in as the service account, with no password): remove it",
      });
    }
  }
  return out;
}


// ---------------------------------------------------------------------------------------------------------
// Clients and served models: each an MLflow user of its own, in a namespace of its own
// ---------------------------------------------------------------------------------------------------------

/** Longest Kubernetes label value and Service name (a DNS label): 63 characters. */
export const MAX_LABEL_VALUE = 63;

/** The rules of `clients` and `serving`: basic-auth, namespaces, unique names and users, alias or version, known clients. */
export function clientProblems(c: ConfigDocument): Guard[] {
  const out: Guard[] = [];
  const clients = c.clients ?? [];
  const serving = c.serving ?? [];
  if (!c.auth.enabled) {
    if (c.clients !== undefined) out.push({ path: 'clients', message: 'needs basic-auth (auth.enabled: true): each client logs in as its own MLflow user' });
    if (c.serving !== undefined) out.push({ path: 'serving', message: 'needs basic-auth (auth.enabled: true): each served model reads the registry as its own MLflow user' });
  }

  // Every MLflow user the file names, with the field that names it: two fields naming one user would share a password.
  const users = new Map<string, string>();
  const claim = (username: string, field: string, what: string) => {
    const first = users.get(username);
    if (first !== undefined) out.push({ path: field, message: `${what} '${username}' is already the MLflow user of ${first}: each needs a user of its own` });
    else users.set(username, field);
  };
  if (c.auth.enabled) {
    if (c.auth.metricsUsername !== undefined && c.metrics !== 'none') users.set(c.auth.metricsUsername, 'auth.metricsUsername');
    if (c.auth.smokeUsername !== undefined && !users.has(c.auth.smokeUsername)) users.set(c.auth.smokeUsername, 'auth.smokeUsername');
  }

  /** Refuses entry `i` of `list` when an earlier entry has its name; true for the first of a name. */
  const firstOfName = (seen: Map<string, number>, list: 'clients' | 'serving', what: string, i: number, name: string): boolean => {
    const first = seen.get(name);
    if (first === undefined) {
      seen.set(name, i);
      return true;
    }
    out.push({ path: `${list}.${i}.name`, message: `'${name}' is already the name of ${list}.${first}: ${what} names are unique` });
    return false;
  };

  const clientNames = new Map<string, number>();
  clients.forEach((client, i) => {
    if (firstOfName(clientNames, 'clients', 'client', i, client.name)) claim(client.name, `clients.${i}.name`, 'client name');
    if (client.namespace === c.namespace) {
      out.push({
        path: `clients.${i}.namespace`,
        message: `is the server's own namespace '${c.namespace}': a client runs in a namespace of its own, which the server's NetworkPolicy admits (served models already run beside the server: see serving)`,
      });
    }
  });

  const servingNames = new Map<string, number>();
  serving.forEach((s, i) => {
    if (firstOfName(servingNames, 'serving', 'serving', i, s.name)) claim(servingName(s.name), `serving.${i}.name`, 'serving user');
    // `serve-<name>` names the Service and is the pods' component label value: a DNS label, at most MAX_LABEL_VALUE characters.
    if (servingName(s.name).length > MAX_LABEL_VALUE) {
      out.push({
        path: `serving.${i}.name`,
        message: `'${s.name}' makes the Service and label value '${servingName(s.name)}', longer than ${MAX_LABEL_VALUE} characters: use a name of at most ${MAX_LABEL_VALUE - servingName('').length}`,
      });
    }
    if (s.alias === undefined && s.version === undefined) {
      out.push({ path: `serving.${i}.alias`, message: 'expected an alias (models:/<model>@<alias>) or a version (models:/<model>/<version>)' });
    }
    if (s.alias !== undefined && s.version !== undefined) {
      out.push({ path: `serving.${i}.version`, message: 'set alias or version, not both' });
    }
    if (s.version !== undefined && s.promotion !== undefined) {
      out.push({ path: `serving.${i}.promotion`, message: 'only with alias: a pinned version rolls out when serving.version changes' });
    }
    const known = clients.map((cl) => cl.name);
    (s.clients ?? []).forEach((name, k) => {
      if (!known.includes(name)) {
        out.push({
          path: `serving.${i}.clients.${k}`,
          message: `no client named '${name}' (${known.length > 0 ? `clients: ${known.join(', ')}` : 'the file lists no clients'})`,
        });
      }
    });
  });
  return out;
}
