-- Pinned models are never evicted nor unloaded for being idle (router-mode models; own backends keep
-- `pinned` in the init file with the rest of their settings).
ALTER TABLE model_settings ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0;
