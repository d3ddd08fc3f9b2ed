-- Issue 11: a staff reply in one statement (one round trip, no BEGIN/COMMIT) instead of nine, as
-- the player's send (0010). The caller is server/chat/staff.ts (`replyAsStaff`); it turns each
-- outcome into the error staff saw before.
--
-- Where each rule of a reply is decided:
--  - "staff may write any thread" (server/chat/access.ts `mayWriteThread`): the transports check
--    the role; this function finds the staff record by user id, as `findStaff` does for every
--    other staff procedure, and answers 'no_staff' without one.
--  - who may answer a chat: its holder only. Here and only here (a check in TypeScript would need
--    the request row first, another round trip); tests/chat/staff.test.ts proves the refusals.
--  - a waiting chat is taken by replying, within capacity: that rule stays in
--    server/chat/assignment.ts. This function answers 'waiting', writing nothing; the caller
--    takes the chat in a transaction and calls this again inside it.
--
-- The chat is named by its request id (staff.reply, POST /api/unified-chat/send) or, with a null
-- request id, by Player ID: the player's open chat (POST /api/player-chat-integration/send). With
-- no open chat it answers 'no_open_chat', writing nothing: the caller opens one the sender holds
-- (`messagePlayer`, within capacity) in a transaction and calls this inside it.
--
-- Outcomes: 'sent'; 'duplicate' (the id is stored already: the stored row, nothing written);
-- 'conflict' (the id is someone else's); 'no_staff'; 'not_found'; 'no_player'; 'no_open_chat';
-- 'resolved'; 'held' (another staff member holds the chat); 'waiting'. Nothing is written before every refusal is decided.
-- A message id already stored, the idempotency rule of server/chat/messages.ts `findExisting`:
-- 'duplicate' and the stored row when it is this sender's in this player's thread, 'conflict' when
-- it is anyone else's (nothing said about what it holds), null when the id is new. The player's
-- send (0010) checks the same inline; it should call this when that function is next replaced.
CREATE FUNCTION chat_stored_message(
  p_id uuid, p_player_id integer, p_sender chat_message_sender, OUT outcome text, OUT message jsonb
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
END $$;
--> statement-breakpoint

CREATE FUNCTION chat_staff_reply(
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
  SELECT s.outcome, s.message INTO outcome, message FROM chat_stored_message(p_id, v_player_id, 'staff') s;
  IF outcome IS NOT NULL THEN
    request := to_jsonb(v_request);
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
