//! Stripe API keys and webhook signing secrets as merchants paste them: parsing, kind and
//! mode, the test/live pairing rule, and masking.
//!
//! `Debug` and `Display` of every key show at most the prefix and the last 4 characters
//! (`sk_live_...4242`), publishable keys included, so a log line never needs a second
//! look. Secret material lives in [`secrecy::SecretString`] and leaves only through
//! `expose_secret()`, at the one place that sends it to Stripe.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ErrorCode};

/// Longest key accepted; Stripe's keys are around 110 characters.
const MAX_KEY_LEN: usize = 255;
/// Shortest body after the prefix.
const MIN_BODY_LEN: usize = 8;

/// What a Stripe API key can do.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyKind {
    /// `pk_`: identifies the account to Stripe.js in the browser; not secret.
    Publishable,
    /// `sk_`: full access to the account; server only.
    Secret,
    /// `rk_`: access limited to chosen permissions; server only, and encouraged.
    Restricted,
}

/// Test or live: a key works only on the objects of its mode.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyMode {
    /// `_test_` keys: test cards, no money moves.
    Test,
    /// `_live_` keys: real cards and money.
    Live,
}

impl KeyMode {
    /// True for live keys.
    pub const fn is_live(self) -> bool {
        matches!(self, KeyMode::Live)
    }

    /// `"test"` or `"live"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyMode::Test => "test",
            KeyMode::Live => "live",
        }
    }
}

impl fmt::Display for KeyMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which form field a key was pasted into; error messages name it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum KeyField {
    /// The publishable key field.
    Publishable,
    /// The secret (or restricted) key field.
    Secret,
    /// The webhook signing secret field.
    WebhookSecret,
}

impl KeyField {
    /// The request parameter holding this field, for [`crate::ApiError::param`].
    pub const fn param(self) -> &'static str {
        match self {
            KeyField::Publishable => "publishable_key",
            KeyField::Secret => "secret_key",
            KeyField::WebhookSecret => "webhook_secret",
        }
    }

    const fn label(self) -> &'static str {
        match self {
            KeyField::Publishable => "The publishable key",
            KeyField::Secret => "The secret key",
            KeyField::WebhookSecret => "The webhook signing secret",
        }
    }

    const fn expected(self) -> &'static str {
        match self {
            KeyField::Publishable => "pk_test_ or pk_live_",
            KeyField::Secret => "sk_test_, sk_live_, rk_test_ or rk_live_",
            KeyField::WebhookSecret => "whsec_",
        }
    }
}

/// Why a pasted key was refused. Messages name the field and say what to do; they never
/// contain the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Nothing (or only whitespace) was pasted.
    #[error("{} is empty; paste it from the API keys page of your Stripe Dashboard", field.label())]
    Empty {
        /// The field.
        field: KeyField,
    },
    /// A space, tab or line break inside the key (a copy that wrapped).
    #[error("{} contains a space or line break; copy it again from your Stripe Dashboard in one piece", field.label())]
    InnerWhitespace {
        /// The field.
        field: KeyField,
    },
    /// Not a prefix Stripe uses for this field.
    #[error("{} must start with {}", field.label(), field.expected())]
    UnknownPrefix {
        /// The field.
        field: KeyField,
    },
    /// The right prefix, but too short, too long or with characters keys do not have.
    #[error("{} is incomplete or contains characters Stripe keys do not have; copy it again from your Stripe Dashboard", field.label())]
    Malformed {
        /// The field.
        field: KeyField,
    },
    /// A secret or restricted key pasted where the publishable key goes.
    #[error("This is a secret or restricted key (sk_... or rk_...); paste the publishable key (pk_...) here, and the secret key in the secret key field")]
    ServerKeyInPublishableField,
    /// A publishable key pasted where the secret key goes.
    #[error("This is a publishable key (pk_...); paste the secret key (sk_...) or a restricted key (rk_...) here")]
    PublishableKeyInSecretField,
    /// One key is a test key and the other a live key.
    #[error("The publishable key is a {publishable} key but the secret key is a {server} key; use two test keys or two live keys")]
    MixedModes {
        /// Mode of the publishable key.
        publishable: KeyMode,
        /// Mode of the secret or restricted key.
        server: KeyMode,
    },
}

