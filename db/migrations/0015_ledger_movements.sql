CREATE TABLE "customer_ledger_activity" (
	"customer_id" integer PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"last_occurred_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_daily_movements" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"day" date NOT NULL,
	"source" text NOT NULL,
	"credit" boolean NOT NULL,
	"points" bigint NOT NULL,
	"entries" integer NOT NULL,
	"compacted" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "ledger_hourly_movements" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"hour" timestamp with time zone NOT NULL,
	"source" text NOT NULL,
	"credit" boolean NOT NULL,
	"points" bigint NOT NULL,
	"entries" integer NOT NULL,
	"compacted" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
ALTER TABLE "customer_ledger_activity" ADD CONSTRAINT "customer_ledger_activity_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_ledger_activity" ADD CONSTRAINT "customer_ledger_activity_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_daily_movements" ADD CONSTRAINT "ledger_daily_movements_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_hourly_movements" ADD CONSTRAINT "ledger_hourly_movements_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "customer_ledger_activity_shop_last_idx" ON "customer_ledger_activity" USING btree ("shop_id","last_occurred_at");--> statement-breakpoint
CREATE INDEX "ledger_daily_movements_shop_day_idx" ON "ledger_daily_movements" USING btree ("shop_id","day");--> statement-breakpoint
CREATE INDEX "ledger_daily_movements_loose_idx" ON "ledger_daily_movements" USING btree ("shop_id") WHERE NOT "ledger_daily_movements"."compacted";--> statement-breakpoint
CREATE INDEX "ledger_hourly_movements_shop_hour_idx" ON "ledger_hourly_movements" USING btree ("shop_id","hour");--> statement-breakpoint
CREATE INDEX "ledger_hourly_movements_loose_idx" ON "ledger_hourly_movements" USING btree ("shop_id") WHERE NOT "ledger_hourly_movements"."compacted";--> statement-breakpoint
CREATE INDEX "order_refunds_shop_processed_idx" ON "order_refunds" USING btree ("shop_id","processed_at","shopify_order_id","merchandise_minor","shipping_minor");--> statement-breakpoint
CREATE INDEX "orders_shop_purchases_idx" ON "orders" USING btree ("shop_id","processed_at","customer_id","total_minor","shopify_order_id","email") WHERE "orders"."paid_at" IS NOT NULL AND "orders"."cancelled_at" IS NULL AND NOT "orders"."test";--> statement-breakpoint
CREATE INDEX "orders_shop_member_purchases_idx" ON "orders" USING btree ("shop_id","customer_id","processed_at") WHERE "orders"."customer_id" IS NOT NULL AND "orders"."paid_at" IS NOT NULL AND "orders"."cancelled_at" IS NULL AND NOT "orders"."test";--> statement-breakpoint
CREATE INDEX "orders_shop_guest_purchases_idx" ON "orders" USING btree ("shop_id","email","processed_at") WHERE "orders"."customer_id" IS NULL AND "orders"."paid_at" IS NOT NULL AND "orders"."cancelled_at" IS NULL AND NOT "orders"."test";--> statement-breakpoint
-- Hand-written (drizzle-kit does not model triggers): ledger_daily_movements,
-- ledger_hourly_movements and customer_ledger_activity follow ledger_entries in the statement that changes it. Statement-level
-- with a transition table, so a postMany of 2,000 entries adds one grouped insert, not 2,000.
-- Movement rows are only ever inserted (never updated), so concurrent writers never lock each
-- other here; activity rows are per customer, locked in customer id order like customer_balances.
CREATE FUNCTION "laurel_ledger_movements_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "ledger_daily_movements" ("shop_id", "day", "source", "credit", "points", "entries")
  SELECT "shop_id", ("occurred_at" AT TIME ZONE 'UTC')::date, "source", "points" >= 0,
         sum("points"), count(*)
  FROM "new_entries" GROUP BY 1, 2, 3, 4;
  INSERT INTO "ledger_hourly_movements" ("shop_id", "hour", "source", "credit", "points", "entries")
  SELECT "shop_id", date_trunc('hour', "occurred_at" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', "source",
         "points" >= 0, sum("points"), count(*)
  FROM "new_entries" GROUP BY 1, 2, 3, 4;
  INSERT INTO "customer_ledger_activity" AS a ("customer_id", "shop_id", "last_occurred_at")
  SELECT "customer_id", min("shop_id"), max("occurred_at")
  FROM "new_entries" GROUP BY 1 ORDER BY 1
  ON CONFLICT ("customer_id") DO UPDATE SET "last_occurred_at" = excluded."last_occurred_at"
  WHERE a."last_occurred_at" < excluded."last_occurred_at";
  RETURN NULL;
END;
$$;--> statement-breakpoint
-- Deletes happen only when a shop or customer is erased: the movements are taken back by
-- negative rows (none for a shop being deleted itself: its rows go with it), and the activity of
-- the customers left is read again.
CREATE FUNCTION "laurel_ledger_movements_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "ledger_daily_movements" ("shop_id", "day", "source", "credit", "points", "entries")
  SELECT o."shop_id", (o."occurred_at" AT TIME ZONE 'UTC')::date, o."source", o."points" >= 0,
         -sum(o."points"), -count(*)
  FROM "old_entries" o
  WHERE EXISTS (SELECT 1 FROM "shops" s WHERE s."id" = o."shop_id")
  GROUP BY 1, 2, 3, 4;
  INSERT INTO "ledger_hourly_movements" ("shop_id", "hour", "source", "credit", "points", "entries")
  SELECT o."shop_id", date_trunc('hour', o."occurred_at" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC',
         o."source", o."points" >= 0, -sum(o."points"), -count(*)
  FROM "old_entries" o
  WHERE EXISTS (SELECT 1 FROM "shops" s WHERE s."id" = o."shop_id")
  GROUP BY 1, 2, 3, 4;
  UPDATE "customer_ledger_activity" a
  SET "last_occurred_at" = latest."at"
  FROM (
    SELECT d."customer_id",
           (SELECT max(e."occurred_at") FROM "ledger_entries" e
            WHERE e."shop_id" = d."shop_id" AND e."customer_id" = d."customer_id") AS "at"
    FROM (SELECT DISTINCT "shop_id", "customer_id" FROM "old_entries") d
  ) latest
  WHERE a."customer_id" = latest."customer_id" AND latest."at" IS NOT NULL;
  DELETE FROM "customer_ledger_activity" a
  USING (SELECT DISTINCT "shop_id", "customer_id" FROM "old_entries") d
  WHERE a."customer_id" = d."customer_id"
    AND NOT EXISTS (SELECT 1 FROM "ledger_entries" e
                    WHERE e."shop_id" = d."shop_id" AND e."customer_id" = d."customer_id");
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER "ledger_entries_movements_insert" AFTER INSERT ON "ledger_entries"
  REFERENCING NEW TABLE AS "new_entries"
  FOR EACH STATEMENT EXECUTE FUNCTION "laurel_ledger_movements_insert"();--> statement-breakpoint
CREATE TRIGGER "ledger_entries_movements_delete" AFTER DELETE ON "ledger_entries"
  REFERENCING OLD TABLE AS "old_entries"
  FOR EACH STATEMENT EXECUTE FUNCTION "laurel_ledger_movements_delete"();--> statement-breakpoint
-- The entries already posted.
INSERT INTO "ledger_daily_movements" ("shop_id", "day", "source", "credit", "points", "entries", "compacted")
SELECT "shop_id", ("occurred_at" AT TIME ZONE 'UTC')::date, "source", "points" >= 0,
       sum("points"), count(*), true
FROM "ledger_entries" GROUP BY 1, 2, 3, 4;--> statement-breakpoint
INSERT INTO "ledger_hourly_movements" ("shop_id", "hour", "source", "credit", "points", "entries", "compacted")
SELECT "shop_id", date_trunc('hour', "occurred_at" AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', "source",
       "points" >= 0, sum("points"), count(*), true
FROM "ledger_entries" GROUP BY 1, 2, 3, 4;--> statement-breakpoint
INSERT INTO "customer_ledger_activity" ("customer_id", "shop_id", "last_occurred_at")
SELECT "customer_id", min("shop_id"), max("occurred_at") FROM "ledger_entries" GROUP BY 1;
