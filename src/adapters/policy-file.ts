// Reads a tolerance policy: YAML, validated against schemas/policy.schema.json, so a typo in a key
// is an error that names it rather than a silently ignored rule.
import { fileURLToPath } from 'node:url';
import picomatch from 'picomatch';
import type { PolicyDocument } from '../core/compare/policy.js';
import { UserInputError } from '../errors.js';
import { readYamlFile, schemaProblems } from './json-schema.js';

export const POLICY_SCHEMA_PATH = fileURLToPath(new URL('../../schemas/policy.schema.json', import.meta.url));

export async function readPolicy(path: string): Promise<PolicyDocument> {
  const value = await readYamlFile(path, 'policy', 'POLICY');
  const problems = schemaProblems(POLICY_SCHEMA_PATH, value);
  if (problems.length > 0) {
    throw new UserInputError('POLICY_INVALID', `policy ${path}: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}`, {
      hint: 'See the policy format in the README; examples/policies/ has working examples.',
      data: { errors: problems },
    });
  }
  const document = value as PolicyDocument;
  for (const [index, rule] of (document.rules ?? []).entries()) {
    try {
      picomatch.makeRe(rule.match);
    } catch (error) {
      throw new UserInputError('POLICY_INVALID', `policy ${path}: rules.${index}.match: ${JSON.stringify(rule.match)} is not a valid glob`, { cause: error });
    }
  }
  return document;
}