impl KeyError {
    /// The stable machine code for this error.
    pub fn code(&self) -> ErrorCode {
        let invalid = |field: &KeyField| match field {
            KeyField::Publishable => ErrorCode::InvalidPublishableKey,
            KeyField::Secret => ErrorCode::InvalidSecretKey,
            KeyField::WebhookSecret => ErrorCode::InvalidWebhookSecret,
        };
        match self {
            KeyError::Empty { field } | KeyError::Malformed { field } => invalid(field),
            KeyError::InnerWhitespace { .. } => ErrorCode::KeyContainsWhitespace,
            KeyError::UnknownPrefix { .. } => ErrorCode::UnknownKeyPrefix,
            KeyError::ServerKeyInPublishableField => ErrorCode::SecretKeyInPublishableField,
            KeyError::PublishableKeyInSecretField => ErrorCode::PublishableKeyInSecretField,
            KeyError::MixedModes { .. } => ErrorCode::MixedKeyModes,
        }
    }

    /// The field the error is about (`None` for [`KeyError::MixedModes`], which is about
    /// both).
    pub fn field(&self) -> Option<KeyField> {
        match self {
            KeyError::Empty { field }
            | KeyError::InnerWhitespace { field }
            | KeyError::UnknownPrefix { field }
            | KeyError::Malformed { field } => Some(*field),
            KeyError::ServerKeyInPublishableField => Some(KeyField::Publishable),
            KeyError::PublishableKeyInSecretField => Some(KeyField::Secret),
            KeyError::MixedModes { .. } => None,
        }
    }
}

/// A parsed key and whether surrounding whitespace was removed first, so the form can say
/// "we removed a stray space".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Parsed<T> {
    /// The key.
    pub key: T,
    /// True when the pasted text had whitespace around the key.
    pub trimmed: bool,
}

/// The API key prefixes, with what they mean.
const API_PREFIXES: [(&str, KeyKind, KeyMode); 6] = [
    ("pk_test_", KeyKind::Publishable, KeyMode::Test),
    ("pk_live_", KeyKind::Publishable, KeyMode::Live),
    ("sk_test_", KeyKind::Secret, KeyMode::Test),
    ("sk_live_", KeyKind::Secret, KeyMode::Live),
    ("rk_test_", KeyKind::Restricted, KeyMode::Test),
    ("rk_live_", KeyKind::Restricted, KeyMode::Live),
];

const WEBHOOK_PREFIX: &str = "whsec_";

/// Trims surrounding whitespace and refuses empty input or inner whitespace.
fn trim_pasted(input: &str, field: KeyField) -> Result<(&str, bool), KeyError> {
    let key = input.trim();
    if key.is_empty() {
        return Err(KeyError::Empty { field });
    }
    if key.chars().any(char::is_whitespace) {
        return Err(KeyError::InnerWhitespace { field });
    }
    Ok((key, key.len() != input.len()))
}

/// Checks the part after the prefix: `[A-Za-z0-9_]`, at least 8 characters, whole key not
/// absurdly long.
fn check_body(key: &str, prefix_len: usize, field: KeyField) -> Result<(), KeyError> {
    let body = &key[prefix_len..];
    let ok = key.len() <= MAX_KEY_LEN
        && body.len() >= MIN_BODY_LEN
        && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(KeyError::Malformed { field })
    }
}

