//! Integration tests: the real binary on real files, and the conformance
//! suite. One test binary, one module per area.

mod util;

mod accounting;
mod alarm;
mod conformance;
mod damage;
mod diff;
mod differential;
mod events;
mod html;
mod iac;
mod manifest;
mod scan;
mod series;
mod silent;
mod sql;
mod tune;
mod verify;
