/**
 * What the migration Job does for a client or serving user, done here through MLflow's admin REST API so that a
 * real-server suite can run before (or without) the Job: create the user with its password, create each named
 * experiment that does not exist yet (MLflow keys experiment permissions by id), and grant exactly the listed
 * permissions. ONE place: when the Job's own run replaces it, only the callers of {@link grantLikeTheMigrationJob} change.
 */
import type { Grant } from '../../lib/config/model';
import { basicAuth } from '../../tools/pod-harness/http';

/** A user as the Job reconciles it: its password and its grants, experiments and models by name. */
export interface UserGrants {
  readonly username: string;
  readonly password: string;
  readonly experiments: readonly Grant[];
  readonly models: readonly Grant[];
}

async function call(url: string, admin: string, method: string, p: string, body?: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(`${url}${p}`, {
    method,
    headers: { Authorization: admin, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : {} };
}

async function ok(url: string, admin: string, method: string, p: string, body?: unknown): Promise<any> {
  const r = await call(url, admin, method, p, body);
  if (r.status !== 200) throw new Error(`${method} ${p}: HTTP ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}

/** The id of experiment `name`, created first when absent (as the Job does, so the grant holds from the first sync). */
export async function experimentId(url: string, admin: { username: string; password: string }, name: string): Promise<string> {
  const a = basicAuth(admin.username, admin.password);
  const found = await call(url, a, 'GET', `/api/2.0/mlflow/experiments/get-by-name?experiment_name=${encodeURIComponent(name)}`);
  if (found.status === 200) return found.json.experiment.experiment_id as string;
  return (await ok(url, a, 'POST', '/api/2.0/mlflow/experiments/create', { name })).experiment_id as string;
}

/** Creates the user (if absent) and grants it exactly `user.experiments` and `user.models`, as the admin. */
export async function grantLikeTheMigrationJob(url: string, admin: { username: string; password: string }, user: UserGrants): Promise<void> {
  const a = basicAuth(admin.username, admin.password);
  const existing = await call(url, a, 'GET', `/api/2.0/mlflow/users/get?username=${encodeURIComponent(user.username)}`);
  if (existing.status !== 200) await ok(url, a, 'POST', '/api/2.0/mlflow/users/create', { username: user.username, password: user.password });
  const grant = async (resource_type: string, resource_id: string, permission: string) => {
    const r = await call(url, a, 'POST', '/api/3.0/mlflow/users/permissions/grant', { username: user.username, resource_type, resource_id, permission });
    if (r.status !== 200 && r.json.error_code !== 'RESOURCE_ALREADY_EXISTS') throw new Error(`grant ${permission} on ${resource_type} ${resource_id}: HTTP ${r.status} ${JSON.stringify(r.json)}`);
  };
  for (const e of user.experiments) await grant('experiment', await experimentId(url, admin, e.name), e.permission);
  for (const m of user.models) await grant('registered_model', m.name, m.permission);
}
