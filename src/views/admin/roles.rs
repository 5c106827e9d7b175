//! Admin console pages: roles.
