-- Issue 11: the staff queue's summary on chat_requests (last_message_*, unread_count; columns from
-- 0011), kept by statement-level triggers on chat_messages, so every writer keeps it — the send's
-- plpgsql function (0010, still one statement: the trigger runs inside it), staff replies,
-- receipts (server/chat/receipts.ts), bulk seeds (bench/) — in the statement that changes the
-- messages. Statement-level with transition tables: one UPDATE of each touched request per
-- statement, however many messages it changed (a receipt can move many at once).
--
-- Deltas, not recounts: `unread_count + d` and "the newer of the stored and the inserted last
-- message" are evaluated on the newest row version after a lock wait, so two concurrent writers
-- of one request both count. A recount reads with the statement's snapshot and would lose the
-- other writer's message. Only changes no code path makes today (a message's text, seq or request
-- changed; the last message deleted) recompute the last message.

CREATE FUNCTION chat_summary_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE chat_requests r SET
    unread_count = r.unread_count + a.unread,
    last_message_seq = CASE WHEN a.seq > coalesce(r.last_message_seq, -1) THEN a.seq ELSE r.last_message_seq END,
    last_message_sender = CASE WHEN a.seq > coalesce(r.last_message_seq, -1) THEN a.sender ELSE r.last_message_sender END,
    last_message_text = CASE WHEN a.seq > coalesce(r.last_message_seq, -1) THEN a.message_text ELSE r.last_message_text END,
    last_message_sent_at = CASE WHEN a.seq > coalesce(r.last_message_seq, -1) THEN a.timestamp ELSE r.last_message_sent_at END
  FROM (
    -- Per request: the inserted message with the greatest seq, and how many inserted are unread.
    SELECT DISTINCT ON (m.request_id) m.request_id, m.seq, m.sender, m.message_text, m.timestamp,
      (count(*) FILTER (WHERE m.sender = 'player' AND m.status <> 'read') OVER (PARTITION BY m.request_id))::integer AS unread
    FROM added m
    ORDER BY m.request_id, m.seq DESC
  ) a
  WHERE r.id = a.request_id;
  RETURN NULL;
END $$;
--> statement-breakpoint

-- Updates and deletes. Unread: -1 for each old row version that was an unread player message, +1
-- for each new one; a receipt to "received", or on staff messages, nets 0 and writes nothing.
-- The last message is looked up again only where it may have changed (see the header).
CREATE FUNCTION chat_summary_after_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_stale uuid[];
BEGIN
  IF TG_OP = 'UPDATE' THEN
    UPDATE chat_requests r SET unread_count = r.unread_count + d.delta
    FROM (
      SELECT x.request_id, sum(x.delta)::integer AS delta FROM (
        SELECT o.request_id, -1 AS delta FROM old_rows o WHERE o.sender = 'player' AND o.status <> 'read'
        UNION ALL
        SELECT n.request_id, 1 FROM new_rows n WHERE n.sender = 'player' AND n.status <> 'read'
      ) x GROUP BY x.request_id HAVING sum(x.delta) <> 0
    ) d
    WHERE r.id = d.request_id;
    -- Receipts change only status: both sides are equal here and nothing is looked up.
    SELECT array_agg(DISTINCT c.request_id) INTO v_stale FROM (
      (SELECT o.id, o.request_id, o.seq, o.sender, o.message_text, o.timestamp FROM old_rows o
       EXCEPT SELECT n.id, n.request_id, n.seq, n.sender, n.message_text, n.timestamp FROM new_rows n)
      UNION ALL
      (SELECT n.id, n.request_id, n.seq, n.sender, n.message_text, n.timestamp FROM new_rows n
       EXCEPT SELECT o.id, o.request_id, o.seq, o.sender, o.message_text, o.timestamp FROM old_rows o)
    ) c;
  ELSE
    UPDATE chat_requests r SET unread_count = r.unread_count - d.gone
    FROM (
      SELECT o.request_id, count(*)::integer AS gone FROM old_rows o
      WHERE o.sender = 'player' AND o.status <> 'read' GROUP BY o.request_id
    ) d
    WHERE r.id = d.request_id;
    SELECT array_agg(DISTINCT o.request_id) INTO v_stale
      FROM old_rows o JOIN chat_requests r ON r.id = o.request_id AND r.last_message_seq = o.seq;
  END IF;
  IF v_stale IS NOT NULL THEN
    UPDATE chat_requests r SET (last_message_seq, last_message_sender, last_message_text, last_message_sent_at) = (
      SELECT m.seq, m.sender, m.message_text, m.timestamp FROM chat_messages m
      WHERE m.request_id = r.id ORDER BY m.seq DESC LIMIT 1
    )
    WHERE r.id = ANY (v_stale);
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint

CREATE TRIGGER chat_summary_insert AFTER INSERT ON chat_messages
  REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION chat_summary_after_insert();
--> statement-breakpoint
CREATE TRIGGER chat_summary_update AFTER UPDATE ON chat_messages
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION chat_summary_after_change();
--> statement-breakpoint
CREATE TRIGGER chat_summary_delete AFTER DELETE ON chat_messages
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION chat_summary_after_change();
--> statement-breakpoint

-- Backfill what is stored already (with the triggers in place, in this migration's transaction).
UPDATE chat_requests r SET
  (last_message_seq, last_message_sender, last_message_text, last_message_sent_at) = (
    SELECT m.seq, m.sender, m.message_text, m.timestamp FROM chat_messages m
    WHERE m.request_id = r.id ORDER BY m.seq DESC LIMIT 1
  ),
  unread_count = (
    SELECT count(*) FROM chat_messages m WHERE m.request_id = r.id AND m.sender = 'player' AND m.status <> 'read'
  );