/// Classifies a trimmed API key by prefix and checks its body.
fn classify(key: &str, field: KeyField) -> Result<(KeyKind, KeyMode, usize), KeyError> {
    let (prefix, kind, mode) = API_PREFIXES
        .iter()
        .find(|(p, _, _)| key.starts_with(p))
        .ok_or(KeyError::UnknownPrefix { field })?;
    match (field, kind) {
        (KeyField::Publishable, KeyKind::Secret | KeyKind::Restricted) => {
            return Err(KeyError::ServerKeyInPublishableField)
        }
        (KeyField::Secret, KeyKind::Publishable) => {
            return Err(KeyError::PublishableKeyInSecretField)
        }
        _ => {}
    }
    check_body(key, prefix.len(), field)?;
    Ok((*kind, *mode, prefix.len()))
}

/// `prefix...last4`, the only form in which keys are shown.
fn mask(key: &str, prefix_len: usize) -> String {
    // Bodies are ASCII and at least 8 long, so both slices are on char boundaries.
    format!("{}...{}", &key[..prefix_len], &key[key.len() - 4..])
}

/// A publishable key (`pk_test_...`, `pk_live_...`). Not secret (Stripe.js needs it in the
/// browser), but shown masked like the others; [`PublishableKey::as_str`] gives it whole.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PublishableKey {
    key: String,
    mode: KeyMode,
}

impl PublishableKey {
    /// Parses a pasted publishable key (surrounding whitespace trimmed and reported).
    pub fn parse(input: &str) -> Result<Parsed<PublishableKey>, KeyError> {
        let (key, trimmed) = trim_pasted(input, KeyField::Publishable)?;
        let (_, mode, _) = classify(key, KeyField::Publishable)?;
        Ok(Parsed {
            key: PublishableKey {
                key: key.to_owned(),
                mode,
            },
            trimmed,
        })
    }

    /// The whole key, for Stripe.js.
    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// Test or live.
    pub fn mode(&self) -> KeyMode {
        self.mode
    }

    /// `pk_live_...4242`.
    pub fn masked(&self) -> String {
        mask(&self.key, "pk_test_".len())
    }
}

impl TryFrom<String> for PublishableKey {
    type Error = KeyError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        PublishableKey::parse(&s).map(|p| p.key)
    }
}

impl From<PublishableKey> for String {
    fn from(key: PublishableKey) -> String {
        key.key
    }
}

/// A secret (`sk_`) or restricted (`rk_`) key: the server's credential for the merchant's
/// Stripe account. Deserialisable (from a request or config) but deliberately not
/// serialisable.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct ServerKey {
    key: SecretString,
    kind: KeyKind,
    mode: KeyMode,
}

impl ServerKey {
    /// Parses a pasted secret or restricted key (surrounding whitespace trimmed and
    /// reported).
    pub fn parse(input: &str) -> Result<Parsed<ServerKey>, KeyError> {
        let (key, trimmed) = trim_pasted(input, KeyField::Secret)?;
        let (kind, mode, _) = classify(key, KeyField::Secret)?;
        Ok(Parsed {
            key: ServerKey {
                key: SecretString::from(key),
                kind,
                mode,
            },
            trimmed,
        })
    }

    /// The whole key. Call it only where the key is sent to Stripe (or encrypted at rest).
    pub fn expose_secret(&self) -> &str {
        self.key.expose_secret()
    }

    /// Secret or restricted.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// True for a restricted (`rk_`) key.
    pub fn is_restricted(&self) -> bool {
        self.kind == KeyKind::Restricted
    }

    /// Test or live.
    pub fn mode(&self) -> KeyMode {
        self.mode
    }

    /// `sk_live_...4242`.
    pub fn masked(&self) -> String {
        mask(self.key.expose_secret(), "sk_test_".len())
    }
}

impl TryFrom<String> for ServerKey {
    type Error = KeyError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        // Through `SecretString`: the pasted copy is zeroised when dropped.
        let s = SecretString::from(s);
        ServerKey::parse(s.expose_secret()).map(|p| p.key)
    }
}

/// A webhook endpoint's signing secret (`whsec_...`). Deserialisable, not serialisable.
#[derive(Clone, Deserialize)]
#[serde(try_from = "String")]
pub struct WebhookSecret {
    secret: SecretString,
}

