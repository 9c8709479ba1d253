//! A merchant's uploaded logo: the four image types slotpay accepts (PNG, JPEG, WebP, GIF),
//! [`LogoImage`] (bytes that are one of them, at most [`LogoImage::MAX_BYTES`], with their
//! SHA-256, which names the file slotpay serves), [`LogoRef`] (what a merchant's record holds
//! of its upload), and [`LogoError`], each refusal with its code.
//!
//! The type is decided by the file's own first bytes, never by what the sender says: a declared
//! type must agree with them, and anything else is refused, SVG included (an SVG can carry
//! script). The signatures are read here by hand: four fixed prefixes, shorter than a
//! dependency would be, and slotpay never decodes the image; it serves the bytes as the type
//! they announce, with `nosniff` and a sandboxing Content-Security-Policy.

use std::fmt;

use bytes::Bytes;
use serde::Serialize;
use sha2::{Digest, Sha256};
use slotpay_core::{ApiError, ErrorCode};

/// The largest request that carries a logo (the image, and the admin form's fields around
/// it): a larger one is refused before it is read; one within it but holding more than
/// [`LogoImage::MAX_BYTES`] of image gets the logo's own refusal, which names its size.
pub const UPLOAD_LIMIT: usize = 1024 * 1024;

/// An image type a logo may be.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum LogoType {
    /// `image/png`.
    Png,
    /// `image/jpeg`.
    Jpeg,
    /// `image/webp`.
    Webp,
    /// `image/gif`.
    Gif,
}

impl LogoType {
    /// Every accepted type.
    pub const ALL: &'static [LogoType] =
        &[LogoType::Png, LogoType::Jpeg, LogoType::Webp, LogoType::Gif];

    /// Its media type, as stored and served (`image/png`).
    pub fn media_type(self) -> &'static str {
        match self {
            LogoType::Png => "image/png",
            LogoType::Jpeg => "image/jpeg",
            LogoType::Webp => "image/webp",
            LogoType::Gif => "image/gif",
        }
    }

    /// The extension of its served file (`png`).
    pub fn extension(self) -> &'static str {
        match self {
            LogoType::Png => "png",
            LogoType::Jpeg => "jpg",
            LogoType::Webp => "webp",
            LogoType::Gif => "gif",
        }
    }

    /// Its name for people (`PNG`).
    pub fn name(self) -> &'static str {
        match self {
            LogoType::Png => "PNG",
            LogoType::Jpeg => "JPEG",
            LogoType::Webp => "WebP",
            LogoType::Gif => "GIF",
        }
    }

    /// The type of a media type as stored (`image/png`); `None` for any other.
    pub fn from_media_type(media_type: &str) -> Option<LogoType> {
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.media_type() == media_type)
    }

    /// The type of a served file's extension; `None` for any other.
    pub fn from_extension(extension: &str) -> Option<LogoType> {
        Self::ALL
            .iter()
            .copied()
            .find(|t| t.extension() == extension)
    }

    /// The type `bytes` start as, by its signature: PNG's eight bytes, JPEG's start-of-image
    /// marker, `GIF87a` or `GIF89a`, or a RIFF container of WebP; `None` for anything else
    /// (text, SVG, HTML, other images).
    pub fn sniff(bytes: &[u8]) -> Option<LogoType> {
        const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
        const JPEG: &[u8] = b"\xff\xd8\xff";
        if bytes.starts_with(PNG) {
            Some(LogoType::Png)
        } else if bytes.starts_with(JPEG) {
            Some(LogoType::Jpeg)
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            Some(LogoType::Gif)
        } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && &bytes[8..12] == b"WEBP" {
            Some(LogoType::Webp)
        } else {
            None
        }
    }
}

impl fmt::Display for LogoType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.media_type())
    }
}

impl Serialize for LogoType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.media_type())
    }
}

impl utoipa::PartialSchema for LogoType {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        crate::schemas::string_enum(LogoType::ALL.iter().map(|t| t.media_type()))
    }
}

impl utoipa::ToSchema for LogoType {}

/// "PNG, JPEG, WebP or GIF".
fn accepted_names() -> String {
    let names: Vec<&str> = LogoType::ALL.iter().map(|t| t.name()).collect();
    let (last, rest) = names.split_last().expect("four types");
    format!("{} or {last}", rest.join(", "))
}

