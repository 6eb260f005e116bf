/**
 * Shopify session storage over Laurel's own database (the `session` table in db/schema.ts).
 *
 * The process database is opened asynchronously (app/db.server.ts getDatabase()), but shopifyApp()
 * wants a storage object at import time, so ProcessSessionStorage awaits the database on each call
 * and delegates to Shopify's Drizzle storage for it. Tests that swap the database with
 * useDatabase() get a storage (and an empty cache) for the new one.
 *
 * Two deliberate differences from the library's storage:
 * - Database errors propagate. DrizzleSessionStoragePostgres turns a failed load or delete into
 *   console.error plus "no session"/false, which would make an outage look like an uninstalled shop
 *   (and start a token exchange) and print query details; here the caller sees the error.
 * - Loaded sessions are cached for a few seconds (SESSION_CACHE_TTL_MS, default 5 s).
 *   authenticate.webhook loads the offline session on every delivery, one query per webhook on the
 *   hottest path. Every store and delete made through this process invalidates the entry at once;
 *   a change made by another process (a second web replica, the worker deleting a redacted shop's
 *   rows) is seen within the TTL. Webhook ingest never uses the session, and an admin request with a
 *   token revoked seconds ago fails with 401 and is re-authenticated by the library, so the
 *   staleness is harmless. See docs/decisions/007-web-server-and-webhook-ingest.md.
 */
import { Session } from '@shopify/shopify-api';
import type { SessionStorage } from '@shopify/shopify-app-session-storage';
import { DrizzleSessionStoragePostgres } from '@shopify/shopify-app-session-storage-drizzle';
import { eq, inArray } from 'drizzle-orm';
import type { Database } from '../db/client.server';
import { sessions } from '../db/schema';

type SessionRow = typeof sessions.$inferSelect;

/** The library's storage, with loads and deletes that report database errors instead of hiding them. */
class DrizzleSessionStorage extends DrizzleSessionStoragePostgres {
  constructor(private readonly database: Database) {
    // Our table declares accessToken nullable (the library writes '' for none); same columns.
    super(
      database,
      sessions as unknown as ConstructorParameters<typeof DrizzleSessionStoragePostgres>[1],
    );
  }

  override async loadSession(id: string): Promise<Session | undefined> {
    const [row] = await this.database.select().from(sessions).where(eq(sessions.id, id));
    if (!row) return undefined;
    // The row → Session mapping is the library's own (private) one, so both directions stay in step.
    return (this as unknown as { rowToSession(row: SessionRow): Session }).rowToSession(row);
  }

  override async deleteSession(id: string): Promise<boolean> {
    await this.database.delete(sessions).where(eq(sessions.id, id));
    return true;
  }

  override async deleteSessions(ids: string[]): Promise<boolean> {
    if (ids.length === 0) return true;
    await this.database.delete(sessions).where(inArray(sessions.id, ids));
    return true;
  }
}

export interface ProcessSessionStorageOptions {
  /** The database to use for each call (default: the process database). */
  database: () => Promise<Database>;
  /** Milliseconds a loaded session (or its absence) is reused; 0 disables the cache. */
  cacheTtlMs: number;
  /** At most this many cached ids (oldest dropped first). Default 10,000. */
  maxEntries?: number;
  now?: () => number;
}

interface CacheEntry {
  /** Stored as plain params so no caller can mutate what another caller receives. */
  params: ReturnType<Session['toObject']> | undefined;
  expiresAt: number;
}

export class ProcessSessionStorage implements SessionStorage {
  private storage: { db: Database; storage: DrizzleSessionStorage } | undefined;
  private readonly cache = new Map<string, CacheEntry>();
  /** Bumped by every write, so a load that raced a write does not cache what it read. */
  private generation = 0;
  private readonly maxEntries: number;
  private readonly now: () => number;

  constructor(private readonly options: ProcessSessionStorageOptions) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  private async delegate(): Promise<DrizzleSessionStorage> {
    const db = await this.options.database();
    if (this.storage?.db !== db) {
      this.storage = { db, storage: new DrizzleSessionStorage(db) };
      this.cache.clear();
    }
    return this.storage.storage;
  }

  private forget(ids: readonly string[]): void {
    this.generation++;
    for (const id of ids) this.cache.delete(id);
  }

  async storeSession(session: Session): Promise<boolean> {
    const storage = await this.delegate();
    this.forget([session.id]);
    try {
      return await storage.storeSession(session);
    } finally {
      this.forget([session.id]);
    }
  }

  async loadSession(id: string): Promise<Session | undefined> {
    const storage = await this.delegate();
    const ttl = this.options.cacheTtlMs;
    if (ttl > 0) {
      const hit = this.cache.get(id);
      if (hit && hit.expiresAt > this.now()) {
        // A fresh instance per caller: the library mutates sessions (e.g. clears a revoked token).
        return hit.params ? new Session({ ...hit.params }) : undefined;
      }
      if (hit) this.cache.delete(id);
    }
    const generation = this.generation;
    const session = await storage.loadSession(id);
    if (ttl > 0 && generation === this.generation && this.storage?.storage === storage) {
      if (this.cache.size >= this.maxEntries) {
        const oldest = this.cache.keys().next();
        if (!oldest.done) this.cache.delete(oldest.value);
      }
      const params = session ? structuredClone(session.toObject()) : undefined;
      this.cache.set(id, { params, expiresAt: this.now() + ttl });
    }
    return session;
  }

  async deleteSession(id: string): Promise<boolean> {
    const storage = await this.delegate();
    this.forget([id]);
    try {
      return await storage.deleteSession(id);
    } finally {
      this.forget([id]);
    }
  }

  async deleteSessions(ids: string[]): Promise<boolean> {
    const storage = await this.delegate();
    this.forget(ids);
    try {
      return await storage.deleteSessions(ids);
    } finally {
      this.forget(ids);
    }
  }

  async findSessionsByShop(shop: string): Promise<Session[]> {
    return (await this.delegate()).findSessionsByShop(shop);
  }

  /** Drops every cached session (e.g. after sessions were changed behind this process's back). */
  clearCache(): void {
    this.forget([...this.cache.keys()]);
  }
}
