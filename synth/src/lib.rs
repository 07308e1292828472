//! A seeded, deterministic generator of realistic CloudTrail archives in the
//! real S3 layout, with the answer known by construction.
//!
//! Each record is drawn as *matching* the CIS unauthorized-API-calls filter
//! (an errorCode ending in `UnauthorizedOperation` or starting with
//! `AccessDenied`), a *near miss* (`VpceAccessDenied`, `accessdenied`, an
//! empty errorCode, `Client.DryRunOperation`, ...) or ordinary. The generator
//! decides that class itself, so the expected 5-minute windows it writes to
//! the manifest come from construction, not from trailwatch's evaluator.
//!
//! Used for `testdata/`, for the integration tests' known-answer corpora and
//! for the ≥ 1 GB benchmark corpus (`trailwatch-gen`).
//!
//! The file runs past 600 lines only because its tests, which specify
//! it, sit beside the code.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use flate2::write::GzEncoder;
use flate2::{Compression, GzBuilder};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use trailwatch::record::time::format_rfc3339;
use trailwatch::record::EpochMs;

/// A small, fast, seedable PRNG (SplitMix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A random element.
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len() as u64) as usize]
    }

    fn alnum(&mut self, n: usize) -> String {
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..n).map(|_| *self.pick(A) as char).collect()
    }

    fn hex(&mut self, n: usize) -> String {
        const H: &[u8] = b"0123456789abcdef";
        (0..n).map(|_| *self.pick(H) as char).collect()
    }

    fn uuid(&mut self) -> String {
        format!("{}-{}-{}-{}-{}", self.hex(8), self.hex(4), self.hex(4), self.hex(4), self.hex(12))
    }
}

/// How to generate.
#[derive(Clone, Debug)]
pub struct Config {
    /// Seed.
    pub seed: u64,
    /// Records to write.
    pub records: u64,
    /// First instant.
    pub start: EpochMs,
    /// Length of the covered period.
    pub duration_ms: i64,
    /// Accounts (12-digit IDs are derived from the seed).
    pub accounts: usize,
    /// Regions used.
    pub regions: usize,
    /// Share of records matching the CIS unauthorized-API-calls filter.
    pub match_rate: f64,
    /// Share of near misses.
    pub near_miss_rate: f64,
    /// Write digest files (to be skipped by scans).
    pub digests: bool,
    /// Write a few oddities: an Insights file, a non-trail file, matching
    /// records with unusable eventTime.
    pub oddities: bool,
    /// Put the first account under an organization-trail prefix.
    pub organization: bool,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            seed: 1,
            records: 2400,
            start: 1_688_947_200_000, // 2023-07-10T00:00:00Z
            duration_ms: 4 * 3_600_000,
            accounts: 2,
            regions: 2,
            match_rate: 0.02,
            near_miss_rate: 0.01,
            digests: true,
            oddities: true,
            organization: true,
        }
    }
}

/// The known answer, written as `manifest.json` beside the archive.
#[derive(Clone, Debug, Default, Serialize, serde::Deserialize, PartialEq)]
pub struct Manifest {
    /// Seed used.
    pub seed: u64,
    /// Records written (all files).
    pub records: u64,
    /// Trail log files written.
    pub log_files: u64,
    /// Digest files written.
    pub digest_files: u64,
    /// Insights files written.
    pub insight_files: u64,
    /// Files that are not trail logs.
    pub other_files: u64,
    /// Records that match the CIS unauthorized-API-calls filter.
    pub matches: u64,
    /// Of those, records whose eventTime cannot be placed.
    pub matches_without_time: u64,
    /// Near misses written.
    pub near_misses: u64,
    /// Matching records per 5-minute window start (RFC 3339), placed ones.
    pub windows_5m: BTreeMap<String, u64>,
    /// Matching records per minute start (RFC 3339).
    pub minutes: BTreeMap<String, u64>,
    /// Matching records by eventName, placed or not.
    #[serde(default)]
    pub matches_by_event_name: BTreeMap<String, u64>,
    /// Placed matching records per 5-minute window start, by
    /// sourceIPAddress.
    #[serde(default)]
    pub source_ips_5m: BTreeMap<String, BTreeMap<String, u64>>,
    /// Records whose eventName is each CIS-monitored API (by construction).
    pub monitored_calls: BTreeMap<String, u64>,
    /// The signature of each trail's newest digest (by digest file name),
    /// which CloudTrail keeps in the digest's S3 object metadata: no later
    /// digest carries it.
    #[serde(default)]
    pub newest_digest_signatures: BTreeMap<String, String>,
}

