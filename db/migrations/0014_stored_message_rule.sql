-- One rule for a message id that is already stored, on every path that stores a message: the
-- player's send (0010's chat_send_player_message checked it inline), the staff reply (0013) and,
-- from TypeScript, server/chat/messages.ts `findExisting` (messagePlayer's new chat, the photo
-- paths' checks before decoding). tests/chat/stored-id.test.ts asks every path the same retries.
--
-- 'duplicate' and the stored row when it is this sender's in this player's thread, with the chat
-- it was stored in (a retry may name another chat of the same player: the staff reply answered
-- with that one); 'conflict' when it is anyone else's (nothing said about what it holds); null
-- when the id is new. The OUT columns change, so the function is dropped and made again; the two
-- callers are replaced below (plpgsql resolves it when called, so nothing breaks in between).
DROP FUNCTION chat_stored_message(uuid, integer, chat_message_sender);
--> statement-breakpoint

CREATE FUNCTION chat_stored_message(
  p_id uuid, p_player_id integer, p_sender chat_message_sender,
  OUT outcome text, OUT message jsonb, OUT request jsonb
) LANGUAGE plpgsql AS $$
DECLARE
  v_stored chat_messages;
BEGIN
  SELECT * INTO v_stored FROM chat_messages m WHERE m.id = p_id;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF v_stored.player_id <> p_player_id OR v_stored.sender <> p_sender THEN
    outcome := 'conflict';
    RETURN;
  END IF;
  outcome := 'duplicate';
  message := to_jsonb(v_stored);
  SELECT to_jsonb(r.*) INTO request FROM chat_requests r WHERE r.id = v_stored.request_id;
END $$;
--> statement-breakpoint

-- 0010's send, the stored-id check now the rule above; otherwise unchanged.
CREATE OR REPLACE FUNCTION chat_send_player_message(
  p_user_id text, p_id uuid, p_text text, p_photo jsonb, p_burst integer, p_per_second double precision,
  OUT outcome text, OUT wait_seconds integer, OUT opened_request boolean, OUT message jsonb, OUT request jsonb
) LANGUAGE plpgsql AS $$
DECLARE
  v_player_id integer;
  v_name text;
  v_allowance timestamptz;
  v_now timestamptz;
  v_next timestamptz;
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
  SELECT s.outcome, s.message, s.request INTO outcome, message, request
    FROM chat_stored_message(p_id, v_player_id, 'player') s;
  IF outcome IS NOT NULL THEN
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
--> statement-breakpoint

-- 0013's reply, the stored-id check answering with the stored message's own chat; otherwise unchanged.
CREATE OR REPLACE FUNCTION chat_staff_reply(
  p_user_id text, p_request_id uuid, p_player_id integer, p_id uuid, p_text text, p_photo jsonb,
  OUT outcome text, OUT staff_name text, OUT message jsonb, OUT request jsonb
) LANGUAGE plpgsql AS $$
DECLARE
  v_player_id integer;
  v_request chat_requests;
BEGIN
  SELECT s.display_name INTO staff_name FROM staff s WHERE s.user_id = p_user_id;
  IF NOT FOUND THEN
    outcome := 'no_staff';
    RETURN;
  END IF;

  -- The one lock order for every change to a player's chat: the player row, then the request.
  -- A request's player never changes, so this first read needs no lock.
  IF p_request_id IS NOT NULL THEN
    SELECT r.player_id INTO v_player_id FROM chat_requests r WHERE r.id = p_request_id;
    IF NOT FOUND THEN
      outcome := 'not_found';
      RETURN;
    END IF;
  ELSE
    v_player_id := p_player_id;
  END IF;
  PERFORM 1 FROM players p WHERE p.id = v_player_id FOR UPDATE;
  IF NOT FOUND THEN
    outcome := 'no_player';
    RETURN;
  END IF;
  IF p_request_id IS NOT NULL THEN
    SELECT * INTO v_request FROM chat_requests r WHERE r.id = p_request_id FOR UPDATE;
  ELSE
    SELECT * INTO v_request FROM chat_requests r WHERE r.player_id = v_player_id AND r.status <> 'resolved' FOR UPDATE;
    IF NOT FOUND THEN
      outcome := 'no_open_chat';
      RETURN;
    END IF;
  END IF;

  -- A new statement after the locks: it sees a concurrent attempt of the same id that committed meanwhile.
  SELECT s.outcome, s.message, s.request INTO outcome, message, request
    FROM chat_stored_message(p_id, v_player_id, 'staff') s;
  IF outcome IS NOT NULL THEN
    RETURN;
  END IF;

  -- The holder rule. The request is returned with each refusal, for the caller's words.
  request := to_jsonb(v_request);
  IF v_request.status = 'resolved' THEN
    outcome := 'resolved';
    RETURN;
  END IF;
  IF v_request.status = 'waiting' THEN
    outcome := 'waiting';
    RETURN;
  END IF;
  IF v_request.assigned_staff_id IS DISTINCT FROM p_user_id THEN
    outcome := 'held';
    RETURN;
  END IF;

  -- The first response is this message: now() is also its timestamp (the same transaction).
  -- chat_append_message bumps the version and returns the request as changed.
  IF v_request.first_response_at IS NULL THEN
    UPDATE chat_requests SET first_response_at = now() WHERE id = v_request.id;
  END IF;
  SELECT a.message, a.request INTO message, request
    FROM chat_append_message(p_id, v_request.id, v_player_id, 'staff', staff_name, p_user_id, p_text, p_photo, null) a;
  outcome := 'sent';
END $$;
