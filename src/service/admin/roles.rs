//! Admin console: roles.
