/** jest globalSetup of the `apiserver` project: one throw-away API server for every suite of this run. */
import * as path from 'path';
import { STATE_ENV, startApiServer } from '../support/apiserver';

export default async function setup(): Promise<void> {
  const s = await startApiServer();
  // Workers start after this and inherit the environment: each suite finds the server through it.
  process.env[STATE_ENV] = path.join(s.dir, 'state.json');
  const sec = (ms: number) => (ms / 1000).toFixed(1);
  console.log(
    `\ntest API server: kube-apiserver ${s.kubeVersion} at ${s.server} (pids ${s.pids.apiserver}, etcd ${s.pids.etcd}); ` +
      `ready after ${sec(s.timings.readyMs)} s, ${s.timings.crdCount} CRDs Established after ${sec(s.timings.crdsEstablishedMs)} s ` +
      `(${s.timings.cpuSeconds.toFixed(1)} CPU-seconds of etcd + kube-apiserver)`,
  );
}
