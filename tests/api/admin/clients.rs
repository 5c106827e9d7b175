//! Admin console tests: clients.

#[allow(unused_imports)]
use super::*;
