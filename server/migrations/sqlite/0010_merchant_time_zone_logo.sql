-- A merchant's time zone (an IANA name: pages and emails show times in it) and the logo
-- its receipts carry (an https URL, or none).
ALTER TABLE merchants ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE merchants ADD COLUMN logo_url TEXT;
