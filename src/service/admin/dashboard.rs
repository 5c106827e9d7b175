//! Admin console: dashboard.
