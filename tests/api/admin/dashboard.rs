//! Admin console tests: dashboard.

#[allow(unused_imports)]
use super::*;