/// The key the generator signs digests with: a test key, published here on
/// purpose, never to be trusted for anything else.
const TEST_SIGNING_KEY: &str = include_str!("test-signing-key.pem");

/// The fingerprint the generator's digests name (MD5 of the DER public key,
/// as `openssl md5` prints it).
pub const TEST_KEY_FINGERPRINT: &str = "586fb0f6b4ccc829d0a770094e03e57d";

fn signing_key() -> rsa::RsaPrivateKey {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    rsa::RsaPrivateKey::from_pkcs1_pem(TEST_SIGNING_KEY).expect("the test key parses")
}

/// The test key's public half as `aws cloudtrail list-public-keys` prints
/// it (`testdata/public-keys.json`).
pub fn test_public_keys_json() -> String {
    use base64::Engine as _;
    use rsa::pkcs1::EncodeRsaPublicKey;
    let der = rsa::RsaPublicKey::from(&signing_key()).to_pkcs1_der().expect("DER");
    let value = base64::engine::general_purpose::STANDARD.encode(der.as_bytes());
    let doc = json!({"PublicKeyList": [{
        "Value": value,
        "ValidityStartTime": "2015-01-01T00:00:00+00:00",
        "ValidityEndTime": "2099-01-01T00:00:00+00:00",
        "Fingerprint": TEST_KEY_FINGERPRINT,
    }]});
    serde_json::to_string_pretty(&doc).expect("JSON") + "\n"
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

const REGIONS: &[&str] = &["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1"];

/// Error codes that match `*UnauthorizedOperation` or `AccessDenied*`.
pub const MATCHING_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDenied",
    "AccessDeniedException",
    "Client.UnauthorizedOperation",
    "Client.UnauthorizedOperation",
    "UnauthorizedOperation",
    "AccessDeniedException",
];

/// Near misses: similar-looking error codes the filter must not match.
pub const NEAR_MISS_CODES: &[&str] = &[
    "VpceAccessDenied",
    "accessdenied",
    "",
    "Client.DryRunOperation",
    "UnauthorizedOperationException",
    "ACCESSDENIED",
    "NotAccessDenied",
    "Client.UnauthorizedAccess",
];

const ORDINARY_ERRORS: &[&str] = &[
    "ThrottlingException",
    "NoSuchKey",
    "ResourceNotFoundException",
    "Client.InvalidParameterValue",
    "NoSuchBucketPolicy",
];

struct Api {
    source: &'static str,
    name: &'static str,
    read_only: bool,
}

const fn api(source: &'static str, name: &'static str, read_only: bool) -> Api {
    Api { source, name, read_only }
}

/// Everyday API calls.
const APIS: &[Api] = &[
    api("ec2.amazonaws.com", "DescribeInstances", true),
    api("ec2.amazonaws.com", "DescribeSecurityGroups", true),
    api("ec2.amazonaws.com", "DescribeVolumes", true),
    api("ec2.amazonaws.com", "GetPasswordData", true),
    api("ec2.amazonaws.com", "DescribeInstanceAttribute", true),
    api("ec2.amazonaws.com", "RunInstances", false),
    api("s3.amazonaws.com", "GetObject", true),
    api("s3.amazonaws.com", "PutObject", false),
    api("s3.amazonaws.com", "ListBuckets", true),
    api("s3.amazonaws.com", "HeadBucket", true),
    api("s3.amazonaws.com", "GetBucketAcl", true),
    api("iam.amazonaws.com", "ListUsers", true),
    api("iam.amazonaws.com", "GetRole", true),
    api("iam.amazonaws.com", "ListAttachedRolePolicies", true),
    api("sts.amazonaws.com", "AssumeRole", true),
    api("sts.amazonaws.com", "GetCallerIdentity", true),
    api("kms.amazonaws.com", "Decrypt", true),
    api("kms.amazonaws.com", "GenerateDataKey", true),
    api("lambda.amazonaws.com", "ListFunctions20150331", true),
    api("lambda.amazonaws.com", "Invoke", false),
    api("logs.amazonaws.com", "CreateLogStream", false),
    api("logs.amazonaws.com", "DescribeLogGroups", true),
    api("dynamodb.amazonaws.com", "DescribeTable", true),
    api("rds.amazonaws.com", "DescribeDBInstances", true),
    api("secretsmanager.amazonaws.com", "GetSecretValue", true),
    api("ssm.amazonaws.com", "GetParameter", true),
    api("cloudtrail.amazonaws.com", "LookupEvents", true),
    api("ce.amazonaws.com", "GetCostAndUsage", true),
    api("organizations.amazonaws.com", "DescribeOrganization", true),
    api("config.amazonaws.com", "DescribeConfigRules", true),
];

