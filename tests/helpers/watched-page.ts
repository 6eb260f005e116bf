/**
 * A Chromium page that records what a storefront page must not do — console errors and warnings,
 * page errors, failed requests, HTTP errors — every request it makes, and every layout shift
 * (with what moved), for the storefront e2e tests to assert on.
 */
import type { Page, Request as BrowserRequest } from 'playwright-core';

export interface LayoutShift {
  value: number;
  /** Within 500 ms of a click or key press: not counted by CLS. */
  hadRecentInput: boolean;
  /** What moved (the start of each element's markup) and from where to where. */
  sources: string[];
}

/**
 * Starts recording on `page` (before its first navigation): problems into `problems`, requests
 * into `requests`, layout shifts into the page (read with {@link layoutShifts}).
 */
export async function watchPage(
  page: Page,
  problems: string[],
  requests: BrowserRequest[],
): Promise<void> {
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      problems.push(`console.${message.type()}: ${message.text()} (${message.location().url})`);
    }
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('request', (request) => requests.push(request));
  page.on('requestfailed', (request) =>
    problems.push(`failed request: ${request.url()} (${request.failure()?.errorText})`),
  );
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
  });
  await page.addInitScript(() => {
    const shifts: LayoutShift[] = [];
    (window as unknown as { __laurelShifts: typeof shifts }).__laurelShifts = shifts;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as unknown as {
        value: number;
        hadRecentInput: boolean;
        sources?: { node?: Node | null }[];
      }[]) {
        shifts.push({
          value: entry.value,
          hadRecentInput: entry.hadRecentInput,
          sources: (entry.sources ?? []).map((source) => {
            const node = source.node as Element | null | undefined;
            const { previousRect: from, currentRect: to } = source as unknown as {
              previousRect: DOMRectReadOnly;
              currentRect: DOMRectReadOnly;
            };
            const rect = (r: DOMRectReadOnly) => `${r.x},${r.y} ${r.width}×${r.height}`;
            const what =
              node?.outerHTML?.slice(0, 80) ??
              `${node?.nodeName} "${node?.textContent?.trim().slice(0, 40)}" in ${node?.parentElement?.outerHTML.slice(0, 80)}`;
            return `${what} at ${rect(from)} → ${rect(to)}`;
          }),
        });
      }
    }).observe({ type: 'layout-shift', buffered: true });
  });
}

/** Every layout shift since the page was opened. */
export function layoutShifts(page: Page): Promise<LayoutShift[]> {
  return page.evaluate(
    () => (window as unknown as { __laurelShifts: LayoutShift[] }).__laurelShifts,
  );
}

/**
 * Cumulative Layout Shift as browsers define it: the shifts no input explains. Shifts right after
 * an input are reported, not counted.
 */
export function cumulativeLayoutShift(shifts: readonly LayoutShift[]): number {
  return shifts.filter((s) => !s.hadRecentInput).reduce((sum, s) => sum + s.value, 0);
}
