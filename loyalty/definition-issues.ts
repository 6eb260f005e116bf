/**
 * What the merchant-written definitions (earn programs, tier programs, referral programs, early-
 * access windows) share when they refuse input: every problem as `{path, message}`, the path
 * written as the JSON would be read (`tiers[2].threshold`). Pure.
 */
import type { z } from 'zod';

export interface DefinitionIssue {
  path: string;
  message: string;
}

/** `['tiers', 2, 'threshold']` → `tiers[2].threshold`. */
export function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A schema's refusal as issues. Unknown keys are reported one per key, so each names its own
 * path ("is not a known field").
 */
export function schemaIssues(error: z.ZodError): DefinitionIssue[] {
  const issues: DefinitionIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        issues.push({ path: pathText([...issue.path, key]), message: 'is not a known field' });
      }
    } else {
      issues.push({ path: pathText(issue.path), message: issue.message });
    }
  }
  return issues;
}
