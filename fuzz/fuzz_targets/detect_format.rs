//! Arbitrary bytes to the form detector: sniffing the packing, deciding the
//! form and splitting CloudWatch Logs export lines never panic, and the
//! answers depend only on what they promise to look at: `detect` on the
//! first `DETECT_BYTES` bytes, ignoring a UTF-8 byte-order mark and leading
//! blanks; `sniff` on the first 262 bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trailwatch::source::format::{detect, sniff, split_export_line, DETECT_BYTES};

fuzz_target!(|data: &[u8]| {
    let form = detect(data);
    assert_eq!(form, detect(&data[..data.len().min(DETECT_BYTES)]));
    if data.len() + 4 <= DETECT_BYTES && !data.starts_with(b"\xEF\xBB\xBF") {
        let mut marked = b"\xEF\xBB\xBF\n".to_vec();
        marked.extend_from_slice(data);
        assert_eq!(form, detect(&marked), "BOM and a blank line change the form");
    }
    let packing = sniff(data);
    assert_eq!(packing, sniff(&data[..data.len().min(262)]));
    for line in data.split(|b| *b == b'\n') {
        if let Some((stamp, message)) = split_export_line(line) {
            assert_eq!(stamp.len() + 1 + message.len(), line.len());
            assert!(stamp.ends_with(b"Z"));
        }
    }
});