impl WebhookSecret {
    /// Parses a pasted signing secret (surrounding whitespace trimmed and reported).
    pub fn parse(input: &str) -> Result<Parsed<WebhookSecret>, KeyError> {
        let field = KeyField::WebhookSecret;
        let (key, trimmed) = trim_pasted(input, field)?;
        if !key.starts_with(WEBHOOK_PREFIX) {
            return Err(KeyError::UnknownPrefix { field });
        }
        check_body(key, WEBHOOK_PREFIX.len(), field)?;
        Ok(Parsed {
            key: WebhookSecret {
                secret: SecretString::from(key),
            },
            trimmed,
        })
    }

    /// The whole secret, for [`crate::webhook_signature::verify`].
    pub fn expose_secret(&self) -> &str {
        self.secret.expose_secret()
    }

    /// `whsec_...abcd`.
    pub fn masked(&self) -> String {
        mask(self.secret.expose_secret(), WEBHOOK_PREFIX.len())
    }
}

impl TryFrom<String> for WebhookSecret {
    type Error = KeyError;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        let s = SecretString::from(s);
        WebhookSecret::parse(s.expose_secret()).map(|p| p.key)
    }
}

/// A merchant's publishable key with its secret or restricted key, of the same mode.
#[derive(Clone, Debug)]
pub struct KeyPair {
    publishable: PublishableKey,
    server: ServerKey,
}

impl KeyPair {
    /// Pairs two keys; an error when one is a test key and the other a live key.
    pub fn new(publishable: PublishableKey, server: ServerKey) -> Result<KeyPair, KeyError> {
        if publishable.mode() != server.mode() {
            return Err(KeyError::MixedModes {
                publishable: publishable.mode(),
                server: server.mode(),
            });
        }
        Ok(KeyPair {
            publishable,
            server,
        })
    }

    /// The mode both keys share.
    pub fn mode(&self) -> KeyMode {
        self.publishable.mode()
    }

    /// The publishable key.
    pub fn publishable(&self) -> &PublishableKey {
        &self.publishable
    }

    /// The secret or restricted key.
    pub fn server(&self) -> &ServerKey {
        &self.server
    }
}

macro_rules! masked_fmt {
    ($($ty:ty),*) => {$(
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.masked())
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.masked())
            }
        }
    )*};
}

masked_fmt!(PublishableKey, ServerKey, WebhookSecret);

