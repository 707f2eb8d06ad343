/**
 * Cloud SQL's IAM database user names: the one rule for the user a service account logs in as under IAM database
 * authentication. In the config layer because the config guards report a name an engine cannot take on its field
 * (`gcp.serviceAccountEmail`); `DatabaseAccess` (lib/mlflow/database-access.ts) re-exports it for the constructs.
 */

/** The Cloud SQL engines, for the rules that differ between them (the IAM database user name). */
export type CloudSqlEngine = 'mysql' | 'postgres';

/** The domain every Google service account email ends with. */
const SERVICE_ACCOUNT_DOMAIN = '.gserviceaccount.com';
/** Longest user name each engine accepts: MySQL's 32 characters, PostgreSQL's identifier limit (NAMEDATALEN − 1). */
const MAX_USER_NAME_LENGTH: Readonly<Record<CloudSqlEngine, number>> = { mysql: 32, postgres: 63 };

/**
 * The database user name Cloud SQL gives a service account under IAM database authentication, which is the name
 * a client logs in with through the proxy's `--auto-iam-authn`:
 * - **MySQL**: the email without `@` and its domain (`sa@p.iam.gserviceaccount.com` → `sa`). Cloud SQL for MySQL
 *   stores the IAM user that way (its user is created with the full email and keeps only the part before `@`).
 * - **PostgreSQL**: the email without the `.gserviceaccount.com` suffix (`sa@p.iam.gserviceaccount.com` →
 *   `sa@p.iam`), because of PostgreSQL's length limit on names.
 *
 * Throws when the email is not a service account's, or the name exceeds the engine's limit (MySQL: 32
 * characters, never reached by a valid account id of at most 30; PostgreSQL: 63, which a 30-character account id
 * in a 30-character project exceeds by 2). The config guards report that case on the field; here it is a bug.
 * Sources and why: docs/design.md#iam-database-login.
 * @see https://cloud.google.com/sql/docs/mysql/iam-logins
 * @see https://cloud.google.com/sql/docs/postgres/add-manage-iam-users
 */
export function iamDatabaseUser(serviceAccountEmail: string, engine: CloudSqlEngine): string {
  const problem = iamDatabaseUserProblem(serviceAccountEmail, engine);
  if (problem !== undefined) throw new Error(problem);
  return iamUserName(serviceAccountEmail, engine);
}

/** Why {@link iamDatabaseUser} refuses `serviceAccountEmail` for `engine`, or undefined when it does not. */
export function iamDatabaseUserProblem(serviceAccountEmail: string, engine: CloudSqlEngine): string | undefined {
  const at = serviceAccountEmail.indexOf('@');
  if (at <= 0 || !serviceAccountEmail.endsWith(`.iam${SERVICE_ACCOUNT_DOMAIN}`)) {
    return `not a Google service account email (NAME@PROJECT.iam.gserviceaccount.com): '${serviceAccountEmail}'`;
  }
  const name = iamUserName(serviceAccountEmail, engine);
  const max = MAX_USER_NAME_LENGTH[engine];
  if (name.length > max) {
    return `the IAM database user '${name}' of ${serviceAccountEmail} has ${name.length} characters; ${engine} accepts at most ${max}`;
  }
  return undefined;
}

function iamUserName(email: string, engine: CloudSqlEngine): string {
  return engine === 'mysql' ? email.slice(0, email.indexOf('@')) : email.slice(0, -SERVICE_ACCOUNT_DOMAIN.length);
}
