-- A merchant's uploaded logo, at most one: the image's bytes as slotpay serves them (at
-- /logos/{merchant_id}/{sha256}.{ext}), its media type as its first bytes say (image/png,
-- image/jpeg, image/webp or image/gif), the SHA-256 of the bytes in lowercase hex, and its
-- size in bytes. While it exists it is the logo pages and emails show, before logo_url.
CREATE TABLE merchant_logos (
    merchant_id TEXT PRIMARY KEY REFERENCES merchants (id) ON DELETE CASCADE,
    media_type TEXT NOT NULL
        CHECK (media_type IN ('image/png', 'image/jpeg', 'image/webp', 'image/gif')),
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL CHECK (size > 0),
    bytes BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
