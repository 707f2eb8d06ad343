/** jest globalTeardown of the `apiserver` project: stops the run's API server by pid (also after failed tests). */
import * as fs from 'fs';
import { STATE_ENV, stopApiServer, type ApiServerState } from '../support/apiserver';

export default async function teardown(): Promise<void> {
  const file = process.env[STATE_ENV];
  if (!file || !fs.existsSync(file)) return;
  const state = JSON.parse(fs.readFileSync(file, 'utf8')) as ApiServerState;
  await stopApiServer(state);
  delete process.env[STATE_ENV];
}
