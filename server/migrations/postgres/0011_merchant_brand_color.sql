-- A merchant's brand colour (`#rrggbb`, or none): the checkout's primary colour unless the
-- page around it sets its own.
ALTER TABLE merchants ADD COLUMN brand_color TEXT;