/// API calls the CIS monitoring controls watch (eventSource, eventName).
pub const MONITORED: &[(&str, &str)] = &[
    ("iam.amazonaws.com", "PutRolePolicy"),
    ("iam.amazonaws.com", "AttachUserPolicy"),
    ("iam.amazonaws.com", "CreatePolicyVersion"),
    ("cloudtrail.amazonaws.com", "StopLogging"),
    ("cloudtrail.amazonaws.com", "UpdateTrail"),
    ("kms.amazonaws.com", "DisableKey"),
    ("kms.amazonaws.com", "ScheduleKeyDeletion"),
    ("s3.amazonaws.com", "PutBucketPolicy"),
    ("s3.amazonaws.com", "DeleteBucketCors"),
    ("config.amazonaws.com", "StopConfigurationRecorder"),
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
    ("ec2.amazonaws.com", "ModifySecurityGroupRules"),
    ("ec2.amazonaws.com", "CreateNetworkAclEntry"),
    ("ec2.amazonaws.com", "AttachInternetGateway"),
    ("ec2.amazonaws.com", "CreateRoute"),
    ("ec2.amazonaws.com", "CreateVpc"),
    ("organizations.amazonaws.com", "LeaveOrganization"),
    ("organizations.amazonaws.com", "InviteAccountToOrganization"),
];

const USER_AGENTS: &[&str] = &[
    "aws-cli/2.13.5 Python/3.11.4 Linux/6.1.0 exe/x86_64.debian.12 prompt/off command/ec2.describe-instances",
    "Boto3/1.28.10 md/Botocore#1.31.10 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.4",
    "aws-sdk-go/1.44.300 (go1.20.6; linux; amd64)",
    "console.amazonaws.com",
    "AWS Internal",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/115.0 Safari/537.36",
    "terraform-provider-aws/5.10.0 (+https://registry.terraform.io) aws-sdk-go-v2/1.19.0",
];

/// What a generated record was made to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Match,
    NearMiss,
    Ordinary,
}

struct Gen {
    rng: Rng,
    accounts: Vec<String>,
}

