//! Metrics: what a metric filter publishes per event, how datapoints
//! aggregate per minute, and how minutes roll up into period windows.

pub mod series;
pub mod statistic;
pub mod transform;
pub mod window;

pub use series::{Series, Stats};
pub use statistic::Statistic;
pub use transform::{Datapoint, MetricTransform};
pub use window::{windows, Window};