/// The SHA-256 of a logo's bytes, in lowercase hex: the name of the file slotpay serves, so a
/// new image has a new address and an old one stops answering.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize)]
#[serde(transparent)]
pub struct LogoHash(String);

impl LogoHash {
    /// The hash of `bytes`.
    pub fn of(bytes: &[u8]) -> LogoHash {
        LogoHash(hex::encode(Sha256::digest(bytes)))
    }

    /// 64 lowercase hex digits; `None` for anything else.
    pub fn parse(text: &str) -> Option<LogoHash> {
        (text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| LogoHash(text.to_owned()))
    }

    /// The hex digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl utoipa::PartialSchema for LogoHash {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("The image's SHA-256, in lowercase hex."))
            .pattern(Some("^[0-9a-f]{64}$"))
            .examples(["9f2c1e4b7a0d3c5e8f1a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d2e"])
            .into()
    }
}

impl utoipa::ToSchema for LogoHash {}

/// Why an upload is not a logo.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LogoError {
    /// No bytes.
    #[error("the logo is empty")]
    Empty,
    /// More than [`LogoImage::MAX_BYTES`].
    #[error("the logo is {size} bytes")]
    TooLarge {
        /// Its size in bytes.
        size: usize,
    },
    /// Not one of the accepted types, by its first bytes.
    #[error("not an accepted image")]
    NotAccepted,
    /// One of the accepted types, sent as another type.
    #[error("a {actual} image sent as {declared}")]
    Mismatch {
        /// The type the sender named.
        declared: String,
        /// The type the bytes are.
        actual: LogoType,
    },
}

impl From<LogoError> for ApiError {
    fn from(e: LogoError) -> ApiError {
        let max_kib = LogoImage::MAX_BYTES / 1024;
        let types = accepted_names();
        let error = match e {
            LogoError::Empty => ApiError::new(
                ErrorCode::InvalidLogo,
                format!(
                    "The logo is empty: send the image's bytes ({types}, at most {max_kib} KiB)"
                ),
            ),
            LogoError::TooLarge { size } => ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "The logo is {} KiB: at most {max_kib} KiB is accepted",
                    size.div_ceil(1024)
                ),
            ),
            LogoError::NotAccepted => ApiError::new(
                ErrorCode::InvalidLogo,
                format!(
                    "The logo must be a {types} image, and this file is none of them (SVG is not \
                     accepted: it can carry script)"
                ),
            ),
            LogoError::Mismatch { declared, actual } => ApiError::new(
                ErrorCode::InvalidLogo,
                format!(
                    "The file is a {} image but was sent as {declared}: send it as {}",
                    actual.name(),
                    actual.media_type()
                ),
            ),
        };
        error.with_param("logo")
    }
}

/// A logo's bytes, checked: not empty, at most [`LogoImage::MAX_BYTES`], one of the accepted
/// types by its first bytes; with its type and hash.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LogoImage {
    kind: LogoType,
    hash: LogoHash,
    bytes: Bytes,
}

impl LogoImage {
    /// The largest logo accepted: plenty for a mark shown at most 3rem high.
    pub const MAX_BYTES: usize = 256 * 1024;

    /// Checks an upload. `declared` is the type the sender named (a `Content-Type`, with any
    /// parameters): when given, it must be the type the bytes are; none, or
    /// `application/octet-stream` (bytes of no named type), leaves the bytes to say.
    pub fn parse(bytes: Bytes, declared: Option<&str>) -> Result<LogoImage, LogoError> {
        if bytes.len() > Self::MAX_BYTES {
            return Err(LogoError::TooLarge { size: bytes.len() });
        }
        Self::of(bytes, declared)
    }

    /// [`LogoImage::parse`] but for the size (a stored logo stays one if the limit is ever
    /// lowered).
    fn of(bytes: Bytes, declared: Option<&str>) -> Result<LogoImage, LogoError> {
        if bytes.is_empty() {
            return Err(LogoError::Empty);
        }
        let kind = LogoType::sniff(&bytes).ok_or(LogoError::NotAccepted)?;
        let declared = declared
            .map(|d| d.split(';').next().unwrap_or_default().trim())
            .filter(|d| !d.is_empty() && !d.eq_ignore_ascii_case("application/octet-stream"));
        if let Some(declared) = declared {
            if !declared.eq_ignore_ascii_case(kind.media_type()) {
                return Err(LogoError::Mismatch {
                    declared: declared.to_owned(),
                    actual: kind,
                });
            }
        }
        Ok(LogoImage {
            kind,
            hash: LogoHash::of(&bytes),
            bytes,
        })
    }

