ALTER TABLE "customers" ADD CONSTRAINT "customers_shop_id_uq" UNIQUE("shop_id","id");--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_shop_customer_fk" FOREIGN KEY ("shop_id","customer_id") REFERENCES "public"."customers"("shop_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_source_known" CHECK ("ledger_entries"."source" IN ('order', 'refund', 'cancellation', 'redemption', 'expiry', 'adjustment', 'bonus', 'referral', 'tier'));--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_points_range" CHECK ("ledger_entries"."points" BETWEEN -1000000000 AND 1000000000);--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_key_length" CHECK (char_length("ledger_entries"."idempotency_key") BETWEEN 1 AND 200);--> statement-breakpoint
-- Hand-written (drizzle-kit does not model triggers): ledger entries and program versions are
-- insert-only. Corrections are new entries / new versions; deletes stay possible for shop redaction.
CREATE FUNCTION "laurel_forbid_update"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are insert-only; post a new row instead of updating id %', TG_TABLE_NAME, OLD.id
    USING ERRCODE = 'restrict_violation';
END;
$$;--> statement-breakpoint
CREATE TRIGGER "ledger_entries_insert_only" BEFORE UPDATE ON "ledger_entries"
  FOR EACH ROW EXECUTE FUNCTION "laurel_forbid_update"();--> statement-breakpoint
CREATE TRIGGER "programs_insert_only" BEFORE UPDATE ON "programs"
  FOR EACH ROW EXECUTE FUNCTION "laurel_forbid_update"();
