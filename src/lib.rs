//! trailwatch: replay CloudWatch metric filters and alarms offline over
//! downloaded CloudTrail logs.
//!
//! Data flows one way: sources → records → pattern → metric → alarm → report.
#![deny(missing_docs)]

pub mod json;
pub mod pattern;
