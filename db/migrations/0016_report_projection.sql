CREATE TABLE "customer_month_points" (
	"shop_id" integer NOT NULL,
	"customer_id" integer NOT NULL,
	"month" date NOT NULL,
	"points" bigint NOT NULL,
	CONSTRAINT "customer_month_points_shop_id_customer_id_month_pk" PRIMARY KEY("shop_id","customer_id","month")
);
--> statement-breakpoint
ALTER TABLE "customer_month_points" ADD CONSTRAINT "customer_month_points_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_month_points" ADD CONSTRAINT "customer_month_points_shop_customer_fk" FOREIGN KEY ("shop_id","customer_id") REFERENCES "public"."customers"("shop_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "customer_month_points_shop_month_idx" ON "customer_month_points" USING btree ("shop_id","month","customer_id","points");--> statement-breakpoint
CREATE INDEX "customers_shop_external_c_idx" ON "customers" USING btree ("shop_id","external_id" COLLATE "C");--> statement-breakpoint
-- Hand-written (drizzle-kit does not model triggers): customer_month_points is the per customer and
-- shop-timezone month sum of the purchase entries (order, refund, cancellation), kept equal to the
-- ledger in the transaction of every write, whoever writes (app/models/admin-report.server.ts).
-- Statement-level with transition tables: a batch (postMany, COPY) is one grouped upsert. Rows are
-- upserted in key order, so two writers touching the same members take the row locks in one order.
CREATE FUNCTION "laurel_month_points_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Share-locks the shops' rows: a timezone change (which rebuilds the shop's rows, below) waits for
  -- this transaction, or this one for it and then reads the new timezone; no entry is bucketed in a
  -- timezone being replaced.
  PERFORM 1 FROM "shops"
    WHERE "id" IN (SELECT DISTINCT "shop_id" FROM inserted
                   WHERE "source" IN ('order', 'refund', 'cancellation'))
    ORDER BY "id" FOR SHARE;
  INSERT INTO "customer_month_points" AS p ("shop_id", "customer_id", "month", "points")
  SELECT n."shop_id", n."customer_id",
         date_trunc('month', n."occurred_at" AT TIME ZONE s."timezone")::date, sum(n."points")
  FROM inserted n JOIN "shops" s ON s."id" = n."shop_id"
  WHERE n."source" IN ('order', 'refund', 'cancellation')
  GROUP BY 1, 2, 3
  ORDER BY 1, 2, 3
  ON CONFLICT ("shop_id", "customer_id", "month") DO UPDATE SET "points" = p."points" + excluded."points";
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER "ledger_entries_month_points_insert" AFTER INSERT ON "ledger_entries"
  REFERENCING NEW TABLE AS inserted
  FOR EACH STATEMENT EXECUTE FUNCTION "laurel_month_points_insert"();--> statement-breakpoint
-- Deletes happen only when a shop's data is erased (shop redaction); the touched months are
-- recomputed from what is left, so a month whose entries are all gone has no row.
CREATE FUNCTION "laurel_month_points_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "customer_month_points" p SET "points" = p."points" - g."points"
  FROM (SELECT o."shop_id", o."customer_id",
               date_trunc('month', o."occurred_at" AT TIME ZONE s."timezone")::date AS "month",
               sum(o."points") AS "points"
        FROM deleted o JOIN "shops" s ON s."id" = o."shop_id"
        WHERE o."source" IN ('order', 'refund', 'cancellation')
        GROUP BY 1, 2, 3) g
  WHERE p."shop_id" = g."shop_id" AND p."customer_id" = g."customer_id" AND p."month" = g."month";
  DELETE FROM "customer_month_points" p
  USING (SELECT DISTINCT o."shop_id", o."customer_id", s."timezone",
                date_trunc('month', o."occurred_at" AT TIME ZONE s."timezone")::date AS "month"
         FROM deleted o JOIN "shops" s ON s."id" = o."shop_id"
         WHERE o."source" IN ('order', 'refund', 'cancellation')) t
  WHERE p."shop_id" = t."shop_id" AND p."customer_id" = t."customer_id" AND p."month" = t."month"
    AND NOT EXISTS (
      SELECT 1 FROM "ledger_entries" e
      WHERE e."shop_id" = t."shop_id" AND e."customer_id" = t."customer_id"
        AND e."source" IN ('order', 'refund', 'cancellation')
        AND e."occurred_at" >= (t."month"::timestamp AT TIME ZONE t."timezone")
        AND e."occurred_at" < ((t."month" + 1 * interval '1 month')::timestamp AT TIME ZONE t."timezone"));
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER "ledger_entries_month_points_delete" AFTER DELETE ON "ledger_entries"
  REFERENCING OLD TABLE AS deleted
  FOR EACH STATEMENT EXECUTE FUNCTION "laurel_month_points_delete"();--> statement-breakpoint
-- A shop whose timezone changes has its months rebuilt from the ledger, in the same transaction.
CREATE FUNCTION "laurel_month_points_rebuild"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM "customer_month_points" WHERE "shop_id" = NEW."id";
  INSERT INTO "customer_month_points" ("shop_id", "customer_id", "month", "points")
  SELECT "shop_id", "customer_id", date_trunc('month', "occurred_at" AT TIME ZONE NEW."timezone")::date,
         sum("points")
  FROM "ledger_entries"
  WHERE "shop_id" = NEW."id" AND "source" IN ('order', 'refund', 'cancellation')
  GROUP BY 1, 2, 3;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER "shops_month_points_timezone" AFTER UPDATE OF "timezone" ON "shops"
  FOR EACH ROW WHEN (OLD."timezone" IS DISTINCT FROM NEW."timezone")
  EXECUTE FUNCTION "laurel_month_points_rebuild"();--> statement-breakpoint
-- The ledger as it stands.
INSERT INTO "customer_month_points" ("shop_id", "customer_id", "month", "points")
SELECT e."shop_id", e."customer_id",
       date_trunc('month', e."occurred_at" AT TIME ZONE s."timezone")::date, sum(e."points")
FROM "ledger_entries" e JOIN "shops" s ON s."id" = e."shop_id"
WHERE e."source" IN ('order', 'refund', 'cancellation')
GROUP BY 1, 2, 3;
--> statement-breakpoint
CREATE TABLE "report_month_changes" (
	"shop_id" integer NOT NULL,
	"month" date NOT NULL,
	"version" bigint NOT NULL,
	CONSTRAINT "report_month_changes_shop_id_month_pk" PRIMARY KEY("shop_id","month")
);
--> statement-breakpoint
ALTER TABLE "report_month_changes" ADD CONSTRAINT "report_month_changes_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
-- Hand-written: the customer_month_points triggers of 0013, now also bumping report_month_changes
-- for the months a write changes after they ended (app/models/admin-report.server.ts, the cache).
-- "Ended" is judged by the writing transaction's start (now()): a transaction that started in a
-- month and writes into it does not bump; the cache is only filled once no transaction that
-- started before the range's end is still running, so such a write is always visible to it.
CREATE SEQUENCE "report_month_changes_version_seq";--> statement-breakpoint
CREATE OR REPLACE FUNCTION "laurel_month_points_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM "shops"
    WHERE "id" IN (SELECT DISTINCT "shop_id" FROM inserted
                   WHERE "source" IN ('order', 'refund', 'cancellation'))
    ORDER BY "id" FOR SHARE;
  INSERT INTO "customer_month_points" AS p ("shop_id", "customer_id", "month", "points")
  SELECT n."shop_id", n."customer_id",
         date_trunc('month', n."occurred_at" AT TIME ZONE s."timezone")::date, sum(n."points")
  FROM inserted n JOIN "shops" s ON s."id" = n."shop_id"
  WHERE n."source" IN ('order', 'refund', 'cancellation')
  GROUP BY 1, 2, 3
  ORDER BY 1, 2, 3
  ON CONFLICT ("shop_id", "customer_id", "month") DO UPDATE SET "points" = p."points" + excluded."points";
  INSERT INTO "report_month_changes" AS r ("shop_id", "month", "version")
  SELECT t."shop_id", t."month", nextval('report_month_changes_version_seq')
  FROM (SELECT DISTINCT n."shop_id", s."timezone",
               date_trunc('month', n."occurred_at" AT TIME ZONE s."timezone")::date AS "month"
        FROM inserted n JOIN "shops" s ON s."id" = n."shop_id"
        WHERE n."source" IN ('order', 'refund', 'cancellation')) t
  WHERE t."month" <> date_trunc('month', now() AT TIME ZONE t."timezone")::date
  ORDER BY 1, 2
  ON CONFLICT ("shop_id", "month") DO UPDATE SET "version" = excluded."version";
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION "laurel_month_points_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "customer_month_points" p SET "points" = p."points" - g."points"
  FROM (SELECT o."shop_id", o."customer_id",
               date_trunc('month', o."occurred_at" AT TIME ZONE s."timezone")::date AS "month",
               sum(o."points") AS "points"
        FROM deleted o JOIN "shops" s ON s."id" = o."shop_id"
        WHERE o."source" IN ('order', 'refund', 'cancellation')
        GROUP BY 1, 2, 3) g
  WHERE p."shop_id" = g."shop_id" AND p."customer_id" = g."customer_id" AND p."month" = g."month";
  DELETE FROM "customer_month_points" p
  USING (SELECT DISTINCT o."shop_id", o."customer_id", s."timezone",
                date_trunc('month', o."occurred_at" AT TIME ZONE s."timezone")::date AS "month"
         FROM deleted o JOIN "shops" s ON s."id" = o."shop_id"
         WHERE o."source" IN ('order', 'refund', 'cancellation')) t
  WHERE p."shop_id" = t."shop_id" AND p."customer_id" = t."customer_id" AND p."month" = t."month"
    AND NOT EXISTS (
      SELECT 1 FROM "ledger_entries" e
      WHERE e."shop_id" = t."shop_id" AND e."customer_id" = t."customer_id"
        AND e."source" IN ('order', 'refund', 'cancellation')
        AND e."occurred_at" >= (t."month"::timestamp AT TIME ZONE t."timezone")
        AND e."occurred_at" < ((t."month" + 1 * interval '1 month')::timestamp AT TIME ZONE t."timezone"));
  -- Every touched month, the current one included: deletes are rare.
  INSERT INTO "report_month_changes" AS r ("shop_id", "month", "version")
  SELECT t."shop_id", t."month", nextval('report_month_changes_version_seq')
  FROM (SELECT DISTINCT o."shop_id",
               date_trunc('month', o."occurred_at" AT TIME ZONE s."timezone")::date AS "month"
        FROM deleted o JOIN "shops" s ON s."id" = o."shop_id"
        WHERE o."source" IN ('order', 'refund', 'cancellation')) t
  ORDER BY 1, 2
  ON CONFLICT ("shop_id", "month") DO UPDATE SET "version" = excluded."version";
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE OR REPLACE FUNCTION "laurel_month_points_rebuild"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM "customer_month_points" WHERE "shop_id" = NEW."id";
  INSERT INTO "customer_month_points" ("shop_id", "customer_id", "month", "points")
  SELECT "shop_id", "customer_id", date_trunc('month', "occurred_at" AT TIME ZONE NEW."timezone")::date,
         sum("points")
  FROM "ledger_entries"
  WHERE "shop_id" = NEW."id" AND "source" IN ('order', 'refund', 'cancellation')
  GROUP BY 1, 2, 3;
  -- Month 0001-01-01 stands for every month of the shop: every cached range is out of date.
  INSERT INTO "report_month_changes" AS r ("shop_id", "month", "version")
  VALUES (NEW."id", DATE '0001-01-01', nextval('report_month_changes_version_seq'))
  ON CONFLICT ("shop_id", "month") DO UPDATE SET "version" = excluded."version";
  RETURN NULL;
END;
$$;
