CREATE TABLE "redemptions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"customer_id" integer NOT NULL,
	"reward_id" integer NOT NULL,
	"reward_version" integer NOT NULL,
	"request_id" text NOT NULL,
	"status" text NOT NULL,
	"points" integer NOT NULL,
	"value" jsonb NOT NULL,
	"code" text,
	"shopify_discount_id" text,
	"store_credit_transaction_id" text,
	"debit_entry_id" bigint NOT NULL,
	"return_entry_id" bigint,
	"expires_at" timestamp with time zone,
	"issued_at" timestamp with time zone,
	"used_at" timestamp with time zone,
	"shopify_order_id" text,
	"closed_at" timestamp with time zone,
	"failure_reason" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "redemptions_status_known" CHECK ("redemptions"."status" IN ('pending', 'issued', 'credited', 'failed', 'used', 'expired', 'refunded')),
	CONSTRAINT "redemptions_points_positive" CHECK ("redemptions"."points" > 0),
	CONSTRAINT "redemptions_request_id_length" CHECK (char_length("redemptions"."request_id") BETWEEN 1 AND 64)
);
--> statement-breakpoint
CREATE TABLE "reward_versions" (
	"id" serial PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"reward_id" integer NOT NULL,
	"version" integer NOT NULL,
	"definition" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rewards" (
	"id" serial PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"current_version" integer DEFAULT 1 NOT NULL,
	"position" integer DEFAULT 0 NOT NULL,
	"archived_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rewards_shop_id_uq" UNIQUE("shop_id","id")
);
--> statement-breakpoint
ALTER TABLE "redemptions" ADD CONSTRAINT "redemptions_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "redemptions" ADD CONSTRAINT "redemptions_shop_customer_fk" FOREIGN KEY ("shop_id","customer_id") REFERENCES "public"."customers"("shop_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "redemptions" ADD CONSTRAINT "redemptions_shop_reward_fk" FOREIGN KEY ("shop_id","reward_id") REFERENCES "public"."rewards"("shop_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reward_versions" ADD CONSTRAINT "reward_versions_shop_reward_fk" FOREIGN KEY ("shop_id","reward_id") REFERENCES "public"."rewards"("shop_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "rewards" ADD CONSTRAINT "rewards_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "redemptions_shop_customer_request_uq" ON "redemptions" USING btree ("shop_id","customer_id","request_id");--> statement-breakpoint
CREATE UNIQUE INDEX "redemptions_shop_code_uq" ON "redemptions" USING btree ("shop_id",upper("code")) WHERE "redemptions"."code" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "redemptions_shop_customer_idx" ON "redemptions" USING btree ("shop_id","customer_id","created_at");--> statement-breakpoint
CREATE INDEX "redemptions_shop_status_idx" ON "redemptions" USING btree ("shop_id","status","created_at");--> statement-breakpoint
CREATE INDEX "redemptions_open_expiry_idx" ON "redemptions" USING btree ("expires_at") WHERE "redemptions"."status" = 'issued' AND "redemptions"."expires_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "redemptions_pending_idx" ON "redemptions" USING btree ("updated_at") WHERE "redemptions"."status" = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "reward_versions_shop_reward_version_uq" ON "reward_versions" USING btree ("shop_id","reward_id","version");--> statement-breakpoint
CREATE INDEX "rewards_shop_idx" ON "rewards" USING btree ("shop_id","position","id");--> statement-breakpoint
-- Hand-written: a reward version explains every redemption made with it, so it never changes.
CREATE TRIGGER "reward_versions_insert_only" BEFORE UPDATE ON "reward_versions"
  FOR EACH ROW EXECUTE FUNCTION "laurel_forbid_update"();