impl From<KeyError> for ApiError {
    fn from(e: KeyError) -> ApiError {
        let error = ApiError::new(e.code(), e.to_string());
        match e.field() {
            Some(field) => error.with_param(field.param()),
            None => error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PK_TEST: &str = "pk_test_51HqLyjWDarjtT1zdp7dcXYZ";
    const PK_LIVE: &str = "pk_live_51HqLyjWDarjtT1zdABCD4242";
    const SK_TEST: &str = "sk_test_51HqLyjWDarjtT1zdSECRETa1b2";
    const SK_LIVE: &str = "sk_live_51HqLyjWDarjtT1zdSECRET4242";
    const RK_LIVE: &str = "rk_live_51HqLyjWDarjtT1zd_rest_9999";
    const WHSEC: &str = "whsec_5f2b8dbc1e0a4e6f9a7c3d2b1a0f9e8d";

    #[test]
    fn parses_each_prefix() {
        let pk = PublishableKey::parse(PK_TEST).unwrap();
        assert!(!pk.trimmed);
        assert_eq!(pk.key.mode(), KeyMode::Test);
        assert_eq!(pk.key.as_str(), PK_TEST);
        assert_eq!(
            PublishableKey::parse(PK_LIVE).unwrap().key.mode(),
            KeyMode::Live
        );
        let sk = ServerKey::parse(SK_LIVE).unwrap().key;
        assert_eq!(
            (sk.kind(), sk.mode(), sk.is_restricted()),
            (KeyKind::Secret, KeyMode::Live, false)
        );
        assert_eq!(sk.expose_secret(), SK_LIVE);
        let rk = ServerKey::parse(RK_LIVE).unwrap().key;
        assert_eq!((rk.kind(), rk.is_restricted()), (KeyKind::Restricted, true));
        let rk = ServerKey::parse("rk_test_abcdefgh").unwrap().key;
        assert_eq!((rk.kind(), rk.mode()), (KeyKind::Restricted, KeyMode::Test));
        assert!(KeyMode::Live.is_live() && !KeyMode::Test.is_live());
    }

    #[test]
    fn surrounding_whitespace_is_trimmed_and_reported() {
        let parsed = ServerKey::parse(&format!(" \t{SK_TEST}\r\n")).unwrap();
        assert!(parsed.trimmed);
        assert_eq!(parsed.key.expose_secret(), SK_TEST);
        let parsed = WebhookSecret::parse(&format!("{WHSEC} ")).unwrap();
        assert!(parsed.trimmed);
        assert_eq!(parsed.key.expose_secret(), WHSEC);
    }

    #[test]
    fn refusals_with_codes() {
        let cases: [(Result<(), KeyError>, KeyError, ErrorCode); 10] = [
            (
                PublishableKey::parse("  ").map(drop),
                KeyError::Empty {
                    field: KeyField::Publishable,
                },
                ErrorCode::InvalidPublishableKey,
            ),
            (
                ServerKey::parse("sk_test_abcd efgh1234").map(drop),
                KeyError::InnerWhitespace {
                    field: KeyField::Secret,
                },
                ErrorCode::KeyContainsWhitespace,
            ),
            (
                ServerKey::parse("sk_test_abcd\nefgh1234").map(drop),
                KeyError::InnerWhitespace {
                    field: KeyField::Secret,
                },
                ErrorCode::KeyContainsWhitespace,
            ),
            (
                ServerKey::parse("ak_test_abcdefgh1234").map(drop),
                KeyError::UnknownPrefix {
                    field: KeyField::Secret,
                },
                ErrorCode::UnknownKeyPrefix,
            ),
            (
                ServerKey::parse("sk_prod_abcdefgh1234").map(drop),
                KeyError::UnknownPrefix {
                    field: KeyField::Secret,
                },
                ErrorCode::UnknownKeyPrefix,
            ),
            (
                ServerKey::parse("sk_test_abc").map(drop),
                KeyError::Malformed {
                    field: KeyField::Secret,
                },
                ErrorCode::InvalidSecretKey,
            ),
            (
                PublishableKey::parse("pk_test_abcdefgh-1234").map(drop),
                KeyError::Malformed {
                    field: KeyField::Publishable,
                },
                ErrorCode::InvalidPublishableKey,
            ),
            (
                PublishableKey::parse(SK_LIVE).map(drop),
                KeyError::ServerKeyInPublishableField,
                ErrorCode::SecretKeyInPublishableField,
            ),
            (
                ServerKey::parse(PK_LIVE).map(drop),
                KeyError::PublishableKeyInSecretField,
                ErrorCode::PublishableKeyInSecretField,
            ),
            (
                WebhookSecret::parse(SK_LIVE).map(drop),
                KeyError::UnknownPrefix {
                    field: KeyField::WebhookSecret,
                },
                ErrorCode::UnknownKeyPrefix,
            ),
        ];
        for (got, want, code) in cases {
            assert_eq!(got, Err(want.clone()));
            assert_eq!(want.code(), code, "{want:?}");
        }
        let long = format!("sk_test_{}", "a".repeat(300));
        assert!(matches!(
            ServerKey::parse(&long),
            Err(KeyError::Malformed { .. })
        ));
        assert!(matches!(
            PublishableKey::parse(RK_LIVE),
            Err(KeyError::ServerKeyInPublishableField)
        ));
    }

    #[test]
    fn messages_name_the_field_and_what_to_do() {
        assert_eq!(
            KeyError::PublishableKeyInSecretField.to_string(),
            "This is a publishable key (pk_...); paste the secret key (sk_...) or a restricted key (rk_...) here"
        );
        assert_eq!(
            KeyError::UnknownPrefix {
                field: KeyField::Publishable
            }
            .to_string(),
            "The publishable key must start with pk_test_ or pk_live_"
        );
        let mixed = KeyError::MixedModes {
            publishable: KeyMode::Test,
            server: KeyMode::Live,
        };
        assert_eq!(
            mixed.to_string(),
            "The publishable key is a test key but the secret key is a live key; use two test keys or two live keys"
        );
        assert_eq!(mixed.field(), None);
        assert_eq!(
            KeyError::ServerKeyInPublishableField
                .field()
                .map(KeyField::param),
            Some("publishable_key")
        );
        // A refused secret never appears in the message.
        let err = PublishableKey::parse(SK_LIVE).unwrap_err();
        assert!(!err.to_string().contains("SECRET4242"));
    }

    #[test]
    fn pairs_must_share_a_mode() {
        let pk = |s| PublishableKey::parse(s).unwrap().key;
        let sk = |s| ServerKey::parse(s).unwrap().key;
        let pair = KeyPair::new(pk(PK_LIVE), sk(RK_LIVE)).unwrap();
        assert_eq!(pair.mode(), KeyMode::Live);
        assert_eq!(pair.publishable().as_str(), PK_LIVE);
        assert_eq!(pair.server().expose_secret(), RK_LIVE);
        let err = KeyPair::new(pk(PK_TEST), sk(SK_LIVE)).unwrap_err();
        assert_eq!(
            err,
            KeyError::MixedModes {
                publishable: KeyMode::Test,
                server: KeyMode::Live
            }
        );
        assert_eq!(err.code(), ErrorCode::MixedKeyModes);
    }

    #[test]
    fn keys_are_only_ever_shown_masked() {
        let sk = ServerKey::parse(SK_LIVE).unwrap().key;
        let pk = PublishableKey::parse(PK_LIVE).unwrap().key;
        let wh = WebhookSecret::parse(WHSEC).unwrap().key;
        assert_eq!(sk.masked(), "sk_live_...4242");
        assert_eq!(pk.masked(), "pk_live_...4242");
        assert_eq!(wh.masked(), "whsec_...9e8d");
        let pair = KeyPair::new(pk.clone(), sk.clone()).unwrap();
        let shown = [
            format!("{sk:?}"),
            format!("{sk}"),
            format!("{pk:?}"),
            format!("{pk}"),
            format!("{wh:?}"),
            format!("{wh}"),
            format!("{pair:?}"),
            format!("{:?}", ServerKey::parse(SK_LIVE)),
            format!("{:#?}", Some(&sk)),
        ];
        for text in &shown {
            for full in [SK_LIVE, PK_LIVE, WHSEC] {
                assert!(!text.contains(full), "{text}");
            }
            // Nothing between the prefix and the last 4 leaks either.
            assert!(!text.contains("SECRET"), "{text}");
            assert!(!text.contains("5f2b8d"), "{text}");
        }
        assert!(format!("{pair:?}").contains("sk_live_...4242"));
    }

    #[test]
    fn serde_validates_and_never_serialises_secrets() {
        let pk: PublishableKey = serde_json::from_str(&format!("\"{PK_TEST}\"")).unwrap();
        assert_eq!(
            serde_json::to_string(&pk).unwrap(),
            format!("\"{PK_TEST}\"")
        );
        assert!(serde_json::from_str::<PublishableKey>(&format!("\"{SK_TEST}\"")).is_err());
        let sk: ServerKey = serde_json::from_str(&format!("\" {SK_TEST} \"")).unwrap();
        assert_eq!(sk.expose_secret(), SK_TEST);
        assert!(serde_json::from_str::<ServerKey>(&format!("\"{PK_TEST}\"")).is_err());
        let wh: WebhookSecret = serde_json::from_str(&format!("\"{WHSEC}\"")).unwrap();
        assert_eq!(wh.expose_secret(), WHSEC);
        assert!(serde_json::from_str::<WebhookSecret>("\"whsec_x\"").is_err());
    }
}
