//! Admin console: users.
