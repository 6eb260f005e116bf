/**
 * Where each early-access window's mirror stands at Shopify, for the admin's list
 * (app/routes/app.early-access.tsx): per window, the products whose desired mirror names it
 * (early_access_products) and how many Shopify holds, still waits for, or refused.
 */
import { sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.server';

export interface WindowMirrorStatus {
  products: number;
  /** Shopify holds the current mirror. */
  synced: number;
  /** Waiting for the sync (never tried, or tried and refused). */
  pending: number;
  /** Refused at least once (attempts > 0); `lastError` is one of their reasons. */
  failed: number;
  lastError: string | null;
  /** When the last of them was written. */
  syncedAt: Date | null;
}

export async function mirrorStatusByWindow(
  db: Executor,
  shopId: number,
): Promise<Map<number, WindowMirrorStatus>> {
  const result = await db.execute(sql`
    SELECT (w->>'id')::int AS window_id,
      count(*)::int AS products,
      count(*) FILTER (WHERE p.synced_revision >= p.revision)::int AS synced,
      count(*) FILTER (WHERE p.revision > p.synced_revision)::int AS pending,
      count(*) FILTER (WHERE p.revision > p.synced_revision AND p.attempts > 0)::int AS failed,
      max(p.last_error) AS last_error,
      max(p.synced_at) AS synced_at
    FROM early_access_products p, jsonb_array_elements(p.mirror->'windows') w
    WHERE p.shop_id = ${shopId} AND p.mirror IS NOT NULL
    GROUP BY 1`);
  const rows = (Array.isArray(result) ? result : (result as { rows: unknown[] }).rows) as {
    window_id: number;
    products: number;
    synced: number;
    pending: number;
    failed: number;
    last_error: string | null;
    synced_at: Date | string | null;
  }[];
  return new Map(
    rows.map((r) => [
      r.window_id,
      {
        products: r.products,
        synced: r.synced,
        pending: r.pending,
        failed: r.failed,
        lastError: r.last_error,
        syncedAt: r.synced_at === null ? null : new Date(r.synced_at),
      },
    ]),
  );
}
