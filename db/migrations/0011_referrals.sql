CREATE TABLE "customer_fingerprints" (
	"shop_id" integer NOT NULL,
	"customer_id" integer NOT NULL,
	"kind" text NOT NULL,
	"hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "referral_clicks" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"code_id" integer,
	"ip_hash" text,
	"outcome" text NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "referral_codes" (
	"id" serial PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"customer_id" integer NOT NULL,
	"code" text NOT NULL,
	"friend_code" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"activated_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "referral_discounts" (
	"shop_id" integer PRIMARY KEY NOT NULL,
	"discount_id" text,
	"segment_id" text,
	"synced_version" integer,
	"last_error" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "referral_programs" (
	"id" serial PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"version" integer NOT NULL,
	"effective_from" timestamp with time zone NOT NULL,
	"definition" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "referrals" (
	"id" serial PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"referrer_customer_id" integer NOT NULL,
	"friend_customer_id" integer,
	"code_id" integer NOT NULL,
	"shopify_order_id" text NOT NULL,
	"order_name" text NOT NULL,
	"discount_code" text NOT NULL,
	"program_version" integer NOT NULL,
	"status" text NOT NULL,
	"reasons" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"order_amount_minor" bigint NOT NULL,
	"paid_at" timestamp with time zone NOT NULL,
	"ip_hash" text,
	"reward_points" integer DEFAULT 0 NOT NULL,
	"reviewed_by" text,
	"reviewed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "shop_fingerprint_keys" (
	"shop_id" integer PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "customer_fingerprints" ADD CONSTRAINT "customer_fingerprints_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_fingerprints" ADD CONSTRAINT "customer_fingerprints_shop_customer_fk" FOREIGN KEY ("shop_id","customer_id") REFERENCES "public"."customers"("shop_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referral_clicks" ADD CONSTRAINT "referral_clicks_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referral_clicks" ADD CONSTRAINT "referral_clicks_code_id_referral_codes_id_fk" FOREIGN KEY ("code_id") REFERENCES "public"."referral_codes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referral_codes" ADD CONSTRAINT "referral_codes_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referral_codes" ADD CONSTRAINT "referral_codes_shop_customer_fk" FOREIGN KEY ("shop_id","customer_id") REFERENCES "public"."customers"("shop_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referral_discounts" ADD CONSTRAINT "referral_discounts_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referral_programs" ADD CONSTRAINT "referral_programs_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "referrals" ADD CONSTRAINT "referrals_code_id_referral_codes_id_fk" FOREIGN KEY ("code_id") REFERENCES "public"."referral_codes"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shop_fingerprint_keys" ADD CONSTRAINT "shop_fingerprint_keys_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "customer_fingerprints_uq" ON "customer_fingerprints" USING btree ("shop_id","customer_id","kind","hash");--> statement-breakpoint
CREATE INDEX "customer_fingerprints_hash_idx" ON "customer_fingerprints" USING btree ("shop_id","kind","hash");--> statement-breakpoint
CREATE INDEX "referral_clicks_shop_code_idx" ON "referral_clicks" USING btree ("shop_id","code_id","at");--> statement-breakpoint
CREATE INDEX "referral_clicks_shop_ip_idx" ON "referral_clicks" USING btree ("shop_id","ip_hash","at");--> statement-breakpoint
CREATE UNIQUE INDEX "referral_codes_shop_customer_uq" ON "referral_codes" USING btree ("shop_id","customer_id");--> statement-breakpoint
CREATE UNIQUE INDEX "referral_codes_shop_code_uq" ON "referral_codes" USING btree ("shop_id","code");--> statement-breakpoint
CREATE UNIQUE INDEX "referral_codes_shop_friend_code_uq" ON "referral_codes" USING btree ("shop_id","friend_code");--> statement-breakpoint
CREATE INDEX "referral_codes_pending_idx" ON "referral_codes" USING btree ("shop_id") WHERE "referral_codes"."status" = 'pending';--> statement-breakpoint
CREATE UNIQUE INDEX "referral_programs_shop_version_uq" ON "referral_programs" USING btree ("shop_id","version");--> statement-breakpoint
CREATE INDEX "referral_programs_shop_effective_idx" ON "referral_programs" USING btree ("shop_id","effective_from");--> statement-breakpoint
CREATE UNIQUE INDEX "referrals_shop_order_uq" ON "referrals" USING btree ("shop_id","shopify_order_id");--> statement-breakpoint
CREATE INDEX "referrals_shop_referrer_idx" ON "referrals" USING btree ("shop_id","referrer_customer_id","paid_at");--> statement-breakpoint
CREATE INDEX "referrals_shop_friend_idx" ON "referrals" USING btree ("shop_id","friend_customer_id");--> statement-breakpoint
CREATE INDEX "referrals_shop_status_idx" ON "referrals" USING btree ("shop_id","status","paid_at");--> statement-breakpoint
CREATE INDEX "referrals_shop_ip_idx" ON "referrals" USING btree ("shop_id","ip_hash","paid_at");--> statement-breakpoint
-- Referral program versions are never changed once written: every referral names the one it ran under.
CREATE TRIGGER "referral_programs_insert_only" BEFORE UPDATE ON "referral_programs"
  FOR EACH ROW EXECUTE FUNCTION "laurel_forbid_update"();
