-- A merchant's look beyond its brand colour, each chosen from a short list or none (the
-- checkout's default): how round the corners are (square, small, medium, large), the font
-- (system, serif, humanist, geometric) and light or dark (light, dark).
ALTER TABLE merchants ADD COLUMN corners TEXT;
ALTER TABLE merchants ADD COLUMN font TEXT;
ALTER TABLE merchants ADD COLUMN color_scheme TEXT;
