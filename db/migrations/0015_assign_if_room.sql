-- Issue 11: a staff member's first reply to a waiting chat in the reply's one statement. Until now
-- chat_staff_reply (0013, 0014) answered 'waiting' and the caller took the chat in a transaction
-- (server/chat/assignment.ts `claimForReply`) and ran the statement again: eight round trips for
-- the first staff message of every chat (the bench's staff → player scenario begins with 100 in
-- one second). The capacity rule therefore moves here, once, and every assignment uses it:
--
--  - chat_staff_has_room: the rule itself. The staff member is accepting (unless p_off_duty_too:
--    a chat they start or reopen themselves) and holds fewer than max_concurrent_chats.
--  - chat_assign_if_room: the one conditional UPDATE that gives a chat to a staff member, after
--    locking their staff row. TypeScript's `assignIfRoom` (claim, transfer, holdStartedChat,
--    auto-assignment) calls it, and chat_staff_reply below.
--
-- Lock order everywhere: player → request → staff. Callers hold the chat's locks; the staff row is
-- locked here, so two assignments to one person run one after the other, and the UPDATE, a new
-- statement after that lock, counts every assignment committed before it (READ COMMITTED).
CREATE FUNCTION chat_staff_has_room(p_user_id text, p_off_duty_too boolean) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT EXISTS (
    SELECT 1 FROM staff s
    WHERE s.user_id = p_user_id AND (p_off_duty_too OR s.accepting_chats)
      AND (SELECT count(*) FROM chat_requests o WHERE o.assigned_staff_id = p_user_id AND o.status = 'in_progress')
        < s.max_concurrent_chats)
$$;
--> statement-breakpoint

-- The chat as changed, or no row: not in the expected state (waiting, or held by p_holder when
-- that is given), or p_to has no room. It writes nothing else; the caller records the event.
CREATE FUNCTION chat_assign_if_room(p_request_id uuid, p_to text, p_holder text, p_off_duty_too boolean)
RETURNS SETOF chat_requests LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM staff s WHERE s.user_id = p_to FOR UPDATE;
  RETURN QUERY
    WITH assigned AS (
      UPDATE chat_requests r
        SET status = 'in_progress', assigned_staff_id = p_to, claimed_at = now(), version = r.version + 1
        WHERE r.id = p_request_id
          AND CASE WHEN p_holder IS NULL THEN r.status = 'waiting'
                   ELSE r.status = 'in_progress' AND r.assigned_staff_id = p_holder END
          AND chat_staff_has_room(p_to, p_off_duty_too)
        RETURNING r.*
    )
    SELECT * FROM assigned;
END $$;
--> statement-breakpoint

-- 0014's reply, with one change: a waiting chat is taken here, as Take takes it (the assignment
-- above, then its `claimed` event), and the reply follows in the same statement. Without room it
-- answers 'no_room' having written nothing; the caller says why in the words of
-- assignment.ts `limitRefusal`. The 'waiting' outcome is gone.
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
    -- Replying to a waiting chat takes it, within capacity: two staff must never answer the same
    -- player. Under the chat's locks held above, so a second staff member replying at once waits
    -- for this statement and then finds the chat 'held'.
    SELECT * INTO v_request FROM chat_assign_if_room(v_request.id, p_user_id, null, false);
    IF NOT FOUND THEN
      outcome := 'no_room';
      RETURN;
    END IF;
    INSERT INTO chat_events (request_id, type, actor_user_id, actor_name)
      VALUES (v_request.id, 'claimed', p_user_id, staff_name);
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
