//! CloudTrail digest files: their documented fields, and the string each
//! one's signature is computed over.

use serde::Deserialize;

/// One digest file's content (the fields trailwatch checks; the others
/// are ignored). Field names and types as AWS documents them in "CloudTrail
/// digest file structure".
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Digest {
    /// The account the digest is for.
    pub aws_account_id: String,
    /// Start of the delivery window it covers (RFC 3339).
    pub digest_start_time: String,
    /// End of the delivery window it covers (RFC 3339).
    pub digest_end_time: String,
    /// The bucket it was delivered to.
    pub digest_s3_bucket: String,
    /// Its key in that bucket.
    pub digest_s3_object: String,
    /// Hex fingerprint of the public key whose private key signed it.
    pub digest_public_key_fingerprint: String,
    /// `SHA256withRSA`.
    pub digest_signature_algorithm: String,
    /// The previous digest's bucket (null in a trail's first digest).
    #[serde(default)]
    pub previous_digest_s3_bucket: Option<String>,
    /// The previous digest's key (null in a trail's first digest).
    #[serde(default)]
    pub previous_digest_s3_object: Option<String>,
    /// Hex SHA-256 of the previous digest's uncompressed content.
    #[serde(default)]
    pub previous_digest_hash_value: Option<String>,
    /// `SHA-256`.
    #[serde(default)]
    pub previous_digest_hash_algorithm: Option<String>,
    /// Hex signature of the previous digest.
    #[serde(default)]
    pub previous_digest_signature: Option<String>,
    /// The log files delivered in the window (empty when none was).
    #[serde(default)]
    pub log_files: Vec<LogFile>,
}

/// One log file listed in a digest.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LogFile {
    /// Its bucket.
    pub s3_bucket: String,
    /// Its key.
    pub s3_object: String,
    /// Hex SHA-256 of its uncompressed content.
    pub hash_value: String,
    /// `SHA-256`.
    pub hash_algorithm: String,
}

impl Digest {
    /// Parse a digest's uncompressed content.
    pub fn parse(content: &[u8]) -> Result<Digest, serde_json::Error> {
        serde_json::from_slice(content)
    }

    /// The string CloudTrail signs for this digest ("custom implementation
    /// of log file integrity validation"): the end time, `bucket/key`, the
    /// hex SHA-256 of the uncompressed digest and the previous digest's hex
    /// signature (`null` in a trail's first digest), one per line.
    pub fn signing_string(&self, content_sha256_hex: &str) -> String {
        format!(
            "{}\n{}/{}\n{}\n{}",
            self.digest_end_time,
            self.digest_s3_bucket,
            self.digest_s3_object,
            content_sha256_hex,
            self.previous_digest_signature.as_deref().unwrap_or("null")
        )
    }
}

pub(crate) use crate::source::hash::hex;

/// The bytes of a hex string (either case), or `None` if it is not one.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim().as_bytes();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    s.chunks(2).map(|p| Some(digit(p[0])? << 4 | digit(p[1])?)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example in AWS's "CloudTrail digest file structure", with the
    /// documented field names and types.
    const DOCUMENTED: &str = r#"{
      "awsAccountId": "111122223333",
      "digestStartTime": "2015-08-17T14:01:31Z",
      "digestEndTime": "2015-08-17T15:01:31Z",
      "digestS3Bucket": "amzn-s3-demo-bucket",
      "digestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz",
      "digestPublicKeyFingerprint": "31e8b5433410dfb61a9dc45cc65b22ff",
      "digestSignatureAlgorithm": "SHA256withRSA",
      "newestEventTime": "2015-08-17T14:52:27Z",
      "oldestEventTime": "2015-08-17T14:42:27Z",
      "previousDigestS3Bucket": "amzn-s3-demo-bucket",
      "previousDigestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T140131Z.json.gz",
      "previousDigestHashValue": "97fb791cf91ffc440d274f8190dbdd9aa09c34432aba82739df18b6d3c13df2d",
      "previousDigestHashAlgorithm": "SHA-256",
      "previousDigestSignature": "50887ccffad4c002b97caa37cc9dc626e3c680207d41d27fa5835458e066e0d3652fc4dfc30937e4d5f4cc7f796e7a258fb50a43ba8ad6ba9e7f25ef6d2a6e5e0a0d3c2a8b7e7b6b1e9da4a2ae03b8e3e6f8d95c26b5e2d34ad8a67f87b6c5ecf0d05fc7c4e0ccdb8a7bfa8e01d89c7a30c6cae07ddaf5dd11eb1a2c6a1ad5ee6b3f2c3a4b5",
      "logFiles": [
        {
          "s3Bucket": "amzn-s3-demo-bucket",
          "s3Object": "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/111122223333_CloudTrail_us-east-2_20150817T1445Z_9nYN7gp2eWAJHIfT.json.gz",
          "hashValue": "9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6",
          "hashAlgorithm": "SHA-256",
          "newestEventTime": "2015-08-17T14:52:27Z",
          "oldestEventTime": "2015-08-17T14:42:27Z"
        }
      ]
    }"#;

    #[test]
    fn the_documented_example_parses_and_signs_over_the_documented_string() {
        let d = Digest::parse(DOCUMENTED.as_bytes()).unwrap();
        assert_eq!(d.aws_account_id, "111122223333");
        assert_eq!(d.log_files.len(), 1);
        assert_eq!(d.log_files[0].hash_algorithm, "SHA-256");
        assert_eq!(d.previous_digest_hash_algorithm.as_deref(), Some("SHA-256"));
        let s = d.signing_string("abc123");
        let lines: Vec<&str> = s.split('\n').collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "2015-08-17T15:01:31Z");
        assert_eq!(lines[1], format!("amzn-s3-demo-bucket/{}", d.digest_s3_object));
        assert_eq!(lines[2], "abc123");
        assert_eq!(lines[3], d.previous_digest_signature.as_deref().unwrap());
    }

    #[test]
    fn a_first_digest_signs_null_for_the_previous_signature() {
        let first = DOCUMENTED
            .replace(r#""previousDigestS3Bucket": "amzn-s3-demo-bucket","#, r#""previousDigestS3Bucket": null,"#)
            .replace(r#""previousDigestSignature": "50887c"#, r#""previousDigestSignatureWas": "50887c"#);
        let d = Digest::parse(first.as_bytes()).unwrap();
        assert_eq!(d.previous_digest_s3_bucket, None);
        assert!(d.signing_string("h").ends_with("\nh\nnull"));
    }

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_hex() {
        assert_eq!(hex(&[0, 0xab, 0xff]), "00abff");
        assert_eq!(unhex("00ABff"), Some(vec![0, 0xab, 0xff]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
    }
}
