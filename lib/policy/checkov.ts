/**
 * Checkov skips, rendered on the object they are about. `npm test` scans `dist/` and `terraform/` with Checkov
 * (test/policy/checkov-scan.test.ts) and allows no failed check and no global skip list: where a check does not fit an object,
 * the construct that owns the object says why, through these helpers, as the annotation Checkov reads
 * (`checkov.io/skip<N>: <check id>=<reason>`). Terraform's skips are `#checkov:skip=<id>:<reason>` comments in
 * `terraform/`. Policy and the list of every skip: docs/testing.md#checkov.
 * @see https://www.checkov.io/2.Basics/Suppressing%20and%20Skipping%20Policies.html
 */
import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { IConstruct } from 'constructs';

/** Prefix of the annotation keys Checkov reads as skips; the keys are numbered per object (`checkov.io/skip1`, …). */
export const CHECKOV_SKIP_ANNOTATION = 'checkov.io/skip';

/** A Checkov check of Kubernetes objects, e.g. `CKV_K8S_35`. */
export type KubernetesCheckId = `CKV_K8S_${number}`;

/**
 * Skips Checkov's `check` on `scope`'s API object, with `reason` in words (Checkov prints it beside the skip).
 * One skip per check and object; the reason must not contain `=` (Checkov splits the annotation at it) or a line break.
 */
export function skipCheck(scope: IConstruct, check: KubernetesCheckId, reason: string): void {
  const obj = ApiObject.of(scope);
  const where = `${obj.kind}/${obj.name}`;
  if (!/^CKV_K8S_\d+$/.test(check)) throw new Error(`${where}: '${check}' is not a Checkov Kubernetes check id (CKV_K8S_<number>)`);
  if (reason.trim() === '') throw new Error(`${where}: the skip of ${check} needs a reason in words`);
  if (/[=\r\n]/.test(reason)) throw new Error(`${where}: the reason for skipping ${check} contains '=' or a line break, which Checkov cannot read: '${reason}'`);
  const skips = Object.entries((obj.metadata.toJson().annotations ?? {}) as Record<string, string>).filter(([k]) => k.startsWith(CHECKOV_SKIP_ANNOTATION));
  if (skips.some(([, v]) => v.split('=')[0] === check)) throw new Error(`${where}: ${check} is already skipped on this object`);
  obj.metadata.addAnnotation(`${CHECKOV_SKIP_ANNOTATION}${skips.length + 1}`, `${check}=${reason}`);
}

/**
 * CKV_K8S_43 (image digest) and CKV_K8S_15 (pull policy Always) on a workload running the MLflow `image`, when the
 * environment pins it by release tag only. With `image.digest` in the config the image carries its digest, both
 * checks pass, and nothing is skipped.
 */
export function skipTagPinnedImageChecks(workload: kplus.AbstractPod, image: string): void {
  if (image.includes('@')) return;
  skipCheck(workload, 'CKV_K8S_43', "the MLflow image is pinned by its release tag only: set image.digest in the environment's config to pin the digest");
  skipCheck(
    workload,
    'CKV_K8S_15',
    "IfNotPresent: the MLflow image's release tag names one build, and Always would make every pod start depend on the registry (image.digest satisfies the check)",
  );
}

/**
 * CKV_K8S_35 (Secrets as files, not environment variables) on a workload whose containers take Secret values as
 * environment variables, naming them before `why` (the reason the program needs them there). No skip without any.
 */
export function skipSecretEnvCheck(workload: kplus.AbstractPod, why: string): void {
  const names = [...workload.initContainers, ...workload.containers].flatMap((c) =>
    Object.entries(c.env.variables)
      .filter(([, v]) => v.valueFrom?.secretKeyRef !== undefined)
      .map(([name]) => name),
  );
  if (names.length === 0) return;
  skipCheck(workload, 'CKV_K8S_35', `${[...new Set(names)].join(', ')} from Secrets: ${why}`);
}