    /// A stored logo read back: the bytes must still be a logo of `kind` whose hash is `hash`
    /// (`None` otherwise: the row was changed by hand, or by a bug).
    pub fn from_stored(kind: LogoType, hash: &LogoHash, bytes: Bytes) -> Option<LogoImage> {
        LogoImage::of(bytes, Some(kind.media_type()))
            .ok()
            .filter(|image| image.hash == *hash)
    }

    /// Its type.
    pub fn kind(&self) -> LogoType {
        self.kind
    }

    /// Its hash.
    pub fn hash(&self) -> &LogoHash {
        &self.hash
    }

    /// Its bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// What a merchant's record holds of it.
    pub fn reference(&self) -> LogoRef {
        LogoRef {
            kind: self.kind,
            hash: self.hash.clone(),
            size: self.bytes.len(),
        }
    }
}

/// A merchant's uploaded logo as its record holds it: enough to name and describe the file
/// without reading its bytes.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct LogoRef {
    /// Its type.
    pub kind: LogoType,
    /// Its hash.
    pub hash: LogoHash,
    /// Its size in bytes.
    pub size: usize,
}

impl LogoRef {
    /// The path slotpay serves it at: `/logos/{merchant_id}/{sha256}.{ext}`.
    pub fn path(&self, merchant_id: &str) -> String {
        format!(
            "/logos/{merchant_id}/{}.{}",
            self.hash.as_str(),
            self.kind.extension()
        )
    }
}

