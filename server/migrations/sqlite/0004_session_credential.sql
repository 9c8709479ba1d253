-- A session signed in with the admin token remembers which token it was (a keyed
-- fingerprint, not the token): when the operator replaces the token, those sessions end.
-- NULL for an operator's session, and for token sessions made before this column existed
-- (they end too: signing in again is the safe answer).
ALTER TABLE admin_sessions ADD COLUMN credential TEXT;
