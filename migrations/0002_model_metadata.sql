-- GGUF metadata problems and multimodal projectors, per model.
ALTER TABLE models ADD COLUMN metadata_error TEXT;
ALTER TABLE models ADD COLUMN projector TEXT;
