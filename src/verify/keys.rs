//! The public keys digests are signed with, as `aws cloudtrail
//! list-public-keys` prints them, and the check of one signature.

use std::collections::BTreeMap;

use base64::Engine as _;
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::{Pkcs1v15Sign, RsaPublicKey};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use super::digest::unhex;

/// Public keys by their hex fingerprint.
#[derive(Clone, Debug, Default)]
pub struct PublicKeys {
    keys: BTreeMap<String, RsaPublicKey>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Listed {
    public_key_list: Vec<ListedKey>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListedKey {
    /// Base64 of the DER-encoded PKCS#1 RSAPublicKey.
    value: String,
    fingerprint: String,
}

/// Why a signature could not be checked, or did not verify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureProblem {
    /// No key with the digest's fingerprint was given.
    KeyNotFound(String),
    /// The signature is not hex.
    NotHex,
    /// The signature does not verify with the key.
    Mismatch,
}

impl std::fmt::Display for SignatureProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignatureProblem::KeyNotFound(fp) => write!(f, "public key not found for fingerprint {fp}"),
            SignatureProblem::NotHex => f.write_str("the signature is not hex"),
            SignatureProblem::Mismatch => f.write_str("signature verification failed"),
        }
    }
}

impl PublicKeys {
    /// Read the JSON output of `aws cloudtrail list-public-keys` (several
    /// outputs may be concatenated by the caller into several calls).
    pub fn parse(text: &str) -> Result<PublicKeys, String> {
        let listed: Listed = serde_json::from_str(text).map_err(|e| format!("not list-public-keys output: {e}"))?;
        let mut keys = PublicKeys::default();
        for k in listed.public_key_list {
            let der = base64::engine::general_purpose::STANDARD
                .decode(k.value.trim())
                .map_err(|e| format!("key {}: Value is not base64: {e}", k.fingerprint))?;
            let key = RsaPublicKey::from_pkcs1_der(&der)
                .map_err(|e| format!("key {}: Value is not a DER PKCS#1 RSA public key: {e}", k.fingerprint))?;
            keys.keys.insert(k.fingerprint.to_ascii_lowercase(), key);
        }
        Ok(keys)
    }

    /// Add the keys of `other`.
    pub fn extend(&mut self, other: PublicKeys) {
        self.keys.extend(other.keys);
    }

    /// Whether no key was given.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Check `signature_hex` over `signing_string` (SHA-256, RSA PKCS#1
    /// v1.5) with the key of `fingerprint`.
    pub fn verify(&self, fingerprint: &str, signing_string: &str, signature_hex: &str) -> Result<(), SignatureProblem> {
        let key = self
            .keys
            .get(&fingerprint.to_ascii_lowercase())
            .ok_or_else(|| SignatureProblem::KeyNotFound(fingerprint.to_string()))?;
        let signature = unhex(signature_hex).ok_or(SignatureProblem::NotHex)?;
        let hashed = Sha256::digest(signing_string.as_bytes());
        key.verify(Pkcs1v15Sign::new::<Sha256>(), &hashed, &signature).map_err(|_| SignatureProblem::Mismatch)
    }
}

/// The signature in the output of `aws s3api head-object` for a digest
/// (`Metadata.signature`), or the hex signature itself.
pub fn signature_of_head_object(text: &str) -> Result<String, String> {
    let t = text.trim();
    if unhex(t).is_some() {
        return Ok(t.to_string());
    }
    let v: serde_json::Value =
        serde_json::from_str(t).map_err(|e| format!("neither a hex signature nor head-object output: {e}"))?;
    v.get("Metadata")
        .and_then(|m| m.get("signature"))
        .and_then(|s| s.as_str())
        .map(str::to_string)
        .ok_or_else(|| "head-object output without Metadata.signature".to_string())
}
