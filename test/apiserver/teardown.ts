/** jest globalTeardown of the `apiserver` project: stops the run's API server by pid (also after failed tests). */
import * as fs from 'fs';
import { cpuSecondsOf, STATE_ENV, stopApiServer, type ApiServerState } from '../support/apiserver';

export default async function teardown(): Promise<void> {
  const file = process.env[STATE_ENV];
  if (!file || !fs.existsSync(file)) return;
  const state = JSON.parse(fs.readFileSync(file, 'utf8')) as ApiServerState;
  const cpu = cpuSecondsOf(state.pids.etcd) + cpuSecondsOf(state.pids.apiserver);
  await stopApiServer(state);
  delete process.env[STATE_ENV];
  console.log(`test API server stopped (pids ${state.pids.apiserver}, etcd ${state.pids.etcd}); ${cpu.toFixed(1)} CPU-seconds of etcd + kube-apiserver in this run`);
}
