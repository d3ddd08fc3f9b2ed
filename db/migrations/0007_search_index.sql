-- Full-text search over past chats (server/chat/search.ts). The expression must match the query's
-- exactly for the planner to use the index. 'simple': players write in several languages and slang,
-- so no stemming; a trigram index would be another extension that PGlite does not ship by default.
CREATE INDEX IF NOT EXISTS "chat_messages_text_fts_idx" ON "chat_messages" USING gin (to_tsvector('simple', "message_text"));--> statement-breakpoint
CREATE INDEX IF NOT EXISTS "chat_requests_player_name_fts_idx" ON "chat_requests" USING gin (to_tsvector('simple', "player_name"));
--> statement-breakpoint
-- Newest-first pages: for common words the planner walks this backwards and stops at a page.
CREATE INDEX IF NOT EXISTS "chat_messages_timestamp_idx" ON "chat_messages" USING btree ("timestamp" DESC, "id" DESC);
