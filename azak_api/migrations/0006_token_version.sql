-- Tokens carry the version current when they were issued; a password change or a change of the
-- active flag increments it, so every earlier token is refused.
ALTER TABLE app.users ADD COLUMN token_version integer NOT NULL DEFAULT 0;
