ALTER TABLE "chat_requests" ADD COLUMN "last_message_seq" bigint;--> statement-breakpoint
ALTER TABLE "chat_requests" ADD COLUMN "last_message_sender" "chat_message_sender";--> statement-breakpoint
ALTER TABLE "chat_requests" ADD COLUMN "last_message_text" text;--> statement-breakpoint
ALTER TABLE "chat_requests" ADD COLUMN "last_message_sent_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "chat_requests" ADD COLUMN "unread_count" integer DEFAULT 0 NOT NULL;