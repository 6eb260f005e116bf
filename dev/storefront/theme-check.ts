/**
 * Shopify's theme-check in the theme-app-extension context (the checks `shopify app deploy` and
 * `shopify theme check` run on an extension) over extensions/laurel-theme, as plain offences.
 * Offline it falls back to the docs bundled with @shopify/theme-check-docs-updater.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { check, Severity } from '@shopify/theme-check-node';
import { DEFAULT_EXTENSION_DIR } from './liquid-engine';

export interface ThemeCheckOffence {
  check: string;
  severity: 'error' | 'warning' | 'info';
  /** Relative to the extension directory, e.g. `blocks/launcher.liquid`. */
  file: string;
  /** 1-based. */
  line: number;
  column: number;
  message: string;
}

const SEVERITY: Record<Severity, ThemeCheckOffence['severity']> = {
  [Severity.ERROR]: 'error',
  [Severity.WARNING]: 'warning',
  [Severity.INFO]: 'info',
};

export async function runThemeCheck(
  extensionDir: string = DEFAULT_EXTENSION_DIR,
): Promise<ThemeCheckOffence[]> {
  const root = path.resolve(extensionDir);
  const offences = await check(root, 'theme-check:theme-app-extension');
  return offences
    .map((offence) => ({
      check: offence.check,
      severity: SEVERITY[offence.severity],
      file: path.relative(root, fileURLToPath(offence.uri)),
      line: offence.start.line,
      column: offence.start.character + 1,
      message: offence.message,
    }))
    .sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

export function formatOffence(offence: {
  file: string;
  line?: number;
  column?: number;
  check: string;
  message: string;
}): string {
  const at = offence.line ? `:${offence.line}:${offence.column ?? 1}` : '';
  return `${offence.file}${at}  ${offence.check}  ${offence.message}`;
}
