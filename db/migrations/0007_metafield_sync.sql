CREATE TABLE "customer_metafield_sync" (
	"customer_id" integer PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"revision" bigint DEFAULT 1 NOT NULL,
	"ledger_position" bigint NOT NULL,
	"synced_revision" bigint DEFAULT 0 NOT NULL,
	"synced_position" bigint,
	"synced_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"retry_after" timestamp with time zone,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "shop_metafield_sync" (
	"shop_id" integer PRIMARY KEY NOT NULL,
	"lease_owner" text,
	"lease_until" timestamp with time zone,
	"program_version" integer,
	"program_synced_at" timestamp with time zone,
	"program_checked_at" timestamp with time zone,
	"app_installation_id" text
);
--> statement-breakpoint
ALTER TABLE "customer_metafield_sync" ADD CONSTRAINT "customer_metafield_sync_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_metafield_sync" ADD CONSTRAINT "customer_metafield_sync_shop_customer_fk" FOREIGN KEY ("shop_id","customer_id") REFERENCES "public"."customers"("shop_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shop_metafield_sync" ADD CONSTRAINT "shop_metafield_sync_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "customer_metafield_sync_pending_idx" ON "customer_metafield_sync" USING btree ("shop_id","customer_id") WHERE "customer_metafield_sync"."revision" > "customer_metafield_sync"."synced_revision";--> statement-breakpoint
-- Hand-written: members who had points before this migration start pending, so the first sync
-- (the sweep, within minutes of deploying) writes their metafields.
INSERT INTO "customer_metafield_sync" ("customer_id", "shop_id", "ledger_position")
SELECT b."customer_id", b."shop_id",
  coalesce((SELECT max(e."id") FROM "ledger_entries" e
            WHERE e."shop_id" = b."shop_id" AND e."customer_id" = b."customer_id"), 0)
FROM "customer_balances" b;
