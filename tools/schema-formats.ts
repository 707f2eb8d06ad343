/**
 * The string formats the Kubernetes and CRD schemas use, for {@link validateManifest}: a module of its own so that a
 * validator cached as code (see `cacheValidatorsIn` in schema-validation.ts) can `require` the same formats.
 */
import type { Format } from 'ajv';
import { fullFormats } from 'ajv-formats/dist/formats';

const FROM_AJV_FORMATS = ['date-time', 'byte', 'int32', 'int64', 'double', 'float', 'ipv4', 'ipv6'] as const;

export const SCHEMA_FORMATS: Readonly<Record<string, Format>> = {
  ...Object.fromEntries(FROM_AJV_FORMATS.map((name) => [name, fullFormats[name]])),
  // Kubernetes durations are Go durations (`30s`, `1h0m0s`), not ISO 8601.
  duration: /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/,
};