/// A served file's name, `{sha256}.{ext}`, as its hash and type; `None` for any other name.
pub fn parse_file_name(name: &str) -> Option<(LogoHash, LogoType)> {
    let (hash, extension) = name.split_once('.')?;
    Some((LogoHash::parse(hash)?, LogoType::from_extension(extension)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest valid image of each type, as an image editor writes it.
    fn samples() -> [(LogoType, Vec<u8>); 4] {
        let png =
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
        let jpeg = b"\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0\xff\xd9";
        let webp =
            b"RIFF\x1a\0\0\0WEBPVP8L\x0d\0\0\0\x2f\0\0\0\x10\x07\x10\x11\x11\x88\x88\xfe\x07\0";
        let gif = b"GIF89a\x01\0\x01\0\x80\0\0\0\0\0\xff\xff\xff!\xf9\x04\x01\0\0\0\0,\0\0\0\0\x01\0\x01\0\0\x02\x02D\x01\0;";
        [
            (LogoType::Png, png.to_vec()),
            (LogoType::Jpeg, jpeg.to_vec()),
            (LogoType::Webp, webp.to_vec()),
            (LogoType::Gif, gif.to_vec()),
        ]
    }

    #[test]
    fn each_accepted_type_is_known_by_its_first_bytes() {
        for (kind, bytes) in samples() {
            assert_eq!(LogoType::sniff(&bytes), Some(kind), "{kind}");
            // Whatever is declared of it, only the bytes decide; the declared type must agree.
            let image = LogoImage::parse(Bytes::from(bytes.clone()), Some(kind.media_type()))
                .unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert_eq!(image.kind(), kind);
            assert_eq!(image.hash(), &LogoHash::of(&bytes));
            assert_eq!(image.reference().size, bytes.len());
        }
        assert_eq!(LogoType::sniff(b"GIF87a\x01\0"), Some(LogoType::Gif));
    }

    #[test]
    fn anything_else_is_refused_svg_and_html_included() {
        for bad in [
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"[..],
            b"<?xml version=\"1.0\"?><svg/>",
            b"<!doctype html><script>alert(1)</script>",
            b"\xef\xbb\xbf<svg/>",
            b"%PDF-1.7",
            b"BM\x3a\0\0\0",
            b"\0\0\0\x0cjP  \r\n\x87\n",
            b"II*\0",
            // Cut signatures and near misses.
            b"\x89PNG\r\n",
            b"\x89PNG\r\n\x1a\r",
            b"\xff\xd8",
            b"GIF88a",
            b"RIFF\0\0\0\0WAVEfmt ",
            b"RIFF\0\0\0\0WEB",
            b" \x89PNG\r\n\x1a\n",
            b"garbage",
        ] {
            assert_eq!(LogoType::sniff(bad), None, "{bad:?}");
            let e = LogoImage::parse(Bytes::copy_from_slice(bad), None).unwrap_err();
            assert_eq!(e, LogoError::NotAccepted, "{bad:?}");
        }
        let e = ApiError::from(LogoError::NotAccepted);
        assert_eq!(e.code, ErrorCode::InvalidLogo);
        assert_eq!(e.param.as_deref(), Some("logo"));
        assert!(
            e.message.contains("must be a PNG, JPEG, WebP or GIF image"),
            "{}",
            e.message
        );
        assert!(e.message.contains("SVG"), "{}", e.message);
    }

    #[test]
    fn a_declared_type_must_be_the_one_the_bytes_are() {
        let [(_, png), ..] = samples();
        let png = Bytes::from(png);
        for agrees in [
            None,
            Some("image/png"),
            Some("IMAGE/PNG; charset=binary"),
            Some("application/octet-stream"),
            Some(""),
        ] {
            assert!(LogoImage::parse(png.clone(), agrees).is_ok(), "{agrees:?}");
        }
        for differs in ["image/jpeg", "image/svg+xml", "text/html", "image/jpg"] {
            let e = LogoImage::parse(png.clone(), Some(differs)).unwrap_err();
            assert_eq!(
                e,
                LogoError::Mismatch {
                    declared: differs.to_owned(),
                    actual: LogoType::Png
                }
            );
            let e = ApiError::from(e);
            assert_eq!(e.code, ErrorCode::InvalidLogo);
            assert_eq!(
                e.message,
                format!("The file is a PNG image but was sent as {differs}: send it as image/png")
            );
        }
    }

    #[test]
    fn empty_and_oversize_uploads_are_refused_with_their_own_codes() {
        assert_eq!(
            LogoImage::parse(Bytes::new(), Some("image/png")),
            Err(LogoError::Empty)
        );
        assert_eq!(
            ApiError::from(LogoError::Empty).code,
            ErrorCode::InvalidLogo
        );
        let [(_, png), ..] = samples();
        let mut big = png.clone();
        big.resize(LogoImage::MAX_BYTES, 0);
        assert!(LogoImage::parse(Bytes::from(big.clone()), None).is_ok());
        big.push(0);
        let e = LogoImage::parse(Bytes::from(big), None).unwrap_err();
        assert_eq!(
            e,
            LogoError::TooLarge {
                size: LogoImage::MAX_BYTES + 1
            }
        );
        let e = ApiError::from(e);
        assert_eq!(e.code, ErrorCode::PayloadTooLarge);
        assert_eq!(
            e.message,
            "The logo is 257 KiB: at most 256 KiB is accepted"
        );
    }

    #[test]
    fn stored_bytes_must_still_be_the_logo_their_row_names() {
        let [(_, png), (_, jpeg), ..] = samples();
        let image = LogoImage::parse(Bytes::from(png.clone()), None).unwrap();
        let back = LogoImage::from_stored(LogoType::Png, image.hash(), Bytes::from(png.clone()));
        assert_eq!(back.as_ref(), Some(&image));
        assert!(LogoImage::from_stored(LogoType::Jpeg, image.hash(), Bytes::from(png)).is_none());
        assert!(LogoImage::from_stored(LogoType::Jpeg, image.hash(), Bytes::from(jpeg)).is_none());
    }

    #[test]
    fn served_names_are_the_hash_and_the_types_extension() {
        let [(_, png), ..] = samples();
        let image = LogoImage::parse(Bytes::from(png), None).unwrap();
        let path = image.reference().path("mer_1");
        let name = path.strip_prefix("/logos/mer_1/").unwrap();
        assert_eq!(name, format!("{}.png", image.hash().as_str()));
        assert_eq!(
            parse_file_name(name),
            Some((image.hash().clone(), LogoType::Png))
        );
        let hash = image.hash().as_str();
        for bad in [
            format!("{hash}.svg"),
            format!("{hash}.PNG"),
            hash.to_owned(),
            format!("{}.png", hash.to_uppercase()),
            format!("{}.png", &hash[1..]),
            format!("{hash}.png.html"),
            format!("../{hash}.png"),
        ] {
            assert_eq!(parse_file_name(&bad), None, "{bad}");
        }
        for t in LogoType::ALL {
            assert_eq!(LogoType::from_extension(t.extension()), Some(*t));
            assert_eq!(LogoType::from_media_type(t.media_type()), Some(*t));
        }
    }
}