impl Gen {
    fn identity(&mut self, account: &str) -> Value {
        // Per mille: 350 IAM users, 550 assumed roles, 98 AWS services and
        // 2 root sessions (root use is rare in a real account).
        match self.rng.below(1000) {
            0..=349 => {
                let user = self.rng.pick(&["alice", "bob", "carol", "ci-deploy", "bert-jan", "svc-backup"]).to_string();
                json!({"type":"IAMUser","principalId":format!("AIDA{}", self.rng.alnum(17).to_uppercase()),
                       "arn":format!("arn:aws:iam::{account}:user/{user}"),"accountId":account,
                       "accessKeyId":format!("AKIA{}", self.rng.alnum(16).to_uppercase()),"userName":user})
            }
            350..=899 => {
                let role = self
                    .rng
                    .pick(&["Admin", "ReadOnly", "lambda-exec", "ecs-task", "stratus-red-team-role"])
                    .to_string();
                let session = self.rng.alnum(12);
                json!({"type":"AssumedRole","principalId":format!("AROA{}:{session}", self.rng.alnum(17).to_uppercase()),
                       "arn":format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),"accountId":account,
                       "accessKeyId":format!("ASIA{}", self.rng.alnum(16).to_uppercase()),
                       "sessionContext":{"sessionIssuer":{"type":"Role","principalId":format!("AROA{}", self.rng.alnum(17).to_uppercase()),
                         "arn":format!("arn:aws:iam::{account}:role/{role}"),"accountId":account,"userName":role},
                         "attributes":{"creationDate":"2023-07-10T00:00:00Z","mfaAuthenticated":"false"}}})
            }
            900..=997 => {
                json!({"type":"AWSService","invokedBy":self.rng.pick(&["cloudtrail.amazonaws.com","config.amazonaws.com","elasticloadbalancing.amazonaws.com"])})
            }
            _ => {
                json!({"type":"Root","principalId":account,"arn":format!("arn:aws:iam::{account}:root"),"accountId":account,
                        "accessKeyId":format!("ASIA{}", self.rng.alnum(16).to_uppercase())})
            }
        }
    }

    fn record(
        &mut self,
        time: EpochMs,
        account: &str,
        region: &str,
        class: Class,
        monitored: Option<(&str, &str)>,
    ) -> Value {
        let (source, name, read_only) = match monitored {
            Some((s, n)) => (s, n, false),
            None => {
                let a = self.rng.pick(APIS);
                (a.source, a.name, a.read_only)
            }
        };
        let mut r = json!({
            "eventVersion": "1.08",
            "userIdentity": self.identity(account),
            "eventTime": format_rfc3339(time - time.rem_euclid(1000)),
            "eventSource": source,
            "eventName": name,
            "awsRegion": region,
            "sourceIPAddress": format!("{}.{}.{}.{}", 10 + self.rng.below(190), self.rng.below(256), self.rng.below(256), 1 + self.rng.below(254)),
            "userAgent": *self.rng.pick(USER_AGENTS),
            "requestParameters": self.request_parameters(name),
            "responseElements": null,
            "requestID": self.rng.uuid(),
            "eventID": self.rng.uuid(),
            "readOnly": read_only,
            "eventType": "AwsApiCall",
            "managementEvent": true,
            "recipientAccountId": account,
            "eventCategory": "Management",
            "tlsDetails": {"tlsVersion":"TLSv1.2","cipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","clientProvidedHostHeader":format!("{}.{region}.amazonaws.com", source.trim_end_matches(".amazonaws.com"))}
        });
        let code = match class {
            Class::Match => Some(*self.rng.pick(MATCHING_CODES)),
            Class::NearMiss => Some(*self.rng.pick(NEAR_MISS_CODES)),
            Class::Ordinary if self.rng.below(40) == 0 => Some(*self.rng.pick(ORDINARY_ERRORS)),
            Class::Ordinary => None,
        };
        if let Some(code) = code {
            r["errorCode"] = json!(code);
            r["errorMessage"] = json!(format!(
                "User: {} is not authorized to perform: {}:{} because no identity-based policy allows the action",
                r["userIdentity"]["arn"].as_str().unwrap_or("unknown"),
                source.trim_end_matches(".amazonaws.com"),
                name
            ));
        } else if !read_only {
            r["responseElements"] = json!({"requestId": self.rng.uuid(), "return": true});
        }
        r
    }

    fn request_parameters(&mut self, name: &str) -> Value {
        match name {
            "GetObject" | "PutObject" | "HeadBucket" | "GetBucketAcl" | "PutBucketPolicy" | "DeleteBucketCors" => {
                json!({"bucketName": format!("corp-{}-data", self.rng.alnum(6).to_lowercase()), "Host": "s3.amazonaws.com", "key": format!("reports/{}.csv", self.rng.alnum(10))})
            }
            "DescribeInstances" | "GetPasswordData" | "DescribeInstanceAttribute" | "RunInstances" => {
                json!({"instancesSet": {"items": [{"instanceId": format!("i-{}", self.rng.hex(17))}]}, "filterSet": {}})
            }
            "AssumeRole" => {
                json!({"roleArn": format!("arn:aws:iam::{}:role/Admin", self.accounts[0]), "roleSessionName": self.rng.alnum(10), "durationSeconds": 3600})
            }
            "PutRolePolicy" | "AttachUserPolicy" | "CreatePolicyVersion" => {
                json!({"policyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"*\",\"Resource\":\"*\"}]}", "roleName": "Admin"})
            }
            _ => json!({"maxResults": 100, "nextToken": null}),
        }
    }
}

