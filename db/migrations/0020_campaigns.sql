CREATE TABLE "campaigns" (
	"id" serial PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"factor_bps" integer,
	"bonus_points" integer,
	"minimum_minor" bigint,
	"scope" text NOT NULL,
	"target_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"product_ids" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"stacking" text DEFAULT 'multiply' NOT NULL,
	"starts_at" timestamp with time zone NOT NULL,
	"ends_at" timestamp with time zone NOT NULL,
	"starts_at_local" text NOT NULL,
	"ends_at_local" text NOT NULL,
	"ended_at" timestamp with time zone,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "campaigns_kind" CHECK ("campaigns"."kind" IN ('multiplier', 'bonus')),
	CONSTRAINT "campaigns_scope" CHECK ("campaigns"."scope" IN ('all', 'products', 'collections')),
	CONSTRAINT "campaigns_stacking" CHECK ("campaigns"."stacking" IN ('multiply', 'best')),
	CONSTRAINT "campaigns_ends_after_start" CHECK ("campaigns"."ends_at" > "campaigns"."starts_at"),
	CONSTRAINT "campaigns_amounts" CHECK (("campaigns"."kind" = 'multiplier' AND "campaigns"."factor_bps" > 10000 AND "campaigns"."factor_bps" <= 100000 AND "campaigns"."bonus_points" IS NULL)
        OR ("campaigns"."kind" = 'bonus' AND "campaigns"."bonus_points" BETWEEN 1 AND 1000000 AND "campaigns"."factor_bps" IS NULL))
);
--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "lines" jsonb;--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "campaigns_shop_starts_idx" ON "campaigns" USING btree ("shop_id","starts_at");