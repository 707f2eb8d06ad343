import { Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';

/**
 * The environment of a container that runs an MLflow client against the tracking server (the PostSync smoke
 * test, the gc CronJob): basic-auth credentials from `credentials` (keys `username` and `password`) when the
 * server has auth on, telemetry off, and HOME on the container's writable /tmp (the root filesystem is read-only).
 */
export function mlflowClientEnv(credentials: kplus.ISecret | undefined): Record<string, kplus.EnvValue> {
  return {
    ...(credentials
      ? {
          MLFLOW_TRACKING_USERNAME: kplus.EnvValue.fromSecretValue({ secret: credentials, key: 'username' }),
          MLFLOW_TRACKING_PASSWORD: kplus.EnvValue.fromSecretValue({ secret: credentials, key: 'password' }),
        }
      : {}),
    MLFLOW_DISABLE_TELEMETRY: kplus.EnvValue.fromValue('true'),
    HOME: kplus.EnvValue.fromValue('/tmp'),
  };
}

/**
 * Requests and limits of a container that runs one short MLflow process beside the server (the migration Job, the
 * smoke test, gc): importing MLflow dominates (gc measured at 223 MiB RSS), so 384Mi/768Mi with a burst to one CPU.
 */
export const MLFLOW_TASK_RESOURCES: kplus.ContainerResources = {
  cpu: { request: kplus.Cpu.millis(100), limit: kplus.Cpu.millis(1000) },
  memory: { request: Size.mebibytes(384), limit: Size.mebibytes(768) },
};
