ALTER TYPE "public"."chat_event_type" ADD VALUE 'auto_assigned' BEFORE 'transferred';--> statement-breakpoint
ALTER TYPE "public"."chat_event_type" ADD VALUE 'taken_over' BEFORE 'resolved';--> statement-breakpoint
ALTER TYPE "public"."chat_event_type" ADD VALUE 'note_added';--> statement-breakpoint
CREATE TABLE "canned_replies" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"title" text NOT NULL,
	"body" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "canned_replies_title_unique" UNIQUE("title")
);
--> statement-breakpoint
CREATE TABLE "chat_notes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"request_id" uuid NOT NULL,
	"author_user_id" text NOT NULL,
	"author_name" text NOT NULL,
	"text" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "chat_events" ADD COLUMN "target_user_id" text;--> statement-breakpoint
ALTER TABLE "chat_events" ADD COLUMN "target_name" text;--> statement-breakpoint
ALTER TABLE "user" ADD COLUMN "must_change_password" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "chat_notes" ADD CONSTRAINT "chat_notes_request_id_chat_requests_id_fk" FOREIGN KEY ("request_id") REFERENCES "public"."chat_requests"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "chat_notes_request_idx" ON "chat_notes" USING btree ("request_id","created_at");--> statement-breakpoint
CREATE INDEX "chat_events_type_at_idx" ON "chat_events" USING btree ("type","at");