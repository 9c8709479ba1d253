//! Secrets at rest: the master key (from configuration, or generated on first start into
//! `<data dir>/master.key` with mode 0600), AES-256-GCM encryption of merchants' secret keys
//! and webhook signing secrets, and the generated admin token file.
//!
//! A stored value is `v1:<base64 nonce>:<base64 ciphertext+tag>`, with a random 96-bit nonce
//! per value and associated data binding it to its row and column, so a ciphertext copied to
//! another merchant's row (or another column) fails to decrypt instead of being used there.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox, SecretString};

/// File name of the generated master key in the data directory.
pub const MASTER_KEY_FILE: &str = "master.key";
/// File name of a new master key while a rotation is under way (see `key_rotation`).
pub const MASTER_KEY_NEXT_FILE: &str = "master.key.next";
/// File name of the generated admin token in the data directory.
pub const ADMIN_TOKEN_FILE: &str = "admin-token";
const VERSION: &str = "v1";

/// The 256-bit key that encrypts secrets at rest. `Debug` shows nothing of it.
#[derive(Clone)]
pub struct MasterKey(std::sync::Arc<SecretBox<[u8; 32]>>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

/// Why a secret cannot be read, stored or decrypted.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    /// The master key text is neither 64 hex digits nor base64 of 32 bytes.
    #[error("expected 64 hex digits or the base64 of 32 bytes")]
    BadMasterKey,
    /// A stored value is not `v1:<nonce>:<ciphertext>`.
    #[error("stored secret is not in the v1 format")]
    BadFormat,
    /// Authentication failed: another master key, another row or column, or tampering.
    #[error("stored secret does not decrypt with this master key for this row and column")]
    Decrypt,
    /// A key or token file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
}

impl MasterKey {
    /// Parses 64 hex digits or standard base64 of exactly 32 bytes (surrounding whitespace
    /// ignored).
    pub fn parse(text: &str) -> Result<MasterKey, SecretsError> {
        let text = text.trim();
        let bytes = if text.len() == 64 {
            hex::decode(text).map_err(|_| SecretsError::BadMasterKey)?
        } else {
            STANDARD
                .decode(text)
                .map_err(|_| SecretsError::BadMasterKey)?
        };
        let key: [u8; 32] = bytes.try_into().map_err(|_| SecretsError::BadMasterKey)?;
        Ok(MasterKey::from_bytes(key))
    }

