//! Evaluation of the common JSON patterns allocates nothing per event once
//! the reusable buffers have grown (a counting global allocator checks it).
//! A separate test binary, because the global allocator is per binary.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use trailwatch::json::Doc;
use trailwatch::pattern::{Event, FilterPattern};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarding the caller's layout to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as for `alloc`/`dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const RECORDS: &[&str] = &[
    r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a","accountId":"1","invokedBy":"x"},"eventTime":"2023-07-10T11:50:01Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","sourceIPAddress":"1.2.3.4","errorCode":"Client.UnauthorizedOperation","requestParameters":{"instancesSet":{"items":[{"instanceId":"i-1"}]}},"responseElements":null,"readOnly":true,"eventType":"AwsApiCall"}"#,
    r#"{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::1:root"},"eventTime":"2023-07-10T11:51:01Z","eventSource":"s3.amazonaws.com","eventName":"PutBucketPolicy","awsRegion":"us-east-1","sourceIPAddress":"1.2.3.4","requestParameters":{"bucketName":"b","policy":"{\"a\":1}"},"eventType":"AwsApiCall","additionalEventData":{"MFAUsed":"No"}}"#,
    r#"{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole"},"eventTime":"2023-07-10T11:52:01Z","eventSource":"sts.amazonaws.com","eventName":"AssumeRole","errorCode":"VpceAccessDenied","eventType":"AwsApiCall","resources":[{"ARN":"arn","type":"AWS::IAM::Role"}]}"#,
];

const PATTERNS: &[&str] = &[
    r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#,
    r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
    r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#,
    r#"{($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy))}"#,
    r#"{ $.resources[*].type = "AWS::IAM::*" }"#,
    r#"{ $.requestParameters.instancesSet.items[0].instanceId = i-1 }"#,
];

#[test]
fn common_json_patterns_do_not_allocate_per_event() {
    let patterns: Vec<FilterPattern> = PATTERNS.iter().map(|p| FilterPattern::parse(p).unwrap()).collect();
    let mut doc = Doc::new();
    // Warm up: let the tape grow to the largest record.
    for r in RECORDS {
        doc.parse_object(r).unwrap();
    }
    let mut matched = 0;
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for _ in 0..100 {
        for r in RECORDS {
            doc.parse_object(r).unwrap();
            let ev = Event { text: r, json: doc.root(r) };
            for p in &patterns {
                matched += usize::from(p.matches(&ev));
            }
        }
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert_eq!(allocations, 0, "parsing and evaluating 300 events allocated {allocations} times");
    assert_eq!(matched, 100 * 5, "the patterns do match some events");
}
