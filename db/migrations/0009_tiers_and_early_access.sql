CREATE TABLE "customer_tiers" (
	"customer_id" integer PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"tier_key" text,
	"tier_version" integer NOT NULL,
	"since" timestamp with time zone NOT NULL,
	"held_until" timestamp with time zone,
	"downgrade_at" timestamp with time zone,
	"metric_value" bigint DEFAULT 0 NOT NULL,
	"evaluated_at" timestamp with time zone NOT NULL,
	"changes" integer DEFAULT 0 NOT NULL,
	"synced_tag" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "early_access_products" (
	"shop_id" integer NOT NULL,
	"product_id" text NOT NULL,
	"mirror" jsonb,
	"revision" bigint DEFAULT 1 NOT NULL,
	"synced_revision" bigint DEFAULT 0 NOT NULL,
	"synced_at" timestamp with time zone,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "early_access_windows" (
	"id" serial PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"name" text NOT NULL,
	"target_type" text NOT NULL,
	"target_id" text NOT NULL,
	"target_title" text,
	"definition" jsonb NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"archived_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "early_access_windows_target_type" CHECK ("early_access_windows"."target_type" IN ('product', 'collection')),
	CONSTRAINT "early_access_windows_ends_after_start" CHECK ("early_access_windows"."ends_at" > "early_access_windows"."starts_at")
);
--> statement-breakpoint
CREATE TABLE "shop_early_access" (
	"shop_id" integer PRIMARY KEY NOT NULL,
	"validation_id" text,
	"synced_times" jsonb,
	"synced_at" timestamp with time zone,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "tier_daily_runs" (
	"shop_id" integer NOT NULL,
	"local_day" date NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"evaluated" integer DEFAULT 0 NOT NULL,
	"changed" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tier_perks" (
	"shop_id" integer NOT NULL,
	"tier_key" text NOT NULL,
	"segment_id" text,
	"free_shipping_discount_id" text,
	"synced_version" integer,
	"last_error" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tier_programs" (
	"id" serial PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"version" integer NOT NULL,
	"effective_from" timestamp with time zone NOT NULL,
	"definition" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "customer_tiers" ADD CONSTRAINT "customer_tiers_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_tiers" ADD CONSTRAINT "customer_tiers_shop_customer_fk" FOREIGN KEY ("shop_id","customer_id") REFERENCES "public"."customers"("shop_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "early_access_products" ADD CONSTRAINT "early_access_products_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "early_access_windows" ADD CONSTRAINT "early_access_windows_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shop_early_access" ADD CONSTRAINT "shop_early_access_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tier_daily_runs" ADD CONSTRAINT "tier_daily_runs_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tier_perks" ADD CONSTRAINT "tier_perks_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tier_programs" ADD CONSTRAINT "tier_programs_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "customer_tiers_shop_tier_idx" ON "customer_tiers" USING btree ("shop_id","tier_key");--> statement-breakpoint
CREATE INDEX "customer_tiers_downgrade_idx" ON "customer_tiers" USING btree ("shop_id","downgrade_at") WHERE "customer_tiers"."downgrade_at" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "early_access_products_shop_product_uq" ON "early_access_products" USING btree ("shop_id","product_id");--> statement-breakpoint
CREATE INDEX "early_access_products_pending_idx" ON "early_access_products" USING btree ("shop_id") WHERE "early_access_products"."revision" > "early_access_products"."synced_revision";--> statement-breakpoint
CREATE INDEX "early_access_windows_shop_target_idx" ON "early_access_windows" USING btree ("shop_id","target_type","target_id");--> statement-breakpoint
CREATE UNIQUE INDEX "tier_daily_runs_shop_day_uq" ON "tier_daily_runs" USING btree ("shop_id","local_day");--> statement-breakpoint
CREATE UNIQUE INDEX "tier_perks_shop_tier_uq" ON "tier_perks" USING btree ("shop_id","tier_key");--> statement-breakpoint
CREATE UNIQUE INDEX "tier_programs_shop_version_uq" ON "tier_programs" USING btree ("shop_id","version");--> statement-breakpoint
CREATE INDEX "tier_programs_shop_effective_idx" ON "tier_programs" USING btree ("shop_id","effective_from");--> statement-breakpoint
-- Tier program versions are never changed once written: every tier change and multiplier names one.
CREATE TRIGGER "tier_programs_insert_only" BEFORE UPDATE ON "tier_programs"
  FOR EACH ROW EXECUTE FUNCTION "laurel_forbid_update"();
