/** Helpers for construct-level tests: a fresh test chart, its objects, and containers picked by name. */
import { Chart, Testing } from 'cdk8s';
import type { Manifest } from '../../lib/synth/synth';

export { find, ofKind, envOf } from '../../tools/environments';

/** A fresh chart (its own App) to build one construct in. */
export function testChart(): Chart {
  return Testing.chart();
}

/** The chart's objects as they would be written. */
export function objectsOf(chart: Chart): Manifest[] {
  return Testing.synth(chart) as Manifest[];
}

/** The container `name` of a pod spec (regular or init); fails loudly when absent or ambiguous. */
export function containerNamed(spec: any, name: string): any {
  const hits = [...(spec.initContainers ?? []), ...(spec.containers ?? [])].filter((c: any) => c.name === name);
  if (hits.length !== 1) throw new Error(`expected exactly one container "${name}", found ${hits.length}`);
  return hits[0];
}

/** The volume `name` of a pod spec. */
export function volumeNamed(spec: any, name: string): any {
  const hits = (spec.volumes ?? []).filter((v: any) => v.name === name);
  if (hits.length !== 1) throw new Error(`expected exactly one volume "${name}", found ${hits.length}`);
  return hits[0];
}

/** The value following `flag` in an exec-form command; undefined when the flag is absent. */
export function flagValue(command: readonly string[], flag: string): string | undefined {
  const i = command.indexOf(flag);
  return i < 0 ? undefined : command[i + 1];
}

/** The names of a container's mounts, keyed by mount path. */
export function mountsOf(container: any): Record<string, { name: string; readOnly?: boolean }> {
  return Object.fromEntries((container.volumeMounts ?? []).map((m: any) => [m.mountPath, { name: m.name, ...(m.readOnly ? { readOnly: true } : {}) }]));
}
