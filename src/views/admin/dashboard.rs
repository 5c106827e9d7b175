//! Admin console pages: dashboard.
