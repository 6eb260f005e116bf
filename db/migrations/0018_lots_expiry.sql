CREATE TABLE "customer_lot_states" (
	"customer_id" integer PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"policy_version" integer NOT NULL,
	"next_expires_at" timestamp with time zone,
	"seen_updated_at" timestamp with time zone NOT NULL,
	"seen_balance" bigint NOT NULL,
	"schedule" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"computed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "expiry_policies" (
	"id" serial PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"version" integer NOT NULL,
	"effective_from" timestamp with time zone NOT NULL,
	"mode" text NOT NULL,
	"months" integer,
	"reminder_days" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"reminder_email" boolean DEFAULT false NOT NULL,
	"reminder_shopify" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "expiry_policies_mode_known" CHECK ("expiry_policies"."mode" IN ('never', 'lot', 'inactivity')),
	CONSTRAINT "expiry_policies_months_range" CHECK (("expiry_policies"."mode" = 'never' AND "expiry_policies"."months" IS NULL) OR ("expiry_policies"."mode" <> 'never' AND "expiry_policies"."months" BETWEEN 1 AND 120))
);
--> statement-breakpoint
CREATE TABLE "expiry_reminder_lots" (
	"shop_id" integer NOT NULL,
	"entry_id" bigint NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"threshold_days" integer NOT NULL,
	"reminder_id" bigint NOT NULL,
	CONSTRAINT "expiry_reminder_lots_shop_id_entry_id_expires_at_threshold_days_pk" PRIMARY KEY("shop_id","entry_id","expires_at","threshold_days")
);
--> statement-breakpoint
CREATE TABLE "expiry_reminders" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"customer_id" integer NOT NULL,
	"threshold_days" integer NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"last_day" date NOT NULL,
	"points" integer NOT NULL,
	"balance" bigint NOT NULL,
	"lots" jsonb NOT NULL,
	"first_entry_id" bigint NOT NULL,
	"policy_version" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "lifecycle_daily_runs" (
	"shop_id" integer NOT NULL,
	"local_day" date NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"results" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reminder_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"reminder_id" bigint NOT NULL,
	"channel" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"reason" text,
	"detail" text,
	"sent_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "reminder_deliveries_channel_known" CHECK ("reminder_deliveries"."channel" IN ('email', 'shopify')),
	CONSTRAINT "reminder_deliveries_status_known" CHECK ("reminder_deliveries"."status" IN ('pending', 'sending', 'sent', 'skipped', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "customer_lot_states" ADD CONSTRAINT "customer_lot_states_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_lot_states" ADD CONSTRAINT "customer_lot_states_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "expiry_policies" ADD CONSTRAINT "expiry_policies_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "expiry_reminder_lots" ADD CONSTRAINT "expiry_reminder_lots_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "expiry_reminder_lots" ADD CONSTRAINT "expiry_reminder_lots_reminder_id_expiry_reminders_id_fk" FOREIGN KEY ("reminder_id") REFERENCES "public"."expiry_reminders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "expiry_reminders" ADD CONSTRAINT "expiry_reminders_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "expiry_reminders" ADD CONSTRAINT "expiry_reminders_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "lifecycle_daily_runs" ADD CONSTRAINT "lifecycle_daily_runs_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reminder_deliveries" ADD CONSTRAINT "reminder_deliveries_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reminder_deliveries" ADD CONSTRAINT "reminder_deliveries_reminder_id_expiry_reminders_id_fk" FOREIGN KEY ("reminder_id") REFERENCES "public"."expiry_reminders"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "customer_lot_states_shop_next_idx" ON "customer_lot_states" USING btree ("shop_id","next_expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "expiry_policies_shop_version_uq" ON "expiry_policies" USING btree ("shop_id","version");--> statement-breakpoint
CREATE INDEX "expiry_policies_shop_effective_idx" ON "expiry_policies" USING btree ("shop_id","effective_from");--> statement-breakpoint
CREATE UNIQUE INDEX "expiry_reminders_member_instant_uq" ON "expiry_reminders" USING btree ("shop_id","customer_id","expires_at","threshold_days","first_entry_id");--> statement-breakpoint
CREATE INDEX "expiry_reminders_shop_created_idx" ON "expiry_reminders" USING btree ("shop_id","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "lifecycle_daily_runs_shop_day_uq" ON "lifecycle_daily_runs" USING btree ("shop_id","local_day");--> statement-breakpoint
CREATE UNIQUE INDEX "reminder_deliveries_reminder_channel_uq" ON "reminder_deliveries" USING btree ("reminder_id","channel");--> statement-breakpoint
CREATE INDEX "reminder_deliveries_shop_status_idx" ON "reminder_deliveries" USING btree ("shop_id","status","next_attempt_at");