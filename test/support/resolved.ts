/** Resolved config pieces, as the loader gives them to constructs, for construct tests that build one feature alone. */
import type { CloudSqlDatabase, ResolvedAuth } from '../../lib/config/model';

/** A MySQL database with password login. */
export const MYSQL_DATABASE: Extract<CloudSqlDatabase, { login: 'password' }> = {
  engine: 'mysql',
  instanceConnectionName: 'proj-123456:europe-west1:db',
  privateIp: true,
  name: 'tracking',
  login: 'password',
  userSecret: 'db-user',
  passwordSecret: 'db-password',
  pool: { size: 4, maxOverflow: 3, recycleSeconds: 900 },
  maxConnections: 500,
  secretProject: 'proj-123456',
};

/** The same database with IAM login as `mlflow-server`. */
export const IAM_DATABASE: Extract<CloudSqlDatabase, { login: 'iam' }> = (({ userSecret: _u, passwordSecret: _p, ...rest }) => ({
  ...rest,
  login: 'iam' as const,
  iamUser: 'mlflow-server',
}))(MYSQL_DATABASE);

/** Basic-auth on {@link MYSQL_DATABASE}, without the features' users, its cache TTL at the default. */
export const AUTH: ResolvedAuth = {
  enabled: true,
  flaskSecretKeySecret: 'flask-key',
  adminUsernameSecret: 'admin-user',
  adminPasswordSecret: 'admin-password',
  defaultPermission: 'NO_PERMISSIONS',
  credentialCacheTtlSeconds: 60,
  secretProject: 'proj-123456',
  database: MYSQL_DATABASE,
};
