ALTER TABLE "players" ADD COLUMN "send_allowance_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "user" ADD COLUMN "deactivated_at" timestamp with time zone;