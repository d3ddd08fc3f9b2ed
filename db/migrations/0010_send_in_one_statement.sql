-- Issue 11: a player's send in one statement (one round trip, no BEGIN/COMMIT) instead of eight.
-- Functions, not one CTE: a statement that waited for the player lock still reads other tables as
-- of its start, so "is this id already stored?" must be a later statement than the lock; inside a
-- (volatile) plpgsql function each statement sees what committed before it began. The TypeScript
-- callers are server/chat/send.ts, messages.ts and send-limit.ts; their comments say why each step is there.

-- The send limit (GCRA, server/chat/send-limit.ts): `held` is when the player's allowance is full
-- again, `now` the database's clock. Returns the allowance after one more send, or, when that
-- send is over the limit, the whole seconds to wait (and next_allowance_at null).
CREATE FUNCTION chat_send_allowance(
  held timestamptz, now timestamptz, burst integer, per_second double precision,
  OUT next_allowance_at timestamptz, OUT wait_seconds integer
) LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
  step interval := make_interval(secs => 1 / per_second);
  next_at timestamptz := greatest(coalesce(held, now), now) + step;
  over interval := next_at - now - burst * step;
BEGIN
  IF over > interval '0' THEN
    wait_seconds := ceil(extract(epoch FROM over))::integer;
  ELSE
    next_allowance_at := next_at;
  END IF;
END $$;
--> statement-breakpoint

-- Appends a message to a player's thread: bump players.last_seq (and write the send allowance,
-- when given), insert the message with that seq, touch and version its request. The caller must
-- hold the player row lock: it serialises every writer of the thread, so seq has no gaps.
CREATE FUNCTION chat_append_message(
  p_id uuid, p_request_id uuid, p_player_id integer, p_sender chat_message_sender, p_sender_name text,
  p_sender_user_id text, p_text text, p_photo jsonb, p_send_allowance_at timestamptz,
  OUT message jsonb, OUT request jsonb
) LANGUAGE plpgsql AS $$
DECLARE
  v_seq bigint;
  v_message chat_messages;
BEGIN
  UPDATE players SET last_seq = last_seq + 1, send_allowance_at = coalesce(p_send_allowance_at, send_allowance_at)
    WHERE id = p_player_id RETURNING last_seq INTO v_seq;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'player % not found', p_player_id;
  END IF;
  INSERT INTO chat_messages (id, request_id, player_id, seq, sender, sender_name, sender_user_id, message_text, photo)
    VALUES (p_id, p_request_id, p_player_id, v_seq, p_sender, p_sender_name, p_sender_user_id, p_text, p_photo)
    RETURNING * INTO v_message;
  UPDATE chat_requests r SET last_message_at = v_message.timestamp, version = r.version + 1
    WHERE r.id = p_request_id RETURNING to_jsonb(r.*) INTO request;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'request % vanished', p_request_id;
  END IF;
  message := to_jsonb(v_message);
END $$;
--> statement-breakpoint

-- A player's send, found by their user id (so the caller needs no lookup of its own first).
-- Outcomes: 'sent'; 'duplicate' (the id is stored already: the stored row, nothing written, no
-- allowance taken); 'limited' (wait_seconds); 'conflict' (the id is someone else's); 'no_player'.
-- Nothing is written before every refusal has been decided.
CREATE FUNCTION chat_send_player_message(
  p_user_id text, p_id uuid, p_text text, p_photo jsonb, p_burst integer, p_per_second double precision,
  OUT outcome text, OUT wait_seconds integer, OUT opened_request boolean, OUT message jsonb, OUT request jsonb
) LANGUAGE plpgsql AS $$
DECLARE
  v_player_id integer;
  v_name text;
  v_allowance timestamptz;
  v_now timestamptz;
  v_next timestamptz;
  v_existing chat_messages;
  v_request_id uuid;
BEGIN
  opened_request := false;
  -- The one lock order for every change to a player's chat: the player row, then the request.
  -- The clock is read with the lock: after a lock wait it may read a moment early, which can only
  -- make a send wait that much more.
  SELECT p.id, p.display_name, p.send_allowance_at, clock_timestamp()
    INTO v_player_id, v_name, v_allowance, v_now
    FROM players p WHERE p.user_id = p_user_id FOR UPDATE;
  IF NOT FOUND THEN
    outcome := 'no_player';
    RETURN;
  END IF;

  -- A new statement after the lock: it sees a concurrent attempt of the same id that committed meanwhile.
  SELECT * INTO v_existing FROM chat_messages m WHERE m.id = p_id;
  IF FOUND THEN
    IF v_existing.player_id <> v_player_id OR v_existing.sender <> 'player' THEN
      outcome := 'conflict';
      RETURN;
    END IF;
    outcome := 'duplicate';
    message := to_jsonb(v_existing);
    SELECT to_jsonb(r.*) INTO request FROM chat_requests r WHERE r.id = v_existing.request_id;
    RETURN;
  END IF;

  -- A retry above is never limited. The new allowance is written with the seq bump below.
  IF p_per_second > 0 THEN
    SELECT a.next_allowance_at, a.wait_seconds INTO v_next, wait_seconds
      FROM chat_send_allowance(v_allowance, v_now, p_burst, p_per_second) a;
    IF wait_seconds IS NOT NULL THEN
      outcome := 'limited';
      RETURN;
    END IF;
  END IF;

  -- Under the player lock, and locked itself: a Claim or Resolve waits for this send or went first.
  SELECT r.id INTO v_request_id FROM chat_requests r
    WHERE r.player_id = v_player_id AND r.status <> 'resolved' FOR UPDATE;
  IF NOT FOUND THEN
    INSERT INTO chat_requests (player_id, player_name, initial_message)
      VALUES (v_player_id, v_name, p_text) RETURNING id INTO v_request_id;
    INSERT INTO chat_events (request_id, type, actor_user_id, actor_name)
      VALUES (v_request_id, 'created', p_user_id, v_name);
    opened_request := true;
  END IF;

  SELECT a.message, a.request INTO message, request
    FROM chat_append_message(p_id, v_request_id, v_player_id, 'player', v_name, p_user_id, p_text, p_photo, v_next) a;
  outcome := 'sent';
END $$;
