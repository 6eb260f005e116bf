CREATE TABLE "customer_first_purchases" (
	"customer_id" integer PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"first_purchase_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "customer_first_purchases" ADD CONSTRAINT "customer_first_purchases_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_first_purchases" ADD CONSTRAINT "customer_first_purchases_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "customer_first_purchases_shop_first_idx" ON "customer_first_purchases" USING btree ("shop_id","first_purchase_at","customer_id");--> statement-breakpoint
-- Hand-written (drizzle-kit does not model triggers): customer_first_purchases follows `orders`
-- in the statement that changes it. A purchase inserted can only move a first purchase earlier,
-- so inserts take the least (no read of orders; concurrent inserts commute). An update or delete
-- can move it later (the first purchase cancelled), so the member's row is locked first, in id
-- order, and the minimum read again by the next statement: its snapshot is taken after any writer
-- that held the lock committed, so the last writer always reads everything before it.
CREATE FUNCTION "laurel_first_purchases_refresh"("ids" integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- Only customers still there: erasing one sets its orders' customer_id to null, which lands here.
  INSERT INTO "customer_first_purchases" AS f ("customer_id", "shop_id")
  SELECT c."id", c."shop_id" FROM "customers" c WHERE c."id" = ANY("ids") ORDER BY c."id"
  ON CONFLICT ("customer_id") DO UPDATE SET "shop_id" = f."shop_id";
  UPDATE "customer_first_purchases" f
  SET "first_purchase_at" = (
    SELECT min(o."processed_at") FROM "orders" o
    WHERE o."shop_id" = f."shop_id" AND o."customer_id" = f."customer_id"
      AND o."paid_at" IS NOT NULL AND o."cancelled_at" IS NULL AND NOT o."test")
  WHERE f."customer_id" = ANY("ids");
END;
$$;--> statement-breakpoint
CREATE FUNCTION "laurel_first_purchases_insert"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "customer_first_purchases" AS f ("customer_id", "shop_id", "first_purchase_at")
  SELECT "customer_id", min("shop_id"), min("processed_at") FROM "new_orders"
  WHERE "customer_id" IS NOT NULL AND "processed_at" IS NOT NULL
    AND "paid_at" IS NOT NULL AND "cancelled_at" IS NULL AND NOT "test"
  GROUP BY 1 ORDER BY 1
  ON CONFLICT ("customer_id") DO UPDATE
  SET "first_purchase_at" = least(f."first_purchase_at", excluded."first_purchase_at")
  WHERE f."first_purchase_at" IS NULL OR f."first_purchase_at" > excluded."first_purchase_at";
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE FUNCTION "laurel_first_purchases_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Most updates (paid, program version, redaction of the email) leave a purchase's customer
  -- and time as they were, or are not purchases before or after: nothing to read again.
  PERFORM "laurel_first_purchases_refresh"(array_agg(DISTINCT x."id"))
  FROM (
    SELECT unnest(ARRAY[o."customer_id", n."customer_id"]) AS "id"
    FROM "old_orders" o JOIN "new_orders" n ON n."id" = o."id"
    WHERE (o."customer_id", o."processed_at",
           o."paid_at" IS NOT NULL AND o."cancelled_at" IS NULL AND NOT o."test")
          IS DISTINCT FROM
          (n."customer_id", n."processed_at",
           n."paid_at" IS NOT NULL AND n."cancelled_at" IS NULL AND NOT n."test")
  ) x
  WHERE x."id" IS NOT NULL
  HAVING count(*) > 0;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE FUNCTION "laurel_first_purchases_delete"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM "laurel_first_purchases_refresh"(array_agg(DISTINCT "customer_id"))
  FROM "old_orders" WHERE "customer_id" IS NOT NULL
  HAVING count(*) > 0;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER "orders_first_purchases_insert" AFTER INSERT ON "orders"
  REFERENCING NEW TABLE AS "new_orders"
  FOR EACH STATEMENT EXECUTE FUNCTION "laurel_first_purchases_insert"();--> statement-breakpoint
CREATE TRIGGER "orders_first_purchases_update" AFTER UPDATE ON "orders"
  REFERENCING OLD TABLE AS "old_orders" NEW TABLE AS "new_orders"
  FOR EACH STATEMENT EXECUTE FUNCTION "laurel_first_purchases_update"();--> statement-breakpoint
CREATE TRIGGER "orders_first_purchases_delete" AFTER DELETE ON "orders"
  REFERENCING OLD TABLE AS "old_orders"
  FOR EACH STATEMENT EXECUTE FUNCTION "laurel_first_purchases_delete"();--> statement-breakpoint
-- The purchases already recorded.
INSERT INTO "customer_first_purchases" ("customer_id", "shop_id", "first_purchase_at")
SELECT "customer_id", min("shop_id"), min("processed_at") FROM "orders"
WHERE "customer_id" IS NOT NULL AND "paid_at" IS NOT NULL AND "cancelled_at" IS NULL AND NOT "test"
GROUP BY 1;
