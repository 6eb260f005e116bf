CREATE INDEX "customer_balances_shop_balance_idx" ON "customer_balances" USING btree ("shop_id","balance","customer_id");--> statement-breakpoint
CREATE INDEX "customer_balances_shop_lifetime_idx" ON "customer_balances" USING btree ("shop_id","lifetime_earned","customer_id");--> statement-breakpoint
CREATE INDEX "customers_shop_name_idx" ON "customers" USING btree ("shop_id",lower(btrim(coalesce("first_name", '') || ' ' || coalesce("last_name", ''))),"id");--> statement-breakpoint
CREATE INDEX "customers_shop_email_sort_idx" ON "customers" USING btree ("shop_id",coalesce("email", ''),"id");--> statement-breakpoint
CREATE INDEX "customers_shop_enrolled_idx" ON "customers" USING btree ("shop_id","enrolled_at","id");--> statement-breakpoint
CREATE INDEX "customers_shop_email_prefix_idx" ON "customers" USING btree ("shop_id","email" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "customers_shop_domain_prefix_idx" ON "customers" USING btree ("shop_id",split_part("email", '@', 2) text_pattern_ops);--> statement-breakpoint
CREATE INDEX "customers_shop_name_prefix_idx" ON "customers" USING btree ("shop_id",lower(btrim(coalesce("first_name", '') || ' ' || coalesce("last_name", ''))) text_pattern_ops);--> statement-breakpoint
CREATE INDEX "customers_shop_last_name_prefix_idx" ON "customers" USING btree ("shop_id",lower("last_name") text_pattern_ops);