CREATE TABLE "bonus_programs" (
	"id" serial PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"version" integer NOT NULL,
	"effective_from" timestamp with time zone NOT NULL,
	"definition" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "customer_birthdays" (
	"customer_id" integer PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"month" integer NOT NULL,
	"day" integer NOT NULL,
	"source" text NOT NULL,
	"set_at" timestamp with time zone NOT NULL,
	CONSTRAINT "customer_birthdays_month_range" CHECK ("customer_birthdays"."month" BETWEEN 1 AND 12),
	CONSTRAINT "customer_birthdays_day_range" CHECK ("customer_birthdays"."day" BETWEEN 1 AND 31),
	CONSTRAINT "customer_birthdays_source" CHECK ("customer_birthdays"."source" IN ('storefront', 'metafield'))
);
--> statement-breakpoint
CREATE TABLE "social_follow_claims" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"customer_id" integer NOT NULL,
	"network" text NOT NULL,
	"claimed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "bonus_programs" ADD CONSTRAINT "bonus_programs_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_birthdays" ADD CONSTRAINT "customer_birthdays_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_birthdays" ADD CONSTRAINT "customer_birthdays_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "social_follow_claims" ADD CONSTRAINT "social_follow_claims_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "social_follow_claims" ADD CONSTRAINT "social_follow_claims_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "bonus_programs_shop_version_uq" ON "bonus_programs" USING btree ("shop_id","version");--> statement-breakpoint
CREATE INDEX "bonus_programs_shop_effective_idx" ON "bonus_programs" USING btree ("shop_id","effective_from");--> statement-breakpoint
CREATE INDEX "customer_birthdays_shop_month_idx" ON "customer_birthdays" USING btree ("shop_id","month");--> statement-breakpoint
CREATE INDEX "social_follow_claims_member_idx" ON "social_follow_claims" USING btree ("shop_id","customer_id","claimed_at");