/// The S3 key prefix of an account's trail.
fn account_prefix(cfg: &Config, accounts: &[String], i: usize) -> String {
    if cfg.organization && i == 0 {
        format!("AWSLogs/o-{}/{}", Rng::new(cfg.seed).alnum(10).to_lowercase(), accounts[i])
    } else {
        format!("AWSLogs/{}", accounts[i])
    }
}

fn date_path(ms: EpochMs) -> (String, String) {
    let iso = format_rfc3339(ms);
    let date = format!("{}/{}/{}", &iso[0..4], &iso[5..7], &iso[8..10]);
    let stamp = format!("{}{}{}T{}{}Z", &iso[0..4], &iso[5..7], &iso[8..10], &iso[11..13], &iso[14..16]);
    (date, stamp)
}

fn gzip(data: &[u8]) -> io::Result<Vec<u8>> {
    let mut e: GzEncoder<Vec<u8>> = GzBuilder::new().mtime(0).write(Vec::new(), Compression::new(6));
    e.write_all(data)?;
    e.finish()
}

fn write_file(root: &Path, rel: &str, data: &[u8]) -> io::Result<()> {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent)?;
    }
    fs::write(path, data)
}

/// Generate an archive under `root` and return its manifest (also written
/// to `root/manifest.json`).
pub fn generate(cfg: &Config, root: &Path) -> io::Result<Manifest> {
    let mut rng = Rng::new(cfg.seed);
    let accounts: Vec<String> =
        (0..cfg.accounts.max(1)).map(|_| format!("{:012}", rng.below(1_000_000_000_000))).collect();
    let regions: Vec<&str> = REGIONS.iter().take(cfg.regions.clamp(1, REGIONS.len())).copied().collect();
    let mut gen = Gen { rng: Rng::new(cfg.seed.wrapping_mul(31).wrapping_add(7)), accounts: accounts.clone() };
    let mut manifest = Manifest { seed: cfg.seed, ..Manifest::default() };

    // Bursts of matching activity (attack simulations), plus a trickle.
    let bursts: Vec<EpochMs> = (0..(cfg.records / 800).max(2))
        .map(|_| cfg.start + gen.rng.below(cfg.duration_ms.max(1) as u64) as i64)
        .collect();

    // files: (account index, region, delivery slot) -> records
    let mut files: BTreeMap<(usize, usize, i64), Vec<(EpochMs, String)>> = BTreeMap::new();
    let odd_times = if cfg.oddities { 2 } else { 0 };
    for _ in 0..cfg.records {
        let roll = gen.rng.unit();
        let class = if roll < cfg.match_rate {
            Class::Match
        } else if roll < cfg.match_rate + cfg.near_miss_rate {
            Class::NearMiss
        } else {
            Class::Ordinary
        };
        let time = if class == Class::Match && gen.rng.below(10) != 0 {
            let b = *gen.rng.pick(&bursts);
            (b + gen.rng.below(600_000) as i64).min(cfg.start + cfg.duration_ms - 1)
        } else {
            cfg.start + gen.rng.below(cfg.duration_ms.max(1) as u64) as i64
        };
        let time = time - time.rem_euclid(1000);
        let acct = gen.rng.below(accounts.len() as u64) as usize;
        let region = gen.rng.below(regions.len() as u64) as usize;
        let monitored = (class == Class::Ordinary && gen.rng.below(200) == 0).then(|| *gen.rng.pick(MONITORED));
        let mut rec = gen.record(time, &accounts[acct], regions[region], class, monitored);
        if let Some((_, name)) = monitored {
            *manifest.monitored_calls.entry(name.to_string()).or_default() += 1;
        }
        let unplaced = class == Class::Match && manifest.matches_without_time < odd_times;
        if unplaced {
            // A matching record whose time cannot be placed.
            if manifest.matches_without_time == 0 {
                rec.as_object_mut().expect("object").remove("eventTime");
            } else {
                rec["eventTime"] = json!("2023-07-10 10:00:00");
            }
            manifest.matches_without_time += 1;
        }
        match class {
            Class::Match => {
                manifest.matches += 1;
                let name = rec["eventName"].as_str().unwrap_or_default().to_string();
                *manifest.matches_by_event_name.entry(name).or_default() += 1;
                if !unplaced {
                    let window = format_rfc3339(time - time.rem_euclid(300_000));
                    let ip = rec["sourceIPAddress"].as_str().unwrap_or_default().to_string();
                    *manifest.source_ips_5m.entry(window.clone()).or_default().entry(ip).or_default() += 1;
                    *manifest.windows_5m.entry(window).or_default() += 1;
                    *manifest.minutes.entry(format_rfc3339(time - time.rem_euclid(60_000))).or_default() += 1;
                }
            }
            Class::NearMiss => manifest.near_misses += 1,
            Class::Ordinary => {}
        }
        // CloudTrail delivers about every 5 minutes; some records slip into
        // the next object.
        let slot = (time.div_euclid(300_000) + i64::from(gen.rng.below(8) == 0)) * 300_000;
        files.entry((acct, region, slot)).or_default().push((time, serde_json::to_string(&rec).expect("json")));
    }
    manifest.records = cfg.records;

    let mut digests: BTreeMap<(usize, usize, i64), Vec<(String, String)>> = BTreeMap::new();
    for ((acct, region, slot), mut recs) in files {
        // Not in time order inside a file, like real CloudTrail objects.
        let n = recs.len();
        for k in 0..n / 3 {
            let a = gen.rng.below(n as u64) as usize;
            recs.swap(k, a);
        }
        let delivered = slot + 300_000 + gen.rng.below(5) as i64 * 60_000;
        let (date, stamp) = date_path(delivered);
        let region_name = regions[region];
        let key = format!(
            "{}/CloudTrail/{region_name}/{date}/{}_CloudTrail_{region_name}_{stamp}_{}.json.gz",
            account_prefix(cfg, &accounts, acct),
            accounts[acct],
            gen.rng.alnum(16)
        );
        let mut body = String::from("{\"Records\":[");
        for (i, (_, r)) in recs.iter().enumerate() {
            if i > 0 {
                body.push(',');
            }
            body.push_str(r);
        }
        body.push_str("]}");
        write_file(root, &key, &gzip(body.as_bytes())?)?;
        manifest.log_files += 1;
        let sha = hex(&Sha256::digest(body.as_bytes()));
        digests.entry((acct, region, delivered.div_euclid(3_600_000))).or_default().push((key, sha));
    }

    if cfg.digests {
        // Every hour from each account and region's first delivery to its
        // last has a digest, empty or not, chained to the one before and
        // signed over CloudTrail's signing string.
        let key = signing_key();
        let mut spans: BTreeMap<(usize, usize), (i64, i64)> = BTreeMap::new();
        for &(acct, region, hour) in digests.keys() {
            let span = spans.entry((acct, region)).or_insert((hour, hour));
            span.1 = span.1.max(hour);
        }
        for ((acct, region), (first, last)) in spans {
            let mut previous: Option<(String, String, String)> = None;
            for hour in first..=last {
                let files = digests.get(&(acct, region, hour)).cloned().unwrap_or_default();
                let end = (hour + 1) * 3_600_000;
                let iso = format_rfc3339(end);
                let stamp = format!(
                    "{}{}{}T{}{}{}Z",
                    &iso[0..4],
                    &iso[5..7],
                    &iso[8..10],
                    &iso[11..13],
                    &iso[14..16],
                    &iso[17..19]
                );
                let region_name = regions[region];
                let object = format!(
                    "{}/CloudTrail-Digest/{region_name}/{}/{}_CloudTrail-Digest_{region_name}_trail_{region_name}_{stamp}.json.gz",
                    account_prefix(cfg, &accounts, acct),
                    date_path(end).0,
                    accounts[acct]
                );
                let (prev_object, prev_hash, prev_signature) = match &previous {
                    Some((o, h, sig)) => (json!(o), json!(h), json!(sig)),
                    None => (Value::Null, Value::Null, Value::Null),
                };
                let doc = json!({
                    "awsAccountId": accounts[acct],
                    "digestStartTime": format_rfc3339(end - 3_600_000),
                    "digestEndTime": iso,
                    "digestS3Bucket": "trail-bucket",
                    "digestS3Object": object,
                    "digestPublicKeyFingerprint": TEST_KEY_FINGERPRINT,
                    "digestSignatureAlgorithm": "SHA256withRSA",
                    "previousDigestS3Bucket": if previous.is_some() { json!("trail-bucket") } else { Value::Null },
                    "previousDigestS3Object": prev_object,
                    "previousDigestHashValue": prev_hash,
                    "previousDigestHashAlgorithm": if previous.is_some() { json!("SHA-256") } else { Value::Null },
                    "previousDigestSignature": prev_signature,
                    "logFiles": files.iter().map(|(k, h)| json!({"s3Bucket":"trail-bucket","s3Object":k,"hashValue":h,"hashAlgorithm":"SHA-256"})).collect::<Vec<_>>(),
                });
                let content = doc.to_string();
                let content_hash = hex(&Sha256::digest(content.as_bytes()));
                let previous_signature = previous.as_ref().map_or("null", |p| p.2.as_str());
                let signed = format!("{iso}\ntrail-bucket/{object}\n{content_hash}\n{previous_signature}");
                let signature = key
                    .sign(rsa::Pkcs1v15Sign::new::<Sha256>(), &Sha256::digest(signed.as_bytes()))
                    .expect("RSA signature");
                write_file(root, &object, &gzip(content.as_bytes())?)?;
                manifest.digest_files += 1;
                previous = Some((object, content_hash, hex(&signature)));
            }
            if let Some((object, _, signature)) = previous {
                let name = object.rsplit('/').next().expect("a name").to_string();
                manifest.newest_digest_signatures.insert(name, signature);
            }
        }
    }

    if cfg.oddities {
        let acct = &accounts[0];
        let (date, stamp) = date_path(cfg.start + 3_600_000);
        let key = format!(
            "{}/CloudTrail-Insight/{}/{date}/{acct}_CloudTrail-Insight_{}_{stamp}_{}.json.gz",
            account_prefix(cfg, &accounts, 0),
            regions[0],
            regions[0],
            gen.rng.alnum(16)
        );
        let insight = json!({"Records":[{"eventVersion":"1.08","eventTime":format_rfc3339(cfg.start + 1_800_000),"awsRegion":regions[0],
            "eventID":gen.rng.uuid(),"eventType":"AwsCloudTrailInsight","recipientAccountId":acct,"sharedEventID":gen.rng.uuid(),
            "insightDetails":{"state":"Start","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","insightType":"ApiCallRateInsight",
            "insightContext":{"statistics":{"baseline":{"average":0.05},"insight":{"average":2.0}}}},"eventCategory":"Insight"}]});
        write_file(root, &key, &gzip(insight.to_string().as_bytes())?)?;
        manifest.insight_files += 1;
        write_file(root, "AWSLogs/README.txt", b"Downloaded from s3://trail-bucket with `aws s3 sync`.\n")?;
        manifest.other_files += 1;
    }

    manifest.other_files += 1; // manifest.json itself is not a trail log
    let m = serde_json::to_string_pretty(&manifest).map_err(io::Error::from)?;
    fs::write(root.join("manifest.json"), m + "\n")?;
    Ok(manifest)
}

