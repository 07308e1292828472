//! Alarms: settings (`spec`), one evaluation (`decide`) and the CloudWatch
//! evaluation state machine over time (`eval`), all pure.

mod decide;
pub mod eval;
pub(crate) mod spec;

pub use decide::decide;
pub use eval::{alarm_episodes, evaluate_periods, evaluate_series, Evaluation, Replay, Tally, Transition};
pub use spec::{
    AlarmSettings, AlarmSpec, AlarmState, Comparison, EvaluationWindow, PeriodSetting, SettingError, Statistic,
    StatisticError, TreatMissing,
};