    /// A new random key.
    pub fn generate() -> MasterKey {
        let mut key = [0_u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        MasterKey::from_bytes(key)
    }

    fn from_bytes(key: [u8; 32]) -> MasterKey {
        MasterKey(std::sync::Arc::new(SecretBox::new(Box::new(key))))
    }

    /// HMAC-SHA256 of `secret` under this key, for `purpose` (hex): a fingerprint that can be
    /// stored and compared without storing the secret, and that a copy of the database alone
    /// cannot be checked against.
    pub fn fingerprint(&self, purpose: &str, secret: &SecretString) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(self.0.expose_secret())
            .expect("HMAC takes a key of any length");
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(secret.expose_secret().as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// The key as 64 hex digits, for writing the key file.
    pub fn to_hex(&self) -> SecretString {
        SecretString::from(hex::encode(self.0.expose_secret()))
    }

    /// Reads `<dir>/master.key`, which must exist.
    pub fn load(dir: &Path) -> Result<MasterKey, SecretsError> {
        let path = dir.join(MASTER_KEY_FILE);
        let text = std::fs::read_to_string(&path).map_err(|source| SecretsError::File {
            path: path.clone(),
            source,
        })?;
        MasterKey::parse(&text)
    }

    /// Reads `<dir>/master.key.next`, the new key of a rotation under way, if there is one.
    pub fn load_next(dir: &Path) -> Result<Option<MasterKey>, SecretsError> {
        let path = dir.join(MASTER_KEY_NEXT_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => MasterKey::parse(&text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(SecretsError::File { path, source }),
        }
    }

    /// Creates `<dir>/master.key.next` (mode 0600, synced) with a new key.
    pub fn create_next(dir: &Path) -> Result<MasterKey, SecretsError> {
        let key = MasterKey::generate();
        write_private_file(
            &dir.join(MASTER_KEY_NEXT_FILE),
            key.to_hex().expose_secret(),
        )?;
        Ok(key)
    }

    /// Reads `<dir>/master.key`, or creates it (mode 0600) with a new key. The flag says
    /// whether it was created.
    pub fn load_or_create(dir: &Path) -> Result<(MasterKey, bool), SecretsError> {
        let path = dir.join(MASTER_KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok((MasterKey::parse(&text)?, false)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = MasterKey::generate();
                write_private_file(&path, key.to_hex().expose_secret())?;
                Ok((key, true))
            }
            Err(source) => Err(SecretsError::File { path, source }),
        }
    }
}

/// Reads `<dir>/admin-token`, or creates it (mode 0600) with a new random token. The flag
/// says whether it was created.
pub fn load_or_create_admin_token(dir: &Path) -> Result<(SecretString, bool), SecretsError> {
    let path = dir.join(ADMIN_TOKEN_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok((SecretString::from(text.trim().to_owned()), false)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let token = SecretString::from(format!("spa_{}", random_token(32)));
            write_private_file(&path, token.expose_secret())?;
            Ok((token, true))
        }
        Err(source) => Err(SecretsError::File { path, source }),
    }
}

/// Refuses to start while a master-key rotation is unfinished (`master.key.next` exists):
/// the database may already be under the new key. Running the rotation again finishes it.
pub fn check_no_rotation_pending(dir: &Path) -> Result<(), String> {
    let next = dir.join(MASTER_KEY_NEXT_FILE);
    if next.exists() {
        return Err(format!(
            "{} exists: a master-key rotation was interrupted; run `slotpay master-key rotate` \
             again to finish it",
            next.display()
        ));
    }
    Ok(())
}

/// Makes the new key of a rotation the master key: `master.key.next` renamed over
/// `master.key` (atomic), then the directory synced so the rename survives a crash.
pub fn promote_next(dir: &Path) -> Result<(), SecretsError> {
    let file_err = |path: PathBuf| move |source| SecretsError::File { path, source };
    let (next, key) = (dir.join(MASTER_KEY_NEXT_FILE), dir.join(MASTER_KEY_FILE));
    std::fs::rename(&next, &key).map_err(file_err(key.clone()))?;
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(file_err(dir.to_path_buf()))
}

/// `bytes` random bytes as unpadded URL-safe base64: ids and tokens.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0_u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Creates `path` readable by its owner only and writes `contents`; refuses to overwrite,
/// so two starting servers cannot replace each other's key.
fn write_private_file(path: &Path, contents: &str) -> Result<(), SecretsError> {
    let file_err = |source| SecretsError::File {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(file_err)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(file_err)?;
    file.write_all(contents.as_bytes()).map_err(file_err)?;
    file.write_all(b"\n").map_err(file_err)?;
    file.sync_all().map_err(file_err)
}

/// Where a ciphertext belongs: its table, row and column. It is the AEAD's associated data.
#[derive(Clone, Copy, Debug)]
pub struct Binding<'a> {
    /// Table name, e.g. `integrations`.
    pub table: &'a str,
    /// Row key, e.g. the merchant id.
    pub row: &'a str,
    /// Column name, e.g. `secret_key_enc`.
    pub column: &'a str,
}

impl Binding<'_> {
    fn aad(&self) -> Vec<u8> {
        format!(
            "slotpay/{VERSION}/{}/{}/{}",
            self.table, self.row, self.column
        )
        .into_bytes()
    }
}

/// Encrypts and decrypts secrets under the master key.
#[derive(Clone)]
pub struct Cipher {
    aead: Aes256Gcm,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cipher(..)")
    }
}

impl Cipher {
    /// A cipher under `key`.
    pub fn new(key: &MasterKey) -> Cipher {
        Cipher {
            aead: Aes256Gcm::new(key.0.expose_secret().into()),
        }
    }

    /// Encrypts `plaintext` for `binding`: `v1:<nonce>:<ciphertext>`.
    pub fn encrypt(&self, plaintext: &str, binding: Binding<'_>) -> String {
        let mut nonce = [0_u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let aad = binding.aad();
        let ciphertext = self
            .aead
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext.as_bytes(),
                    aad: &aad,
                },
            )
            .expect("AES-GCM encryption of a short message cannot fail");
        format!(
            "{VERSION}:{}:{}",
            STANDARD.encode(nonce),
            STANDARD.encode(ciphertext)
        )
    }

