//! Metrics: what a metric filter publishes per event, and how datapoints
//! aggregate into minutes and periods.

pub mod transform;

pub use transform::{Datapoint, MetricTransform};
