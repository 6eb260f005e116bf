CREATE TABLE "customer_data_requests" (
	"id" serial PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"data_request_id" text NOT NULL,
	"customer_id" integer,
	"export" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "order_refunds" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"shop_id" integer NOT NULL,
	"shopify_order_id" text NOT NULL,
	"shopify_refund_id" text NOT NULL,
	"merchandise_minor" bigint NOT NULL,
	"shipping_minor" bigint DEFAULT 0 NOT NULL,
	"discrepancy_minor" bigint DEFAULT 0 NOT NULL,
	"currency" text,
	"processed_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "order_refunds_amounts_nonnegative" CHECK ("order_refunds"."merchandise_minor" >= 0 AND "order_refunds"."shipping_minor" >= 0)
);
--> statement-breakpoint
ALTER TABLE "webhook_inbox" ALTER COLUMN "payload" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "processed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "orders" ADD COLUMN "redacted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "customer_data_requests" ADD CONSTRAINT "customer_data_requests_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "customer_data_requests" ADD CONSTRAINT "customer_data_requests_customer_id_customers_id_fk" FOREIGN KEY ("customer_id") REFERENCES "public"."customers"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "order_refunds" ADD CONSTRAINT "order_refunds_shop_id_shops_id_fk" FOREIGN KEY ("shop_id") REFERENCES "public"."shops"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "customer_data_requests_shop_request_uq" ON "customer_data_requests" USING btree ("shop_id","data_request_id");--> statement-breakpoint
CREATE UNIQUE INDEX "order_refunds_shop_refund_uq" ON "order_refunds" USING btree ("shop_id","shopify_refund_id");--> statement-breakpoint
CREATE INDEX "order_refunds_shop_order_idx" ON "order_refunds" USING btree ("shop_id","shopify_order_id","id");