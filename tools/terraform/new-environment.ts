/**
 * A new environment's config file, started from an existing one (`import-terraform --from <env> --host <name>`):
 * everything Terraform does not know (image, sizes, exposure, auth users, gitops) is copied from that file, the
 * public host is the one given, and every field the Terraform contract owns is removed (clients and served models
 * with them), so that the import
 * fills each from the new environment's outputs and none keeps the other environment's value (its database,
 * bucket or secrets). The import then validates the whole file as any other.
 */
import { isMap, isNode, parseDocument } from 'yaml';
import { TERRAFORM_CONTRACT, TERRAFORM_LIST_CONTRACT } from './contract';

/** Kept from the source: the import reads it to know the file is a GKE environment, and the outputs overwrite it. */
const KEPT = 'database.engine';

/** The text a new environment starts from, or the problem with `sourceText` (named `sourceName`). */
export function newEnvironmentText(args: { env: string; sourceName: string; sourceText: string; host: string }): { text?: string; problem?: string } {
  const doc = parseDocument(args.sourceText);
  if (doc.errors.length > 0 || !isMap(doc.contents)) return { problem: `${args.sourceName} is not a readable config file (fix it first)` };
  if (!doc.hasIn(['exposure', 'hosts'])) {
    return { problem: `${args.sourceName} has no exposure.hosts (its exposure.mode serves no host): start from an environment that serves one` };
  }
  for (const row of TERRAFORM_CONTRACT) {
    if (row.path.join('.') === KEPT) continue;
    doc.deleteIn(row.path);
    // A section left empty goes too: the import writes it anew as a block, not as an empty flow mapping `{}`.
    const section = doc.get(row.path[0]);
    if (isMap(section) && section.items.length === 0) doc.delete(row.path[0]);
  }
  // Clients and served models are not copied: their namespaces, grants and models are the new environment's own
  // decision, and their secrets and service accounts come from its module's clients and serving variables.
  for (const list of new Set(TERRAFORM_LIST_CONTRACT.map((r) => r.list))) doc.delete(list);
  doc.setIn(['exposure', 'hosts'], doc.createNode([args.host], { flow: true }));
  // The source's own header describes the source: replaced by one saying where this file came from.
  doc.contents.commentBefore = undefined;
  const first = doc.contents.items[0];
  if (first !== undefined && isNode(first.key)) first.key.commentBefore = undefined;
  doc.commentBefore =
    ' yaml-language-server: $schema=../schemas/config.schema.json\n' +
    ` Environment '${args.env}' on GKE, started from ${args.sourceName} by npm run import-terraform.\n` +
    ` Values marked by the Terraform contract (docs/terraform-contract.md) come from its outputs; review the rest.`;
  return { text: doc.toString() };
}