    /// Decrypts a value [`Cipher::encrypt`] made for the same `binding`.
    pub fn decrypt(
        &self,
        stored: &str,
        binding: Binding<'_>,
    ) -> Result<SecretString, SecretsError> {
        let mut parts = stored.split(':');
        let (Some(VERSION), Some(nonce), Some(ciphertext), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(SecretsError::BadFormat);
        };
        let nonce = STANDARD
            .decode(nonce)
            .map_err(|_| SecretsError::BadFormat)?;
        let ciphertext = STANDARD
            .decode(ciphertext)
            .map_err(|_| SecretsError::BadFormat)?;
        if nonce.len() != 12 {
            return Err(SecretsError::BadFormat);
        }
        let aad = binding.aad();
        let plain = self
            .aead
            .decrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| SecretsError::Decrypt)?;
        let text = String::from_utf8(plain).map_err(|_| SecretsError::Decrypt)?;
        Ok(SecretString::from(text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const B: Binding<'static> = Binding {
        table: "integrations",
        row: "mer_1",
        column: "secret_key_enc",
    };

    #[test]
    fn round_trip_with_a_fresh_nonce_each_time() {
        let cipher = Cipher::new(&MasterKey::generate());
        let a = cipher.encrypt("sk_test_abcdefgh12345678", B);
        let b = cipher.encrypt("sk_test_abcdefgh12345678", B);
        assert_ne!(a, b);
        assert!(a.starts_with("v1:") && !a.contains("abcdefgh"));
        assert_eq!(
            cipher.decrypt(&a, B).unwrap().expose_secret(),
            "sk_test_abcdefgh12345678"
        );
    }

    #[test]
    fn a_ciphertext_cannot_be_moved_or_altered() {
        let cipher = Cipher::new(&MasterKey::generate());
        let stored = cipher.encrypt("whsec_secret123456", B);
        let other_row = Binding { row: "mer_2", ..B };
        let other_column = Binding {
            column: "webhook_secret_enc",
            ..B
        };
        assert!(matches!(
            cipher.decrypt(&stored, other_row),
            Err(SecretsError::Decrypt)
        ));
        assert!(matches!(
            cipher.decrypt(&stored, other_column),
            Err(SecretsError::Decrypt)
        ));
        let other_key = Cipher::new(&MasterKey::generate());
        assert!(matches!(
            other_key.decrypt(&stored, B),
            Err(SecretsError::Decrypt)
        ));
        let mut tampered = stored.clone().into_bytes();
        let last = tampered.len() - 3;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(cipher.decrypt(&tampered, B).is_err());
        for bad in [
            "",
            "v1:",
            "v2:AAAA:AAAA",
            "v1:AAAA:AAAA",
            "v1:!!:AAAA",
            "v1:a:b:c",
        ] {
            assert!(
                matches!(cipher.decrypt(bad, B), Err(SecretsError::BadFormat)),
                "{bad}"
            );
        }
    }

    #[test]
    fn master_key_forms() {
        let hex_key = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let k = MasterKey::parse(hex_key).unwrap();
        assert_eq!(k.to_hex().expose_secret(), hex_key);
        let b64 = STANDARD.encode([7_u8; 32]);
        assert!(MasterKey::parse(&format!(" {b64}\n")).is_ok());
        for bad in ["", "abcd", &"g".repeat(64), &STANDARD.encode([1_u8; 31])] {
            assert!(MasterKey::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(format!("{k:?}"), "MasterKey(..)");
    }

    #[test]
    fn key_file_is_created_once_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let (k1, created) = MasterKey::load_or_create(dir.path()).unwrap();
        assert!(created);
        let (k2, created) = MasterKey::load_or_create(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(k1.to_hex().expose_secret(), k2.to_hex().expose_secret());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(MASTER_KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (t1, created) = load_or_create_admin_token(dir.path()).unwrap();
        assert!(created && t1.expose_secret().len() > 40);
        let (t2, _) = load_or_create_admin_token(dir.path()).unwrap();
        assert_eq!(t1.expose_secret(), t2.expose_secret());
    }
}