/// Read a manifest written by [`generate`].
pub fn read_manifest(root: &Path) -> io::Result<Manifest> {
    let text = fs::read_to_string(root.join("manifest.json"))?;
    serde_json::from_str(&text).map_err(io::Error::from)
}

/// Every file under `root`, digests included, sorted.
pub fn all_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Paths of every trail log under `root` (sorted).
pub fn log_files(root: &Path) -> Vec<PathBuf> {
    trailwatch::source::discover(&[root.to_path_buf()]).files.into_iter().map(|f| f.path).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let cfg = Config { records: 300, ..Config::default() };
        let ma = generate(&cfg, a.path()).unwrap();
        let mb = generate(&cfg, b.path()).unwrap();
        assert_eq!(ma, mb);
        let fa = log_files(a.path());
        let fb = log_files(b.path());
        assert_eq!(fa.len(), fb.len());
        for (x, y) in fa.iter().zip(&fb) {
            assert_eq!(x.strip_prefix(a.path()).unwrap(), y.strip_prefix(b.path()).unwrap());
            assert_eq!(fs::read(x).unwrap(), fs::read(y).unwrap());
        }
        assert!(ma.matches > 0 && ma.near_misses > 0);
        assert_eq!(ma.windows_5m.values().sum::<u64>() + ma.matches_without_time, ma.matches);
    }
}
